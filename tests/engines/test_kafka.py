"""Kafka through confluent-kafka, the client the services use: one message there and back."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without declaring it; its home is the typed C extension.
from confluent_kafka.cimpl import NewTopic

from devstack.engines.kafka import Kafka

pytestmark = [pytest.mark.engines, pytest.mark.kafka]


def test_a_produced_message_is_consumed(kafka: Kafka) -> None:
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = f"devstack-smoke-{uuid.uuid4().hex}"
    admin = AdminClient({"bootstrap.servers": servers})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)

    delivered: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": servers, "acks": "all"})
    producer.produce(topic, key=b"movie-1", value="просмотр".encode(), on_delivery=lambda e, _: delivered.append(e))
    assert producer.flush(30) == 0
    assert delivered == [None]

    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"devstack-smoke-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        message = first_message(consumer, timeout=60)
        assert (message.key(), message.value()) == (b"movie-1", "просмотр".encode())
    finally:
        consumer.close()
        admin.delete_topics([topic])[topic].result(timeout=30)


def first_message(consumer: Consumer, *, timeout: float) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        error = message.error()
        if error is not None:
            pytest.fail(f"consumer error: {error}")
        return message
    pytest.fail(f"no message within {timeout:.0f} s")
