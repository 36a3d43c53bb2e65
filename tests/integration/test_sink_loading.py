"""The sink's loader on the embedded engines, as `make run` wires it: the SQLite event log (consumer group,
registry, dead-letter topic) and chDB. Events go on the log as the UGC service writes them (Avro, Confluent
framing, keyed by user); every answer of the store must then be what the viewing-time rules give for the events,
however the loading was cut, replayed or interleaved with poison.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from meshkit.avro_wire import encode
from meshkit.bundled_schemas import bundled_schema, value_subject
from meshkit.embedded_log import EmbeddedLog
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from meshkit.record_publisher import OutgoingRecord
from meshkit.sqlite_event_consumer import SqliteEventConsumer
from meshkit.sqlite_record_publisher import SqliteRecordPublisher
from meshkit.sqlite_writer_schemas import SqliteWriterSchemas
from sink_svc.adapters.chdb_playback_analytics import ChdbPlaybackAnalytics
from sink_svc.domain import viewing_time
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.service_layer.load_events import EventLoader, LoadSettings
from tests.playback_streams import StreamShape, avro_record, generate

TOPIC = "ugc.playback-events"
DLQ = "ugc.playback-events.dlq"
PARTITIONS = 4
SCHEMA = bundled_schema("playback_event")
SHAPE = StreamShape(users=12, movies=8, viewings=60)


@dataclass
class RecordingMetrics:
    batches: list[EventBatch] = field(default_factory=list)
    dead_letter_reasons: list[str] = field(default_factory=list)

    def batch(
        self, batch: EventBatch, dead_letter_reasons: Sequence[str], insert_seconds: float, freshness: Sequence[float]
    ) -> None:
        self.batches.append(batch)
        self.dead_letter_reasons.extend(dead_letter_reasons)

    def lag(self, lag: object) -> None:
        pass

    def forget(self, partitions: object) -> None:
        pass


@dataclass
class Sink:
    log_path: Path
    analytics: ChdbPlaybackAnalytics
    schema_id: int


@pytest.fixture
async def sink(tmp_path: Path, chdb_dir: Path) -> AsyncIterator[Sink]:
    log_path = tmp_path / "events.sqlite3"
    log = EmbeddedLog(log_path)
    try:
        for topic in (TOPIC, DLQ):
            log.ensure_topic(topic, PARTITIONS)
        schema_id = EmbeddedSchemaRegistry(log).register(value_subject(TOPIC), SCHEMA)
    finally:
        log.close()
    analytics = ChdbPlaybackAnalytics(chdb_dir, database=f"sink_{uuid.uuid4().hex[:12]}")
    await analytics.prepare()
    try:
        yield Sink(log_path, analytics, schema_id)
    finally:
        await analytics.close()


def framed(event: PlaybackEvent, schema_id: int) -> OutgoingRecord:
    return OutgoingRecord(event.user_id.encode(), encode(schema_id, SCHEMA, avro_record(event)))


async def publish(sink: Sink, records: Sequence[OutgoingRecord], topic: str = TOPIC) -> None:
    publisher = await SqliteRecordPublisher.open(sink.log_path, ack_timeout=5)
    try:
        await publisher.publish(topic, records)
    finally:
        await publisher.close()


async def load_until_done(sink: Sink, group: str, metrics: RecordingMetrics, *, max_events: int = 50) -> None:
    """Runs a loader of `group` until it has committed everything on the topic, then stops it."""
    consumer = await SqliteEventConsumer.open(sink.log_path, group=group, session_timeout=5, lock_timeout=5)
    log = EmbeddedLog(sink.log_path)
    dead_letters = await SqliteRecordPublisher.open(sink.log_path, ack_timeout=5)
    loader = EventLoader(
        consumer=consumer,
        analytics=sink.analytics,
        schemas=SqliteWriterSchemas(EmbeddedSchemaRegistry(log)),
        dead_letters=dead_letters,
        reader=SCHEMA,
        settings=LoadSettings(TOPIC, DLQ, max_events=max_events, max_seconds=0.05),
        metrics=metrics,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(loader.run(stop))
    try:
        async with asyncio.timeout(60):
            while not all(committed(log, group, p) == log.end_offset(TOPIC, p) for p in range(PARTITIONS)):
                assert not running.done(), running
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
        await dead_letters.close()
        log.close()


def committed(log: EmbeddedLog, group: str, partition: int) -> int:
    return log.committed(group, TOPIC, partition) or 0


async def assert_answers_as_the_rules(sink: Sink, events: list[PlaybackEvent]) -> None:
    movies = sorted({event.movie_id for event in events})
    assert await sink.analytics.movie_totals(movies) == viewing_time.movie_totals(events, movies)
    everything = (0, 2**62)
    assert await sink.analytics.top_movies(*everything, 100) == viewing_time.top_movies(events, *everything, 100)
    for user in sorted({event.user_id for event in events})[:5]:
        assert await sink.analytics.watch_history(user, 100) == viewing_time.watch_history(events, user, 100)


async def test_every_event_on_the_log_is_counted_once(sink: Sink) -> None:
    events = generate(11, SHAPE)
    await publish(sink, [framed(event, sink.schema_id) for event in events])
    metrics = RecordingMetrics()

    await load_until_done(sink, "sink", metrics)

    await assert_answers_as_the_rules(sink, events)
    assert sum(len(batch.events) for batch in metrics.batches) == len(events)
    # Batches are cut per partition in offset order, never across partitions.
    by_partition: dict[int, list[EventBatch]] = {}
    for batch in metrics.batches:
        by_partition.setdefault(batch.partition, []).append(batch)
    for loaded in by_partition.values():
        assert [b.first_offset for b in loaded[1:]] == [b.last_offset + 1 for b in loaded[:-1]]


async def test_loading_the_log_again_from_the_start_changes_no_answer(sink: Sink) -> None:
    events = generate(12, SHAPE)
    await publish(sink, [framed(event, sink.schema_id) for event in events])
    await load_until_done(sink, "sink", RecordingMetrics())

    # A new group reads everything again: every event inserted twice, in other batches.
    await load_until_done(sink, "replay", RecordingMetrics(), max_events=7)

    await assert_answers_as_the_rules(sink, events)


async def test_a_loader_stopped_midway_and_started_again_counts_each_event_once(sink: Sink) -> None:
    events = generate(13, SHAPE)
    half = len(events) // 2
    await publish(sink, [framed(event, sink.schema_id) for event in events[:half]])
    await load_until_done(sink, "sink", RecordingMetrics())

    await publish(sink, [framed(event, sink.schema_id) for event in events[half:]])
    await load_until_done(sink, "sink", RecordingMetrics())

    await assert_answers_as_the_rules(sink, events)


async def test_poison_goes_to_the_dead_letter_topic_and_the_records_after_it_load(sink: Sink) -> None:
    events = generate(14, SHAPE)
    user = events[0].user_id.encode()
    valid = framed(events[0], sink.schema_id).value
    poison = [
        OutgoingRecord(user, b"not avro at all"),
        OutgoingRecord(user, framed(events[0], 987_654).value),  # an id the registry never gave
        OutgoingRecord(user, valid[:-3]),  # cut short
        OutgoingRecord(user, _with_negative_position(events[0], sink.schema_id)),  # decodes; breaks a rule
    ]
    records = [framed(event, sink.schema_id) for event in events]
    mixed = records[:10] + poison + records[10:]
    await publish(sink, mixed)
    metrics = RecordingMetrics()

    await load_until_done(sink, "sink", metrics)

    await assert_answers_as_the_rules(sink, events)
    assert sorted(metrics.dead_letter_reasons) == ["invalid-event", "not-avro", "unknown-schema", "unreadable"]
    log = EmbeddedLog(sink.log_path)
    try:
        dead = [record for partition in range(PARTITIONS) for record in log.read(DLQ, partition, 0, 100)]
    finally:
        log.close()
    assert sorted(r.value for r in dead) == sorted(p.value for p in poison)
    reasons = sorted(dict(r.headers)["dlq.reason"] for r in dead)
    assert reasons == [b"invalid-event", b"not-avro", b"unknown-schema", b"unreadable"]
    assert all(dict(r.headers)["dlq.topic"] == TOPIC.encode() for r in dead)


def _with_negative_position(event: PlaybackEvent, schema_id: int) -> bytes:
    """The event's record with position -5: valid Avro (a long), an invalid event."""
    record = {
        "event_id": "e-negative",
        "user_id": event.user_id,
        "movie_id": event.movie_id,
        "type": "play",
        "position_ms": -5,
        "client_time": event.client_time_ms,
        "server_time": event.server_time_ms,
        "device": None,
        "playback_session_id": None,
    }
    return encode(schema_id, SCHEMA, record)


async def test_two_loaders_of_one_group_share_the_partitions_and_count_each_event_once(sink: Sink) -> None:
    events = generate(15, SHAPE)
    await publish(sink, [framed(event, sink.schema_id) for event in events])
    first, second = RecordingMetrics(), RecordingMetrics()

    await asyncio.gather(
        load_until_done(sink, "sink", first, max_events=13), load_until_done(sink, "sink", second, max_events=13)
    )

    await assert_answers_as_the_rules(sink, events)
    # Each event at least once between them (a partition moving between them is read again after its commit).
    assert sum(len(batch.events) for batch in first.batches + second.batches) >= len(events)
