"""The EventConsumer port, one suite over both adapters: the embedded SQLite log (groups in the same file) and Kafka
from the devstack (a topic of 4 partitions created here for each test). Every promise of meshkit/event_consumer.py
is checked against records this suite publishes with the RecordPublisher port, and against what other members
of the same group read afterwards."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack.engines.kafka import Kafka
from devstack.mesh import free_port
from meshkit.embedded_log import EmbeddedLog
from meshkit.errors import Unavailable
from meshkit.event_consumer import CommitRefused, ConsumedRecord, EventConsumer, TopicPartition
from meshkit.kafka_event_consumer import KafkaEventConsumer
from meshkit.kafka_record_publisher import KafkaRecordPublisher
from meshkit.partitioner import partition_for
from meshkit.record_publisher import OutgoingRecord, RecordPublisher
from meshkit.sqlite_event_consumer import SqliteEventConsumer
from meshkit.sqlite_record_publisher import SqliteRecordPublisher
from tests.contract.event_bus import create_topic, delete_topic

ADAPTERS = ["sqlite", "kafka"]
REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 4
# Sessions as short as each bus allows: Kafka's broker refuses less than group.min.session.timeout.ms (6 s).
SESSION = {"sqlite": 1.0, "kafka": 6.0}
# commit and lag answer within this (the adapters' request timeout).
TIMEOUT = 5.0
# The most a test waits for something the bus will do: a guard against a hang, not a latency target.
PATIENCE = 60.0


@dataclass
class Bus:
    name: str
    topic: str
    publisher: RecordPublisher
    new_consumer: Callable[[str], Awaitable[EventConsumer]]
    """A consumer (not yet subscribed) in the named group."""
    address: str
    """The log's path or Kafka's bootstrap servers, for another process."""
    session_timeout: float
    consumers: list[EventConsumer] = field(default_factory=list)

    async def member(self, group: str, listener: Journal | None = None) -> EventConsumer:
        consumer = await self.new_consumer(group)
        self.consumers.append(consumer)
        await consumer.subscribe([self.topic], listener)
        return consumer

    async def publish(self, keys: list[str], tag: str = "v") -> list[OutgoingRecord]:
        records = [OutgoingRecord(key.encode(), f"{tag}-{key}-{i}".encode()) for i, key in enumerate(keys)]
        await self.publisher.publish(self.topic, records)
        return records


@pytest.fixture(params=ADAPTERS)
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bus]:
    name = request.param
    if name == "sqlite":
        path = tmp_path / "events.sqlite3"
        log = EmbeddedLog(path)
        log.ensure_topic("contract-consumer", PARTITIONS)
        log.close()

        async def sqlite_consumer(group: str) -> EventConsumer:
            return await SqliteEventConsumer.open(
                path, group=group, session_timeout=SESSION[name], lock_timeout=TIMEOUT
            )

        publisher: RecordPublisher = await SqliteRecordPublisher.open(path, ack_timeout=10.0)
        bus = Bus(name, "contract-consumer", publisher, sqlite_consumer, str(path), SESSION[name])
        try:
            yield bus
        finally:
            await close_all(bus)
        return
    kafka: Kafka = request.getfixturevalue("kafka")
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = create_topic(servers, PARTITIONS)

    async def kafka_consumer(group: str) -> EventConsumer:
        return KafkaEventConsumer(servers, group=group, session_timeout=SESSION[name], timeout=TIMEOUT)

    bus = Bus(name, topic, KafkaRecordPublisher(servers, ack_timeout=10.0), kafka_consumer, servers, SESSION[name])
    try:
        yield bus
    finally:
        await close_all(bus)
        delete_topic(servers, topic)


async def close_all(bus: Bus) -> None:
    for consumer in bus.consumers:
        await consumer.close()
    await bus.publisher.close()


def new_group() -> str:
    return f"contract-group-{uuid.uuid4().hex[:10]}"


class Journal:
    """A listener that writes what it hears, in order, into a journal it may share with other members; `on_revoke`
    runs inside the revoke call, while the member still owns the partitions."""

    def __init__(self, name: str, entries: list[tuple[str, str, frozenset[TopicPartition]]] | None = None) -> None:
        self.name = name
        self.entries = entries if entries is not None else []
        self.on_revoke: Callable[[Collection[TopicPartition]], Awaitable[None]] | None = None

    async def assigned(self, partitions: Collection[TopicPartition]) -> None:
        self.entries.append((self.name, "assigned", frozenset(partitions)))

    async def revoked(self, partitions: Collection[TopicPartition]) -> None:
        if self.on_revoke is not None:
            await self.on_revoke(partitions)
        self.entries.append((self.name, "revoked", frozenset(partitions)))

    async def lost(self, partitions: Collection[TopicPartition]) -> None:
        self.entries.append((self.name, "lost", frozenset(partitions)))


async def read(consumer: EventConsumer, count: int, *, max_records: int = 100) -> list[ConsumedRecord]:
    """Poll until `count` records came; fail if they do not within PATIENCE (or if more come)."""
    records: list[ConsumedRecord] = []
    deadline = time.monotonic() + PATIENCE
    while len(records) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{len(records)} of {count} records within {PATIENCE:.0f} s")
        records += await consumer.poll(max_records, 0.5)
    assert len(records) == count, f"{len(records)} records, expected {count}"
    return records


async def until(
    condition: Callable[[], bool],
    *,
    polling: Collection[EventConsumer],
    what: str,
    into: list[ConsumedRecord] | None = None,
) -> None:
    """Keep `polling` members polling until `condition` holds; what they read goes `into` the list, if given."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {PATIENCE:.0f} s: {what}")
        for got in await asyncio.gather(*(consumer.poll(100, 0.2) for consumer in polling)):
            if into is not None:
                into.extend(got)


def next_offsets(records: list[ConsumedRecord]) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        offsets[record.topic_partition] = max(offsets.get(record.topic_partition, 0), record.offset + 1)
    return offsets


KEYS = [f"user-{i}" for i in range(12)]


# --- reading ---------------------------------------------------------------------------------------------------


async def test_a_new_group_reads_every_record_from_the_start(bus: Bus) -> None:
    sent = await bus.publish(KEYS * 3)
    consumer = await bus.member(new_group())

    got = await read(consumer, len(sent))

    assert sorted((r.key, r.value) for r in got) == sorted((s.key, s.value) for s in sent)
    for record in got:
        assert record.topic == bus.topic
        assert record.key is not None
        assert record.partition == partition_for(record.key, PARTITIONS)
        assert record.timestamp_ms > 1_700_000_000_000
    # Offsets of each partition from 0, none skipped, none twice.
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record in got:
        by_partition[record.partition].append(record.offset)
    for offsets in by_partition.values():
        assert offsets == list(range(len(offsets)))
    assert consumer.assignment() == {TopicPartition(bus.topic, p) for p in range(PARTITIONS)}


async def test_records_of_a_partition_come_in_offset_order(bus: Bus) -> None:
    for call in range(5):
        await bus.publish(KEYS * 2, tag=f"call{call}")
    consumer = await bus.member(new_group())

    got = await read(consumer, 5 * 2 * len(KEYS), max_records=7)

    offsets: dict[int, list[int]] = defaultdict(list)
    values: dict[bytes, list[bytes]] = defaultdict(list)
    for record in got:
        offsets[record.partition].append(record.offset)
        assert record.key is not None
        values[record.key].append(record.value)
    for partition_offsets in offsets.values():
        assert partition_offsets == sorted(partition_offsets)
    for key in KEYS:
        # Published in call order, and within a call in list order (the key's two records i and i + 12).
        i = KEYS.index(key)
        expected = [f"call{c}-{key}-{j}".encode() for c in range(5) for j in (i, i + len(KEYS))]
        assert values[key.encode()] == expected


async def test_members_of_different_groups_read_independently(bus: Bus) -> None:
    sent = await bus.publish(KEYS)
    first, second = await bus.member(new_group()), await bus.member(new_group())
    first_records = await read(first, len(sent))
    await first.commit(next_offsets(first_records))
    assert len(await read(second, len(sent))) == len(sent)


# --- commits ---------------------------------------------------------------------------------------------------


async def test_a_new_member_resumes_after_the_last_commit(bus: Bus) -> None:
    group = new_group()
    sent = await bus.publish(KEYS * 3)
    first = await bus.member(group)
    got = await read(first, len(sent))
    # Processed (and committed) the first two records of each partition, plus one commit that moves back.
    committed = {tp: min(2, end) for tp, end in next_offsets(got).items()}
    await first.commit(dict.fromkeys(committed, 1))
    await first.commit(committed)
    await first.close()
    bus.consumers.remove(first)

    second = await bus.member(group)
    rest = await read(second, len(sent) - sum(committed.values()))

    starts = {tp: min(r.offset for r in rest if r.topic_partition == tp) for tp in {r.topic_partition for r in rest}}
    assert starts == {tp: 2 for tp, end in next_offsets(got).items() if end > 2}
    assert sorted(r.value for r in rest) == sorted(r.value for r in got if r.offset >= 2)
    # Nothing more: the committed records are not delivered again.
    assert await second.poll(100, 0.5) == []


async def test_records_read_but_not_committed_are_delivered_again(bus: Bus) -> None:
    group = new_group()
    sent = await bus.publish(KEYS * 2)
    first = await bus.member(group)
    got = await read(first, len(sent))
    await first.close()  # as a restart: read, processed, never committed
    bus.consumers.remove(first)

    second = await bus.member(group)
    again = await read(second, len(sent))
    assert sorted((r.partition, r.offset, r.value) for r in again) == sorted(
        (r.partition, r.offset, r.value) for r in got
    )


async def test_closing_revokes_so_the_member_can_commit_what_it_processed(bus: Bus) -> None:
    group = new_group()
    sent = await bus.publish(KEYS * 2)
    listener = Journal("leaving")
    leaving = await bus.member(group, listener)
    got = await read(leaving, len(sent))
    owned = leaving.assignment()

    async def flush(partitions: Collection[TopicPartition]) -> None:
        await leaving.commit({tp: end for tp, end in next_offsets(got).items() if tp in partitions})

    listener.on_revoke = flush
    await leaving.close()
    bus.consumers.remove(leaving)
    assert ("leaving", "revoked", owned) in listener.entries

    await bus.publish(["after"])
    successor = await bus.member(group)
    (only,) = await read(successor, 1)
    assert only.value == b"v-after-0"


async def test_a_commit_for_a_partition_never_owned_is_refused(bus: Bus) -> None:
    consumer = await bus.member(new_group())
    with pytest.raises(CommitRefused):
        await consumer.commit({TopicPartition(bus.topic, 0): 1})


# --- groups: splitting, revoking, sessions ---------------------------------------------------------------------


async def test_two_members_split_the_partitions_and_the_owner_flushes_before_the_other_reads(bus: Bus) -> None:
    group = new_group()
    sent = await bus.publish(KEYS * 4)
    journal: list[tuple[str, str, frozenset[TopicPartition]]] = []
    first_listener = Journal("first", journal)
    first = await bus.member(group, first_listener)
    # The first member reads a little of everything, committing nothing yet.
    first_read: list[ConsumedRecord] = []
    deadline = time.monotonic() + PATIENCE
    while len({r.partition for r in first_read}) < PARTITIONS:
        assert time.monotonic() < deadline, "the first member did not read every partition"
        first_read += await first.poll(1, 0.5)
    processed = next_offsets(first_read)

    async def flush(partitions: Collection[TopicPartition]) -> None:
        # Flush-and-commit what was processed of the partitions that move away, while they are still ours.
        await first.commit({tp: processed[tp] for tp in partitions if tp in processed})

    first_listener.on_revoke = flush
    second_records: list[ConsumedRecord] = []
    second = await bus.member(group, Journal("second", journal))

    async def second_polls() -> None:
        got = await second.poll(100, 0.2)
        for record in got:
            # When the second member reads a partition, the first has already handed it over.
            assert ("first", "revoked") in {(who, what) for who, what, tps in journal if record.topic_partition in tps}
        second_records.extend(got)

    deadline = time.monotonic() + PATIENCE
    while not (len(first.assignment()) == len(second.assignment()) == PARTITIONS // 2):
        assert time.monotonic() < deadline, f"no split within {PATIENCE:.0f} s: {journal}"
        await asyncio.gather(first.poll(1, 0.2), second_polls())
    moved = second.assignment()
    assert first.assignment() | moved == {TopicPartition(bus.topic, p) for p in range(PARTITIONS)}
    assert not first.assignment() & moved
    # Let the second member read what it took over: it starts at exactly what the first committed for it.
    expected = sum(1 for record in sent if partition_for(record.key, PARTITIONS) in {tp.partition for tp in moved})
    expected -= sum(processed.get(tp, 0) for tp in moved)
    while len(second_records) < expected:
        assert time.monotonic() < deadline, f"{len(second_records)} of {expected} records on the moved partitions"
        await asyncio.gather(first.poll(1, 0.2), second_polls())
    ends: dict[int, int] = defaultdict(int)
    for record in sent:
        ends[partition_for(record.key, PARTITIONS)] += 1
    for tp in moved:
        offsets = sorted(r.offset for r in second_records if r.topic_partition == tp)
        assert offsets == list(range(processed.get(tp, 0), ends[tp.partition])), tp
    # The revoke was for exactly what moved; the first never heard "lost".
    assert frozenset().union(*(tps for who, what, tps in journal if (who, what) == ("first", "revoked"))) == moved
    assert not [entry for entry in journal if entry[1] == "lost"]


async def test_a_commit_for_a_partition_that_moved_away_is_refused(bus: Bus) -> None:
    group = new_group()
    await bus.publish(KEYS)
    revoked: set[TopicPartition] = set()
    first_listener = Journal("first")
    first = await bus.member(group, first_listener)
    await until(lambda: len(first.assignment()) == PARTITIONS, polling=[first], what="the first owns everything")

    async def note(partitions: Collection[TopicPartition]) -> None:
        revoked.update(partitions)

    first_listener.on_revoke = note
    second = await bus.member(group)
    await until(lambda: bool(second.assignment()), polling=[first, second], what="the second member gets some")

    assert revoked == second.assignment()
    moved = next(iter(revoked))
    with pytest.raises(CommitRefused):
        await first.commit({moved: 1})
    # Refused as a whole: the partition it still owns was not committed either.
    kept = next(iter(first.assignment()))
    with pytest.raises(CommitRefused):
        await first.commit({kept: 1, moved: 1})
    await first.commit({kept: 1})


async def test_a_member_that_stops_polling_loses_its_partitions_and_its_commits_are_refused(
    bus: Bus, capsys: pytest.CaptureFixture[str]
) -> None:
    group = new_group()
    sent = await bus.publish(KEYS)
    stalled_listener = Journal("stalled")
    stalled = await bus.member(group, stalled_listener)
    got = await read(stalled, len(sent))
    owned = stalled.assignment()
    assert len(owned) == PARTITIONS

    # The stalled member stops polling; another one joins and keeps polling.
    other = await bus.member(group)
    started = time.monotonic()
    other_read: list[ConsumedRecord] = []
    await until(
        lambda: len(other.assignment()) == PARTITIONS, polling=[other], what="the other takes all", into=other_read
    )
    took = time.monotonic() - started

    with pytest.raises(CommitRefused):
        await stalled.commit(next_offsets(got))
    # The other one starts from the beginning: nothing was committed.
    other_read += await read(other, len(sent) - len(other_read))
    assert sorted(r.value for r in other_read) == sorted(r.value for r in got)

    # Once it polls again it hears: lost, never revoked (it could not have committed anyway).
    def heard_lost() -> frozenset[TopicPartition]:
        return frozenset().union(*(tps for _, what, tps in stalled_listener.entries if what == "lost"))

    await until(lambda: heard_lost() == owned, polling=[stalled], what="lost, for every partition it owned")
    assert not [entry for entry in stalled_listener.entries if entry[1] == "revoked"]
    with capsys.disabled():
        print(f"\n{bus.name}: a stalled member's partitions moved after {took:.1f} s (session {bus.session_timeout} s)")  # noqa: T201


_KILLED_MEMBER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from meshkit.event_consumer import TopicPartition

    async def main() -> None:
        kind, address, group, topic, session = sys.argv[1:6]
        if kind == "sqlite":
            from meshkit.sqlite_event_consumer import SqliteEventConsumer
            consumer = await SqliteEventConsumer.open(
                Path(address), group=group, session_timeout=float(session), lock_timeout=5.0
            )
        else:
            from meshkit.kafka_event_consumer import KafkaEventConsumer
            consumer = KafkaEventConsumer(address, group=group, session_timeout=float(session), timeout=5.0)
        await consumer.subscribe([topic])
        while len(consumer.assignment()) < 4:
            await consumer.poll(100, 0.2)
        # Processed the first record of each partition: committed. Then it keeps polling until killed.
        await consumer.commit({tp: 1 for tp in consumer.assignment()})
        print("committed", flush=True)
        while True:
            await consumer.poll(100, 0.2)

    asyncio.run(main())
    """
)


async def test_a_killed_members_partitions_are_taken_over_after_its_session_timeout(
    bus: Bus, capsys: pytest.CaptureFixture[str]
) -> None:
    group = new_group()
    sent = await bus.publish(KEYS * 2)
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_MEMBER,
        bus.name,
        bus.address,
        group,
        bus.topic,
        str(bus.session_timeout),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert doomed.stdout is not None
        line = await asyncio.wait_for(doomed.stdout.readline(), PATIENCE)
        assert line == b"committed\n"
    finally:
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
    killed_at = time.monotonic()

    heir = await bus.member(group)
    rest: list[ConsumedRecord] = []
    await until(lambda: len(heir.assignment()) == PARTITIONS, polling=[heir], what="the heir takes all", into=rest)
    took = time.monotonic() - killed_at
    rest += await read(heir, len(sent) - PARTITIONS - len(rest))
    # It starts after the killed member's commits.
    firsts = {r.topic_partition: r.offset for r in sorted(rest, key=lambda r: -r.offset)}
    assert firsts == dict.fromkeys(heir.assignment(), 1)
    with capsys.disabled():
        print(f"\n{bus.name}: a killed member's partitions moved after {took:.1f} s (session {bus.session_timeout} s)")  # noqa: T201


# --- lag, headers, bounds --------------------------------------------------------------------------------------


async def test_lag_is_what_the_bus_holds_beyond_the_members_position(bus: Bus) -> None:
    consumer = await bus.member(new_group())
    await until(lambda: len(consumer.assignment()) == PARTITIONS, polling=[consumer], what="the member owns all")
    assert await consumer.lag() == {TopicPartition(bus.topic, p): 0 for p in range(PARTITIONS)}

    # Two keys in two different partitions.
    a = "lag-a"
    b = next(
        k
        for k in (f"lag-b{i}" for i in range(100))
        if partition_for(k.encode(), PARTITIONS) != partition_for(a.encode(), PARTITIONS)
    )
    await bus.publish([a, a, a, b, b])
    expected = {TopicPartition(bus.topic, p): 0 for p in range(PARTITIONS)}
    expected[TopicPartition(bus.topic, partition_for(a.encode(), PARTITIONS))] = 3
    expected[TopicPartition(bus.topic, partition_for(b.encode(), PARTITIONS))] = 2
    assert await consumer.lag() == expected

    await read(consumer, 5)
    assert await consumer.lag() == {TopicPartition(bus.topic, p): 0 for p in range(PARTITIONS)}


async def test_headers_come_back_as_they_were_written(bus: Bus) -> None:
    sent = [
        OutgoingRecord(b"h-1", b"one", (("reason", "не разобрано".encode()), ("reason", b"second"), ("empty", b""))),
        OutgoingRecord(b"h-2", b"two"),
        OutgoingRecord(b"h-1", b"three", (("binary", bytes(range(256))),)),
    ]
    await bus.publisher.publish(bus.topic, sent)
    consumer = await bus.member(new_group())
    got = await read(consumer, len(sent))
    assert {r.value: r.headers for r in got} == {s.value: s.headers for s in sent}


async def test_poll_returns_within_its_wait_and_at_most_max_records(
    bus: Bus, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer = await bus.member(new_group())
    await until(lambda: len(consumer.assignment()) == PARTITIONS, polling=[consumer], what="the member owns all")
    started = time.monotonic()
    assert await consumer.poll(10, 1.0) == []
    waited = time.monotonic() - started
    assert waited < 1.0 + 2.0  # a guard against a hang: the wait plus scheduling slack

    await bus.publish(KEYS * 3)
    batches: list[list[ConsumedRecord]] = []
    while sum(len(b) for b in batches) < 3 * len(KEYS):
        batches.append(await consumer.poll(5, 1.0))
        assert len(batches) < 100
    assert max(len(b) for b in batches) <= 5
    with capsys.disabled():
        print(f"\n{bus.name}: an empty poll with a 1 s wait returned after {waited:.2f} s")  # noqa: T201


# --- the bus down ----------------------------------------------------------------------------------------------


async def test_kafka_unreachable_polls_stay_bounded_and_health_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    consumer = KafkaEventConsumer(f"127.0.0.1:{free_port()}", group=new_group(), session_timeout=6.0, timeout=1.0)
    try:
        await consumer.subscribe(["nowhere"])
        started = time.monotonic()
        while consumer.health().healthy or time.monotonic() - started < 1.0:
            polled = time.monotonic()
            assert await consumer.poll(10, 0.5) == []
            assert time.monotonic() - polled < 0.5 + 2.0
            assert time.monotonic() - started < PATIENCE
        assert not consumer.health().healthy
        detail = consumer.health().detail
        with pytest.raises(CommitRefused):
            await consumer.commit({TopicPartition("nowhere", 0): 1})
        assert await consumer.lag() == {}
    finally:
        await consumer.close()
    with capsys.disabled():
        print(f"\nkafka unreachable: health {detail!r}")  # noqa: T201


async def test_sqlite_locked_by_another_writer_polls_stay_bounded_commits_fail_then_recover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.sqlite3"
    log = EmbeddedLog(path)
    log.ensure_topic("t", PARTITIONS)
    log.close()
    consumer = await SqliteEventConsumer.open(path, group=new_group(), session_timeout=2.0, lock_timeout=0.5)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        await consumer.subscribe(["t"])
        await until(lambda: len(consumer.assignment()) == PARTITIONS, polling=[consumer], what="the member owns all")
        assert consumer.health().healthy
        holder.execute("BEGIN IMMEDIATE")  # another process's writer that does not let go
        started = time.monotonic()
        while consumer.health().healthy:
            polled = time.monotonic()
            assert await consumer.poll(10, 0.2) == []
            assert time.monotonic() - polled < 0.2 + 0.5 + 2.0
            assert time.monotonic() - started < PATIENCE
        unhealthy_after = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await consumer.commit({TopicPartition("t", 0): 0})
        refused_after = time.monotonic() - started
        holder.execute("ROLLBACK")
        await until(lambda: consumer.health().healthy, polling=[consumer], what="healthy again")
        await consumer.commit({TopicPartition("t", 0): 0})
    finally:
        holder.close()
        await consumer.close()
    with capsys.disabled():
        print(  # noqa: T201
            f"\nsqlite locked: not healthy after {unhealthy_after:.2f} s, commit Unavailable after "
            f"{refused_after:.2f} s (lock timeout 0.5 s)"
        )
