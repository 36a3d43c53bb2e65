"""The log projection, applying playback events to resume positions, over fakes that keep the ports' promises: what
it writes, when it commits, and what happens to a batch when the store, the bus or the group gets in the way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from meshkit.avro_wire import AvroSchema, encode
from meshkit.errors import Unavailable
from meshkit.event_consumer import EventConsumer, TopicPartition
from meshkit.writer_schemas import UnknownSchema
from tests.unit.fakes_event_consumer import FakeBus, FakeEventConsumer
from tests.unit.fakes_resume_positions import FakeResumePositions
from ugc_svc.adapters.avro_record_decoder import AvroRecordDecoder
from ugc_svc.adapters.playback_event_avro import from_record, playback_schema, to_record
from ugc_svc.domain.playback import EventType, PlaybackEvent
from ugc_svc.service_layer.project_positions import positions_applier
from ugc_svc.service_layer.projection import ConsumerFactory, LogProjection

TOPIC = "ugc.playback-events"
SCHEMA_ID = 7
T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


class OneSchema:
    """WriterSchemas holding the bundled playback schema under SCHEMA_ID and nothing else."""

    async def schema(self, schema_id: int) -> AvroSchema:
        if schema_id != SCHEMA_ID:
            raise UnknownSchema(schema_id)
        return playback_schema()


def positions_projection(
    open_consumer: ConsumerFactory, positions: FakeResumePositions, **options: float | int | str
) -> LogProjection:
    decoder = AvroRecordDecoder(OneSchema(), playback_schema(), from_record)
    return LogProjection(
        "positions projection",
        open_consumer,
        positions_applier(decoder, positions),
        topic=TOPIC,
        **options,  # type: ignore[arg-type]
    )


def framed(event_id: str, user: str, movie: str, position_ms: int, client_ms: int) -> bytes:
    event = PlaybackEvent(
        event_id=event_id,
        user_id=user,
        movie_id=movie,
        type=EventType.PAUSE,
        position_ms=position_ms,
        client_time=T0 + timedelta(milliseconds=client_ms),
        server_time=T0 + timedelta(seconds=1),
        device="tv",
    )
    return encode(SCHEMA_ID, playback_schema(), to_record(event))


class FailingCommits(FakeEventConsumer):
    """A member whose next `failures` commits raise Unavailable (the bus answered nothing)."""

    def __init__(self, bus: FakeBus, failures: int) -> None:
        super().__init__(bus)
        self.failures = failures

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:  # type: ignore[override]
        if self.failures:
            self.failures -= 1
            raise Unavailable("no answer")
        await super().commit(offsets)


def projection(consumers: list[FakeEventConsumer], positions: FakeResumePositions) -> LogProjection:
    queue = list(consumers)

    async def open_consumer() -> EventConsumer:
        return queue.pop(0)

    return positions_projection(open_consumer, positions, max_wait=0.01, retry_seconds=0.0)


async def one_step(projecting: LogProjection) -> None:
    await projecting.step()


async def test_every_event_becomes_the_newest_position_and_offsets_are_committed_after_the_writes() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    bus.append(0, framed("e2", "ann", "m1", 5_000, 3))
    bus.append(0, framed("e0", "ann", "m1", 9_000, 2))  # late: older client time than e2
    bus.append(1, framed("e3", "bob", "m2", 7_000, 1))
    positions = FakeResumePositions()

    await one_step(projection([FakeEventConsumer(bus)], positions))

    assert positions.stored[("ann", "m1")].position_ms == 5_000
    assert positions.stored[("ann", "m1")].report_id == "e2"
    assert positions.stored[("bob", "m2")].position_ms == 7_000
    assert bus.committed == {TopicPartition(TOPIC, 0): 3, TopicPartition(TOPIC, 1): 1}


async def test_a_store_that_answers_again_gets_the_batch_and_only_then_the_commit() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    positions = FakeResumePositions()
    positions.failures = 3

    await one_step(projection([FakeEventConsumer(bus)], positions))

    assert positions.stored[("ann", "m1")].report_id == "e1"
    assert bus.committed == {TopicPartition(TOPIC, 0): 1}


async def test_a_store_down_past_the_bound_makes_it_rejoin_and_nothing_is_committed_until_written() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    positions = FakeResumePositions()
    positions.failures = -1
    members: list[FakeEventConsumer] = []

    async def open_consumer() -> EventConsumer:
        members.append(FakeEventConsumer(bus))
        return members[-1]

    projecting = positions_projection(
        open_consumer, positions, max_wait=0.01, retry_seconds=0.001, max_retry_seconds=0.0
    )
    stop = asyncio.Event()
    task = asyncio.create_task(projecting.run(stop))
    try:
        for _ in range(5000):
            if projecting.rejoined >= 2:
                break
            await asyncio.sleep(0.001)
        assert projecting.rejoined >= 2
        assert all(member.closed for member in members[:-1])
        assert bus.committed == {}
        positions.failures = 0
        for _ in range(5000):
            if bus.committed:
                break
            await asyncio.sleep(0.001)
    finally:
        stop.set()
        await task
    # The member that joined last read the record again from the last commit (none) and wrote it.
    assert positions.stored[("ann", "m1")].report_id == "e1"
    assert bus.committed == {TopicPartition(TOPIC, 0): 1}
    assert all(member.closed for member in members)


async def test_a_crash_between_the_write_and_the_commit_loses_nothing_and_changes_nothing() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    bus.append(1, framed("e2", "bob", "m1", 2_000, 1))
    positions = FakeResumePositions()
    await one_step(projection([FailingCommits(bus, failures=1)], positions))
    assert bus.committed == {}
    before = dict(positions.stored)

    # The process died before committing: a new one reads the same records again.
    await one_step(projection([FakeEventConsumer(bus)], positions))

    assert positions.writes == 4
    assert positions.stored == before
    assert bus.committed == {TopicPartition(TOPIC, 0): 1, TopicPartition(TOPIC, 1): 1}


async def test_records_that_never_decode_are_passed_over_and_committed_past() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, b"not framed at all")
    bus.append(0, b"\x00\x00\x00\x00\x63" + b"unknown schema id")
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    bus.append(0, framed("e2", "ann", "m1", 1_000, 2)[:-3])  # truncated body
    positions = FakeResumePositions()
    projecting = projection([FakeEventConsumer(bus)], positions)

    await one_step(projecting)

    assert (projecting.applied, projecting.skipped) == (1, 3)
    assert list(positions.stored) == [("ann", "m1")]
    assert bus.committed == {TopicPartition(TOPIC, 0): 4}


async def test_partitions_taken_away_get_what_was_written_committed_inside_the_revoke() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    bus.append(1, framed("e2", "bob", "m1", 1_000, 1))
    positions = FakeResumePositions()
    consumer = FailingCommits(bus, failures=1)
    projecting = projection([consumer], positions)
    await one_step(projecting)  # written, the commit failed: both pending
    assert bus.committed == {}

    consumer.take_away([TopicPartition(TOPIC, 0)])
    commits_before = bus.commits
    await one_step(projecting)

    assert bus.committed == {TopicPartition(TOPIC, 0): 1, TopicPartition(TOPIC, 1): 1}
    assert bus.commits == commits_before + 2  # one inside the revoke, one after the batch


async def test_lost_partitions_are_not_committed() -> None:
    bus = FakeBus(TOPIC)
    bus.append(0, framed("e1", "ann", "m1", 1_000, 1))
    positions = FakeResumePositions()
    consumer = FailingCommits(bus, failures=1)
    projecting = projection([consumer], positions)
    await one_step(projecting)
    consumer.expire()

    await one_step(projecting)  # lost inside the poll: the pending offset is dropped, nothing refused

    assert bus.committed == {}


async def test_the_lag_of_each_owned_partition_is_on_the_metrics() -> None:
    bus = FakeBus(TOPIC)
    for i in range(3):
        bus.append(0, framed(f"e{i}", "ann", "m1", 1_000, i))
    consumer = FakeEventConsumer(bus)

    async def open_consumer() -> EventConsumer:
        return consumer

    projecting = positions_projection(
        open_consumer, FakeResumePositions(), group="lag-test", lag_every_seconds=0.0, max_records=1, max_wait=0.01
    )
    await projecting.step()

    def lag(partition: int) -> float | None:
        labels = {"group": "lag-test", "topic": TOPIC, "partition": str(partition)}
        return REGISTRY.get_sample_value("cinemesh_consumer_lag_records", labels)

    assert (lag(0), lag(1)) == (2.0, 0.0)
    consumer.take_away([TopicPartition(TOPIC, 1)])
    await projecting.step()
    assert (lag(0), lag(1)) == (1.0, None)
