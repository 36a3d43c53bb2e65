"""`make schemas` on the devstack's Kafka: the mesh's topics are created with the configured partition count (the
embedded log's), idempotently; a topic with another count is reported and left alone; and the broker never makes
a topic on its own, so the producer refuses to start until `make schemas` has run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient

from devstack.engines.apicurio import Apicurio
from devstack.engines.kafka import Kafka
from devstack.mesh import free_port
from devstack.topics import TopicMismatch, TopicSpec, ensure_topics
from meshkit.kafka_record_publisher import KafkaRecordPublisher
from tests.contract.event_bus import create_topic, delete_topic, kafka_publisher

pytestmark = [pytest.mark.kafka, pytest.mark.apicurio]
REPO = Path(__file__).resolve().parents[2]


def partitions_of(servers: str, topic: str) -> int | None:
    """The topic's partition count, None when the broker does not have it."""
    admin = AdminClient({"bootstrap.servers": servers})
    metadata = admin.list_topics(topic, timeout=10).topics[topic]
    if metadata.error is not None:
        assert metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, metadata.error
        return None
    return len(metadata.partitions)


def delete_topics(servers: str, topics: list[str]) -> None:
    """Deletes those of `topics` the broker has (a refused `make schemas` stops before making them all)."""
    for topic in topics:
        if partitions_of(servers, topic) is not None:
            delete_topic(servers, topic)


def make_schemas(topic: str, partitions: int, **env_vars: str) -> subprocess.CompletedProcess[str]:
    """`make schemas` as its recipe runs it, for topics of this test's own (the playback topic `topic`, the ratings
    and dead-letter topics beside it: the shared ones keep their partition counts); the devstack engines' ports
    come from the DEVSTACK_* variables this process has, unless `env_vars` names others."""
    env = (
        os.environ
        | {
            "UGC_EVENTS_TOPIC": topic,
            "UGC_RATINGS_TOPIC": f"{topic}.ratings",
            "SINK_DEAD_LETTER_TOPIC": f"{topic}.dlq",
            "UGC_EVENT_LOG_PARTITIONS": str(partitions),
        }
        | env_vars
    )
    return subprocess.run(
        [sys.executable, "-m", "devstack.schemas"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_make_schemas_creates_the_topic_with_the_configured_partitions_once(
    kafka: Kafka, apicurio: Apicurio
) -> None:
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = f"schemas-topic-{uuid.uuid4().hex[:10]}"
    assert partitions_of(servers, topic) is None
    try:
        first = make_schemas(topic, 5)
        assert first.returncode == 0, first.stderr
        assert f"topic {topic} created with 5 partitions" in first.stdout
        assert partitions_of(servers, topic) == 5

        again = make_schemas(topic, 5)
        assert again.returncode == 0, again.stderr
        assert f"topic {topic} exists with 5 partitions" in again.stdout
        assert partitions_of(servers, topic) == 5

        # The topic and the schema are all the publisher needs to start, and it sees the partitions made.
        publisher = await kafka_publisher(
            servers, registry_url=apicurio.endpoints()["url"], topic=topic, ack_timeout=5.0, registry_timeout=10.0
        )
        await publisher.close()
        records = KafkaRecordPublisher(servers, ack_timeout=5.0)
        try:
            assert await asyncio.to_thread(records.partitions, topic) == 5
        finally:
            await records.close()
    finally:
        delete_topics(servers, [topic, f"{topic}.ratings", f"{topic}.dlq"])


def test_a_topic_with_another_partition_count_is_reported_and_left_alone(kafka: Kafka) -> None:
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = create_topic(servers, partitions=2)
    try:
        with pytest.raises(TopicMismatch, match="has 2 partitions, not the 6 configured"):
            ensure_topics(servers, replication_factor=1, topics=[lambda: TopicSpec(topic, 6)])
        assert partitions_of(servers, topic) == 2

        result = make_schemas(topic, 6)
        assert result.returncode == 1
        assert "has 2 partitions, not the 6 configured" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        delete_topics(servers, [topic, f"{topic}.ratings", f"{topic}.dlq"])


def test_make_schemas_with_kafka_unreachable_says_so() -> None:
    result = make_schemas(f"unreachable-{uuid.uuid4().hex[:10]}", 6, DEVSTACK_KAFKA_PORT=str(free_port()))
    assert result.returncode == 1
    assert "refused or cannot be reached" in result.stderr
    assert "Traceback" not in result.stderr
    # One line saying why, not librdkafka's retries one by one.
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_the_devstack_broker_does_not_create_a_topic_on_first_use(kafka: Kafka) -> None:
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = f"never-created-{uuid.uuid4().hex[:10]}"
    delivered: list[KafkaError | None] = []
    # A client that would let the broker create it (librdkafka's producer default), as a stray producer would.
    producer = Producer({"bootstrap.servers": servers, "allow.auto.create.topics": True, "message.timeout.ms": 3000})
    producer.produce(topic, value=b"x", on_delivery=lambda error, _: delivered.append(error))
    assert producer.flush(30) == 0
    (error,) = delivered
    assert error is not None
    assert error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._MSG_TIMED_OUT), error
    assert partitions_of(servers, topic) is None
