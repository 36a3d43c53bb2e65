"""The sink under faults, as its own process in the production profile (Kafka consumer group, the Apicurio registry,
ClickHouse 18.16 from the devstack), loading a topic of the test's own that a producer fills the way the UGC
service does (Avro in Confluent framing, keyed by user), with generated playback streams (duplicates, client
retries, late events, unknown types). However the loading was cut, every answer of the store must then be what
the viewing-time rules give for the events on the topic, each event id counted once:

- the sink killed (SIGKILL) again and again while events arrive, and started again each time;
- ClickHouse stopped for real (the devstack's server process) while events arrive: health NOT_SERVING while it
  is down, nothing lost once it is back, and the group's lag back to 0;
- two sinks in one group: one joins mid-stream, the other stops mid-stream (partitions move both times);
- poison (bytes that are not Avro, an unknown schema id, a body cut short, an event that breaks the rules) goes to
  the dead-letter topic with the reason in headers, and the records after it load;
- a compatible new writer schema (an added optional field) loads without a restart; an incompatible one (a new
  required field) is refused by the registry with 409.

Each test prints what it saw (kills, seconds down, rows stored, figures) in the run's output.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from devstack.engines.apicurio import Apicurio
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.kafka import Kafka
from meshkit.avro_wire import AvroSchema, encode
from meshkit.bundled_schemas import value_subject
from sink_svc.domain.playback_event import PlaybackEvent
from tests.e2e.sink_process import (
    NOT_SERVING,
    SCHEMA,
    SERVING,
    Rig,
    SinkProcess,
    report,
    sink_rig,
    sink_service,
    wait_for,
)
from tests.playback_streams import StreamShape, avro_record, generate

pytestmark = [pytest.mark.kafka, pytest.mark.apicurio, pytest.mark.clickhouse]

# About 8,500 events (copies included) over 40 users and 25 movies.
STREAM = StreamShape(users=40, movies=25, viewings=1000)
CAUGHT_UP_LIMIT = 120.0


@pytest.fixture
def rig(kafka: Kafka, apicurio: Apicurio, clickhouse: ClickHouse) -> Iterator[Rig]:
    with sink_rig(kafka, apicurio, clickhouse) as made:
        yield made


class Stream:
    """`records` put on the topic in a thread, at most `per_second` a second until hurried."""

    def __init__(self, rig: Rig, records: list[tuple[bytes, bytes]], per_second: float) -> None:
        self.total = len(records)
        self.sent = [0]
        self.hurry = threading.Event()
        self._task = asyncio.create_task(
            asyncio.to_thread(rig.produce, records, per_second=per_second, hurry=self.hurry, progress=self.sent)
        )

    def running(self) -> bool:
        return not self._task.done()

    async def finish(self) -> None:
        self.hurry.set()
        await self._task


async def until(done: Callable[[], bool], limit: float, what: str, sink: SinkProcess | None = None) -> float:
    return await asyncio.to_thread(wait_for, done, limit, what, sink)


def _commits_beyond(rig: Rig, offsets: int) -> Callable[[], bool]:
    return lambda: sum(rig.committed()) > offsets


def loaded(sink: SinkProcess) -> float:
    return sink.metric("sink_events_loaded_total") or 0.0


# --- the sink killed again and again ------------------------------------------------------------------------------


async def test_the_sink_killed_again_and_again_mid_stream_counts_every_event_once(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = generate(21, STREAM)
    stream = Stream(rig, rig.keyed(events), per_second=400)
    # Batches that close after a second: a kill finds records read and not yet stored, or a batch in flight.
    env = rig.env(batch_max_seconds="1")
    kills = []
    try:
        for round_ in range(3):
            with sink_service(env, tmp_path / f"sink-{round_}.log") as sink:
                # Killed once it has committed some of the stream since it started, while records still arrive.
                await until(_commits_beyond(rig, sum(rig.committed()) + 100), 60, "the sink commits", sink)
                assert stream.running(), "the stream ended before the kill: slow the producer down"
                sink.kill()
                kills.append((stream.sent[0], sum(rig.committed())))
        await stream.finish()
        with sink_service(env, tmp_path / "sink-last.log") as sink:
            seconds = await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "after the kills", sink)
            await rig.assert_answers_as_the_rules(events)
    finally:
        await stream.finish()

    rows, distinct, _ = rig.stored_counts()
    report(
        f"sink killed 3 times mid-stream: at each kill (records on the topic, committed) = {kills}; the last sink "
        f"caught up {seconds:.1f} s after its start; {len(events)} records ({distinct} distinct events) → "
        f"{rows} rows in ClickHouse before merges, every answer as the rules give",
        capsys,
    )


# --- ClickHouse down ------------------------------------------------------------------------------------------------


async def test_clickhouse_down_makes_the_sink_not_serving_and_loses_nothing_once_it_is_back(
    rig: Rig, clickhouse: ClickHouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = generate(22, STREAM)
    stream = Stream(rig, rig.keyed(events), per_second=400)
    try:
        with sink_service(rig.env(), tmp_path / "sink.log") as sink:
            await until(lambda: sum(rig.committed()) > 200, 60, "the sink commits", sink)
            # The devstack's server process itself, stopped as `devstack stop` stops it.
            await asyncio.to_thread(clickhouse.stop)
            stopped = time.monotonic()
            try:
                noticed = await until(lambda: sink.health() == NOT_SERVING, 30, "NOT_SERVING with ClickHouse down")
                # Down longer than the session, so that the sink's batch outlives its membership of the group.
                seen = []
                while time.monotonic() - stopped < noticed + 10:
                    seen.append(sink.health())
                    await asyncio.sleep(0.5)
                committed_while_down = sum(rig.committed())
            finally:
                await asyncio.to_thread(clickhouse.start)
            down = time.monotonic() - stopped
            assert set(seen) == {NOT_SERVING}, seen
            await stream.finish()
            back = await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "after ClickHouse came back", sink)
            await until(lambda: sink.health() == SERVING, 30, "SERVING again", sink)
            # The sink's own view of its lag, refreshed every few seconds.
            await until(lambda: sink.metric("sink_consumer_lag") == 0, 30, "the sink's lag gauge at 0", sink)
            await rig.assert_answers_as_the_rules(events)
    finally:
        await stream.finish()
        if not clickhouse.status().healthy:
            await asyncio.to_thread(clickhouse.start)

    # Retrying its batch, the sink does not poll: down longer than the session, it leaves the group and rejoins.
    rejoined = sink.log.read_text().count("partitions lost")
    report(
        f"ClickHouse stopped for {down:.1f} s under a stream of 400 events/s: NOT_SERVING {noticed:.1f} s after the "
        f"stop and on all {len(seen)} checks while down; {committed_while_down} records committed at the end of "
        f"the outage, all {len(events)} after it, lag 0 {back:.1f} s after ClickHouse was back; the sink lost its "
        f"partitions to a rebalance {rejoined} time(s) meanwhile",
        capsys,
    )


# --- two sinks in one group -----------------------------------------------------------------------------------------


async def test_a_sink_joining_and_another_leaving_mid_stream_count_every_event_once(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = generate(23, STREAM)
    stream = Stream(rig, rig.keyed(events), per_second=400)
    # Batches that close late, so that partitions move while the first sink holds records of them.
    env = rig.env(batch_max_seconds="2", batch_max_events="5000")
    try:
        with sink_service(env, tmp_path / "first.log") as first:
            await until(lambda: sum(rig.committed()) > 200, 60, "the first sink commits", first)
            with sink_service(env, tmp_path / "second.log") as second:
                await until(lambda: loaded(second) > 0, 60, "the second sink loads a batch", second)
                first_before = loaded(first)
                await until(lambda: loaded(first) > first_before, 60, "the first sink loads beside it", first)
                assert stream.running(), "the stream ended before the first sink left: slow the producer down"
                by_first = loaded(first)
                assert first.stop() == 0, first.log_tail()
                left_at = (stream.sent[0], sum(rig.committed()))
                await stream.finish()
                await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "the second sink alone", second)
                by_second = loaded(second)
                # It was given partitions when it joined, and the first one's when that one left.
                assert second.log.read_text().count("partitions assigned") >= 2, second.log_tail()
        await rig.assert_answers_as_the_rules(events)
    finally:
        await stream.finish()

    report(
        f"two sinks in one group: the first had loaded {by_first:.0f} events when it was stopped, the second "
        f"{by_second:.0f} in all "
        f"({len(events)} records on the topic); the first left at (records on the topic, committed) = {left_at}",
        capsys,
    )


# --- poison ---------------------------------------------------------------------------------------------------------


def _negative_position(rig: Rig, event: PlaybackEvent) -> bytes:
    """Valid Avro (position is a long) of an event that breaks a rule (position -5)."""
    record = {
        "event_id": f"{event.event_id}-negative",
        "user_id": event.user_id,
        "movie_id": event.movie_id,
        "type": "play",
        "position_ms": -5,
        "client_time": event.client_time_ms,
        "server_time": event.server_time_ms,
        "device": None,
        "playback_session_id": None,
    }
    return encode(rig.schema_id, SCHEMA, record)


async def test_poison_goes_to_the_dead_letter_topic_with_its_reason_and_the_records_after_it_load(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = generate(24, StreamShape(users=3, movies=5, viewings=60))
    user = events[0].user_id
    # One user's records, so all of them share one partition: the poison sits between valid records.
    mine = [event for event in events if event.user_id == user]
    key = user.encode()
    valid = rig.framed(mine[0])
    poison = {
        "not-avro": b"not avro at all",
        "unknown-schema": rig.framed(mine[0], schema_id=2_000_000_000),
        "unreadable": valid[:-3],
        "invalid-event": _negative_position(rig, mine[0]),
    }
    half = len(mine) // 2
    records = [
        *rig.keyed(mine[:half]),
        *((key, value) for value in poison.values()),
        *rig.keyed(mine[half:]),
        *rig.keyed([event for event in events if event.user_id != user]),
    ]
    await asyncio.to_thread(rig.produce, records)

    with sink_service(rig.env(), tmp_path / "sink.log") as sink:
        seconds = await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "with poison on the topic", sink)
        assert sink.health() == SERVING, sink.log_tail()
    await rig.assert_answers_as_the_rules(events)

    dead = await asyncio.to_thread(rig.dead_letters, len(poison))
    assert len(dead) == len(poison), dead
    by_reason = {letter.headers["dlq.reason"].decode(): letter for letter in dead}
    assert {reason: letter.value for reason, letter in by_reason.items()} == poison
    partitions = {letter.headers["dlq.partition"] for letter in dead}
    assert len(partitions) == 1, partitions
    offsets = sorted(int(letter.headers["dlq.offset"]) for letter in dead)
    assert offsets == list(range(half, half + len(poison))), offsets
    for letter in dead:
        assert letter.key == key
        assert letter.headers["dlq.topic"] == rig.topic.encode()
        assert letter.headers["dlq.detail"], letter
    report(
        f"poison: {len(poison)} records dead-lettered with reasons {sorted(by_reason)}, the {len(events)} valid "
        f"records around them loaded; caught up {seconds:.1f} s after the sink started",
        capsys,
    )


# --- schema evolution -----------------------------------------------------------------------------------------------


def _evolved(required: bool) -> AvroSchema:
    """The event schema with one field more: optional (a default), or required (none)."""
    document = json.loads(SCHEMA.text)
    added: dict[str, object] = {"name": "referrer", "type": "string"}
    if not required:
        added = {"name": "referrer", "type": ["null", "string"], "default": None}
    document["fields"].append(added)
    return AvroSchema.parse(json.dumps(document))


async def test_a_compatible_new_writer_schema_loads_without_a_restart_and_an_incompatible_one_is_refused(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = generate(25, StreamShape(users=10, movies=8, viewings=120))
    half = len(events) // 2
    client = SchemaRegistryClient({"url": rig.registry_url, "timeout": 10})
    subject = value_subject(rig.topic)
    with sink_service(rig.env(), tmp_path / "sink.log") as sink:
        await asyncio.to_thread(rig.produce, rig.keyed(events[:half]))
        await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "with the first schema", sink)

        optional = _evolved(required=False)
        new_id = client.register_schema(subject, Schema(optional.text, "AVRO"))
        assert new_id != rig.schema_id
        newer = [
            (event.user_id.encode(), _encode_with_referrer(rig, new_id, optional, event)) for event in events[half:]
        ]
        await asyncio.to_thread(rig.produce, newer)
        seconds = await asyncio.to_thread(rig.wait_caught_up, CAUGHT_UP_LIMIT, "with the new schema", sink)
        assert sink.process.poll() is None
        assert sink.health() == SERVING
        assert (sink.metric("sink_dead_letters_total") or 0) == 0, sink.log_tail()
    await rig.assert_answers_as_the_rules(events)

    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(_evolved(required=True).text, "AVRO"))
    assert refused.value.http_status_code == 409, refused.value
    versions = client.get_versions(subject)
    assert len(versions) == 2, versions
    report(
        f"schema evolution: {len(events) - half} events written with schema id {new_id} (an optional field more) "
        f"loaded by the running sink {seconds:.1f} s after they were on the topic, none dead-lettered; a new "
        f"required field refused with {refused.value.http_status_code} (error code {refused.value.error_code})",
        capsys,
    )


def _encode_with_referrer(rig: Rig, schema_id: int, schema: AvroSchema, event: PlaybackEvent) -> bytes:
    return encode(schema_id, schema, avro_record(event) | {"referrer": "newsletter"})
