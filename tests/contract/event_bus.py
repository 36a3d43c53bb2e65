"""Both event buses as the contract suite sees them: a publisher, and a reader of the bus itself (a Kafka consumer;
the embedded log's own reader on a separate connection, as the sink opens it) with the registry that resolves the
schema id in each record."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without declaring it; its home is the typed C extension.
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient

from meshkit.avro_wire import AvroSchema
from meshkit.embedded_log import EmbeddedLog
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from ugc_svc.bootstrap import open_event_publisher
from ugc_svc.domain.playback import EventType, PlaybackEvent
from ugc_svc.ports.event_publisher import EventPublisher
from ugc_svc.settings import UgcSettings

PARTITIONS = 4
RUN = uuid.uuid4().hex[:8]
BASE_TIME = datetime(2026, 11, 30, 21, 15, 7, 123000, tzinfo=UTC)
TYPES = list(EventType)


@dataclass(frozen=True)
class Record:
    """One record as it is on the bus."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class Bus:
    name: str
    topic: str
    publisher: EventPublisher
    read: Callable[[int], list[Record]]
    """Every record on the topic, once at least this many are there (fails after a while otherwise)."""
    total: Callable[[], int]
    """How many records the topic holds, exactly."""
    schema: Callable[[int], AvroSchema]
    """The registry's schema for an id."""


def event(user: str, n: int, **overrides: object) -> PlaybackEvent:
    fields: dict[str, object] = {
        "event_id": f"{RUN}-{user}-{n}-{uuid.uuid4().hex[:6]}",
        "user_id": user,
        "movie_id": f"tt{n % 97:07d}",
        "type": TYPES[n % len(TYPES)],
        "position_ms": n * 1_000 + 7,
        "client_time": BASE_TIME + timedelta(milliseconds=n),
        "server_time": BASE_TIME + timedelta(seconds=1, milliseconds=n),
        "device": "tv" if n % 2 else None,
        "playback_session_id": f"s-{user}" if n % 3 else None,
    }
    fields.update(overrides)
    return PlaybackEvent(**fields)  # type: ignore[arg-type]


# --- Kafka ----------------------------------------------------------------------------------------------------------


def create_topic(servers: str, partitions: int = PARTITIONS, config: dict[str, str] | None = None) -> str:
    name = f"contract-events-{uuid.uuid4().hex[:12]}"
    admin = AdminClient({"bootstrap.servers": servers})
    topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
    admin.create_topics([topic])[name].result(timeout=30)
    return name


def delete_topic(servers: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # kept until the result: destroying it cancels the call
    admin.delete_topics([topic])[topic].result(timeout=30)


class KafkaReader:
    def __init__(self, servers: str, topic: str, partitions: int = PARTITIONS) -> None:
        self.servers = servers
        self.topic = topic
        self.partitions = partitions

    def total(self) -> int:
        consumer = self._consumer()
        try:
            marks = [
                consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)
                for p in range(self.partitions)
            ]
        finally:
            consumer.close()
        return sum(high - low for low, high in marks)

    def read(self, at_least: int, timeout: float = 60.0) -> list[Record]:
        consumer = self._consumer()
        records: list[Record] = []
        try:
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.partitions)])
            deadline = time.monotonic() + timeout
            while len(records) < at_least:
                if time.monotonic() > deadline:
                    pytest.fail(f"{len(records)} of {at_least} records on {self.topic} within {timeout:.0f} s")
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error() is not None:
                    pytest.fail(f"consumer error: {message.error()}")
                value = message.value()
                assert isinstance(value, bytes)
                records.append(Record(message.partition() or 0, message.offset() or 0, message.key(), value))
        finally:
            consumer.close()
        return records

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.servers,
                "group.id": f"contract-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )


def registry_schema(client: SchemaRegistryClient) -> Callable[[int], AvroSchema]:
    def schema(schema_id: int) -> AvroSchema:
        text = client.get_schema(schema_id).schema_str
        assert text is not None
        return AvroSchema.parse(text)

    return schema


# --- the embedded log -------------------------------------------------------------------------------------------


class LogReader:
    """The log's reader on its own connection, as another process (the sink) opens it."""

    def __init__(self, path: Path, topic: str) -> None:
        self.path = path
        self.topic = topic

    def read(self, at_least: int) -> list[Record]:
        with self._open() as log:
            partitions = log.partitions(self.topic)
            records = [
                Record(r.partition, r.offset, r.key, r.value)
                for p in range(partitions)
                for r in log.read(self.topic, p, 0, limit=1_000_000)
            ]
        assert len(records) >= at_least, f"{len(records)} of {at_least} records in {self.path}"
        return records

    def total(self) -> int:
        with self._open() as log:
            return sum(log.end_offset(self.topic, p) for p in range(log.partitions(self.topic)))

    def schema(self, schema_id: int) -> AvroSchema:
        with self._open() as log:
            return EmbeddedSchemaRegistry(log).schema(schema_id)

    @contextlib.contextmanager
    def _open(self) -> Iterator[EmbeddedLog]:
        log = EmbeddedLog(self.path)
        try:
            yield log
        finally:
            log.close()


async def embedded_publisher(path: Path, topic: str, *, partitions: int, ack_timeout: float) -> EventPublisher:
    """The embedded profile's publisher, opened as the service opens it."""
    settings = UgcSettings(
        profile="embedded",
        event_log_path=path,
        events_topic=topic,
        event_log_partitions=partitions,
        event_bus_timeout_seconds=ack_timeout,
    )
    return await open_event_publisher(settings)


async def kafka_publisher(
    servers: str, *, registry_url: str, topic: str, ack_timeout: float, registry_timeout: float
) -> EventPublisher:
    """The production profile's publisher, opened (and checked) as the service opens it."""
    settings = UgcSettings(
        profile="production",
        kafka_bootstrap_servers=servers,
        schema_registry_url=registry_url,
        events_topic=topic,
        event_bus_timeout_seconds=ack_timeout,
        schema_registry_timeout_seconds=registry_timeout,
    )
    return await open_event_publisher(settings)
