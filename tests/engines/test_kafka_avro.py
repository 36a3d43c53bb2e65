"""An Avro record through Kafka and the Apicurio registry, as the UGC service and the sink will carry events:
confluent-kafka's AvroSerializer registers the schema under the topic's subject, the message is in Confluent's
wire format, and AvroDeserializer gives back exactly what was sent."""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without declaring it; its home is the typed C extension.
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_reader

from devstack.engines.apicurio import Apicurio
from devstack.engines.kafka import Kafka
from tests.engines.test_kafka import first_message

pytestmark = [pytest.mark.engines, pytest.mark.kafka, pytest.mark.apicurio]

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Viewed",
    "namespace": "cinemesh.events",
    "fields": [
        {"name": "user_id", "type": "string"},
        {"name": "movie_id", "type": "string"},
        {"name": "position_ms", "type": "long"},
        {"name": "rating", "type": ["null", "double"], "default": None},
        {"name": "comment", "type": ["null", "string"], "default": None},
        {"name": "finished", "type": "boolean"},
        {"name": "device", "type": {"type": "enum", "name": "Device", "symbols": ["TV", "PHONE", "WEB"]}},
        {"name": "genres", "type": {"type": "array", "items": "string"}},
    ],
}
RECORD: dict[str, Any] = {
    "user_id": "пользователь-ё",
    "movie_id": "tt0112270",
    # Beyond 32 bits: a long must stay a long.
    "position_ms": 5_000_000_000,
    "rating": 8.25,
    "comment": None,
    "finished": True,
    "device": "PHONE",
    "genres": ["Drama", "Фантастика"],
}
# Apicurio lacks the /associations endpoint that the default strategy asks first (a 404 before the fallback).
SERDE_CONF = {"subject.name.strategy.type": "TOPIC"}
MAGIC_BYTE = 0


@pytest.fixture
def registry(apicurio: Apicurio) -> SchemaRegistryClient:
    # A request without a timeout once hung for more than ten minutes.
    return SchemaRegistryClient({"url": apicurio.endpoints()["url"], "timeout": 10})


@pytest.fixture
def topic(kafka: Kafka) -> Iterator[str]:
    admin = AdminClient({"bootstrap.servers": kafka.endpoints()["bootstrap_servers"]})
    name = f"devstack-avro-{uuid.uuid4().hex}"
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(timeout=30)
    yield name
    admin.delete_topics([name])[name].result(timeout=30)


def test_an_avro_record_round_trips_through_kafka_and_the_registry(
    kafka: Kafka, registry: SchemaRegistryClient, topic: str
) -> None:
    servers = kafka.endpoints()["bootstrap_servers"]
    context = SerializationContext(topic, MessageField.VALUE)
    serialize = AvroSerializer(registry, json.dumps(SCHEMA), conf=SERDE_CONF)

    delivered: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": servers, "acks": "all"})
    producer.produce(
        topic, key=b"user-1", value=serialize(RECORD, context), on_delivery=lambda e, _: delivered.append(e)
    )
    assert producer.flush(30) == 0
    assert delivered == [None]

    raw = consume_one(servers, topic)

    # Confluent's wire format: magic byte 0, the schema id (4 bytes, big-endian), then the Avro body.
    assert raw[0] == MAGIC_BYTE
    (schema_id,) = struct.unpack(">I", raw[1:5])
    registered = registry.get_schema(schema_id).schema_str
    assert registered is not None
    assert json.loads(registered) == SCHEMA
    latest = registry.get_latest_version(f"{topic}-value")
    assert latest.schema_id == schema_id
    # The body decodes on its own with the registered schema (fastavro, not the serde under test)...
    assert schemaless_reader(io.BytesIO(raw[5:]), parse_schema(SCHEMA)) == RECORD
    # ...and the deserializer, which fetches the writer's schema by that id, gives back exactly what was sent.
    decoded = AvroDeserializer(registry, conf=SERDE_CONF)(raw, context)
    assert decoded == RECORD
    assert isinstance(decoded, dict)
    assert type(decoded["position_ms"]) is int
    assert type(decoded["rating"]) is float


def consume_one(servers: str, topic: str, *, timeout: float = 60) -> bytes:
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"devstack-avro-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        message = first_message(consumer, timeout=timeout)
        value = message.value()
        assert isinstance(value, bytes)
        return value
    finally:
        consumer.close()
