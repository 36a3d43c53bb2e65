"""The EventPublisher port, one suite over both adapters: the embedded SQLite log and Kafka with the Apicurio
registry (devstack). Every promise of ugc_svc/ports/event_publisher.py is checked on what the bus itself holds
afterwards, read back as a consumer would: Confluent-framed Avro whose schema id the bus's registry resolves to the
bundled schema."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from devstack.engines.apicurio import Apicurio
from devstack.engines.kafka import Kafka
from devstack.mesh import free_port
from devstack.schemas import register
from meshkit.avro_wire import AvroSchema, decode, schema_id_of
from meshkit.bundled_schemas import bundled_schema, value_subject
from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.kafka_record_publisher import KafkaRecordPublisher
from meshkit.partitioner import partition_for
from tests.contract.event_bus import (
    PARTITIONS,
    Bus,
    KafkaReader,
    LogReader,
    Record,
    create_topic,
    delete_topic,
    embedded_publisher,
    event,
    kafka_publisher,
    registry_schema,
)
from ugc_svc.adapters.bus_event_publisher import BusEventPublisher
from ugc_svc.adapters.playback_event_avro import from_record
from ugc_svc.domain.playback import PlaybackEvent
from ugc_svc.ports.event_publisher import EventPublisher

ADAPTERS = ["sqlite", "kafka"]
REPO = Path(__file__).resolve().parents[2]
BUNDLED = bundled_schema("playback_event")
# The bound publish() is configured with in the failure cases, and the most a test waits for it: a timeout
# against a hang, not a latency target.
TIMEOUT = 1.0
HANG_GUARD = TIMEOUT + 10.0


@pytest.fixture(params=ADAPTERS)
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bus]:
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite3"
        topic = "contract-events"
        publisher = await embedded_publisher(path, topic, partitions=PARTITIONS, ack_timeout=5.0)
        reader = LogReader(path, topic)
        try:
            yield Bus("sqlite", topic, publisher, reader.read, reader.total, reader.schema)
        finally:
            await publisher.close()
        return
    kafka: Kafka = request.getfixturevalue("kafka")
    apicurio: Apicurio = request.getfixturevalue("apicurio")
    servers = kafka.endpoints()["bootstrap_servers"]
    url = apicurio.endpoints()["url"]
    topic = create_topic(servers)
    # As `make schemas` does it: the publisher only looks its schema up.
    register(SchemaRegistryClient({"url": url, "timeout": 10}), value_subject(topic), BUNDLED)
    opened = await kafka_publisher(servers, registry_url=url, topic=topic, ack_timeout=10.0, registry_timeout=10.0)
    kafka_reader = KafkaReader(servers, topic)
    try:
        yield Bus(
            "kafka",
            topic,
            opened,
            kafka_reader.read,
            kafka_reader.total,
            registry_schema(SchemaRegistryClient({"url": url, "timeout": 10})),
        )
    finally:
        await opened.close()
        delete_topic(servers, topic)


def decoded(bus: Bus, records: list[Record]) -> list[PlaybackEvent]:
    """Each record decoded with the schema its id names on the bus's registry, which must be the bundled one."""
    events = []
    for record in records:
        writer = bus.schema(schema_id_of(record.value))
        assert json.loads(writer.text) == json.loads(BUNDLED.text)
        events.append(from_record(decode(record.value, writer)))
    return events


async def test_published_events_come_back_exactly_as_sent(bus: Bus) -> None:
    sent = [
        event("alice", 1),
        # Beyond 32 bits, every optional field set, non-ASCII text.
        event("борис", 2, position_ms=5_000_000_000, device="телевизор ё", playback_session_id="сеанс-1"),
        event("carol", 3, device=None, playback_session_id=None),
    ]
    await bus.publisher.publish(sent)

    records = bus.read(len(sent))
    assert bus.total() == len(sent)
    got = decoded(bus, records)
    assert sorted(got, key=lambda e: e.event_id) == sorted(sent, key=lambda e: e.event_id)
    # The key is the user id, as bytes.
    assert {r.key for r in records} == {e.user_id.encode() for e in sent}
    for record, each in zip(records, got, strict=True):
        assert record.key == each.user_id.encode()


async def test_the_raw_avro_body_is_the_bundled_schema_record(bus: Bus) -> None:
    """Independent of the adapters' own mapping: fastavro's generic reader sees the field values sent."""
    sent = event("dora", 4, device="phone")
    await bus.publisher.publish([sent])

    (record,) = bus.read(1)
    raw = decode(record.value, bus.schema(schema_id_of(record.value)))
    assert raw == {
        "event_id": sent.event_id,
        "user_id": "dora",
        "movie_id": sent.movie_id,
        "type": sent.type.value,
        "position_ms": sent.position_ms,
        "client_time": sent.client_time,
        "server_time": sent.server_time,
        "device": "phone",
        "playback_session_id": sent.playback_session_id,
        "duration_ms": None,
        "finished": None,
    }


async def test_one_users_events_stay_in_order_in_the_partition_of_their_key(bus: Bus) -> None:
    users = ["u-1", "u-2", "u-3", "u-4", "u-5"]
    sent: dict[str, list[str]] = defaultdict(list)
    # Interleaved within each call, and spread over calls made one after another.
    for call in range(4):
        batch = [event(user, call * 10 + i) for i in range(5) for user in users]
        for each in batch:
            sent[each.user_id].append(each.event_id)
        await bus.publisher.publish(batch)

    records = bus.read(sum(len(ids) for ids in sent.values()))
    by_user: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for record, each in zip(records, decoded(bus, records), strict=True):
        by_user[each.user_id].append((record.partition, record.offset, each.event_id))
    for user in users:
        partitions = {partition for partition, _, _ in by_user[user]}
        # Kafka's own partitioner (murmur2), the same on both buses.
        assert partitions == {partition_for(user.encode(), PARTITIONS)}, user
        assert [event_id for _, _, event_id in sorted(by_user[user])] == sent[user], user


async def test_a_batch_is_on_the_bus_whole_when_publish_returns(bus: Bus) -> None:
    batch = [event(f"user-{i % 37}", i) for i in range(500)]
    await bus.publisher.publish(batch)

    # Counted on the bus at once, not waited for: every event was acknowledged before publish returned.
    assert bus.total() == len(batch)
    assert sorted(e.event_id for e in decoded(bus, bus.read(len(batch)))) == sorted(e.event_id for e in batch)


async def test_concurrent_publishes_all_land(bus: Bus) -> None:
    batches = [[event(f"c-{call}", call * 100 + i) for i in range(10)] for call in range(20)]
    await asyncio.gather(*(bus.publisher.publish(batch) for batch in batches))

    assert bus.total() == 200
    assert {e.event_id for e in decoded(bus, bus.read(200))} == {e.event_id for b in batches for e in b}


async def test_an_empty_call_publishes_nothing(bus: Bus) -> None:
    await bus.publisher.publish([])
    assert bus.total() == 0


# --- the bus cannot take them: Unavailable within the configured bound ------------------------------------------


async def assert_unavailable_in_bound(publisher: EventPublisher) -> float:
    started = time.monotonic()
    with pytest.raises(Unavailable):
        async with asyncio.timeout(HANG_GUARD):
            await publisher.publish([event("late", 1), event("late", 2)])
    return time.monotonic() - started


def silent_server() -> socket.socket:
    """Accepts connections and never answers: a broker that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.mark.parametrize("where", ["closed port", "silent server"])
async def test_kafka_unreachable_is_unavailable_within_the_bound(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = silent_server() if where == "silent server" else None
    port = server.getsockname()[1] if server else free_port()
    publisher = BusEventPublisher(
        KafkaRecordPublisher(f"127.0.0.1:{port}", ack_timeout=TIMEOUT), topic="unreachable", schema=BUNDLED, schema_id=1
    )
    try:
        elapsed = await assert_unavailable_in_bound(publisher)
    finally:
        await publisher.close()
        if server:
            server.close()
    with capsys.disabled():  # the measured bound, in the run's output
        print(f"\nkafka {where}: Unavailable after {elapsed:.2f} s (timeout {TIMEOUT} s)")  # noqa: T201


async def test_sqlite_locked_by_another_writer_is_unavailable_within_the_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.sqlite3"
    publisher = await embedded_publisher(path, "t", partitions=2, ack_timeout=TIMEOUT)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's writer that does not let go
        elapsed = await assert_unavailable_in_bound(publisher)
        holder.execute("ROLLBACK")
        # Nothing of the refused batch is there, and the log works again once the lock is free.
        assert LogReader(path, "t").total() == 0
        await publisher.publish([event("back", 1)])
        assert LogReader(path, "t").total() == 1
    finally:
        holder.close()
        await publisher.close()
    with capsys.disabled():  # the measured bound, in the run's output
        print(f"\nsqlite locked: Unavailable after {elapsed:.2f} s (timeout {TIMEOUT} s)")  # noqa: T201


async def test_sqlite_path_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    # A regular file where the log's directory should be: no permission bit stops root, this does.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot be opened"):
        await embedded_publisher(blocker / "events.sqlite3", "t", partitions=2, ack_timeout=TIMEOUT)
    assert time.monotonic() - started < HANG_GUARD


# --- Kafka: a producer that fails for good is replaced -----------------------------------------------------------


async def test_kafka_producer_that_fails_for_good_is_replaced(
    kafka: Kafka, apicurio: Apicurio, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real fatal error from a real broker: with librdkafka's gap-less guarantee on, a batch the broker refuses
    for good (larger than the topic's max.message.bytes) ends the idempotent producer. The calls in flight answer
    Unavailable, the next call gets a new producer, and every acknowledged event is on the topic once."""
    servers = kafka.endpoints()["bootstrap_servers"]
    topic = create_topic(servers, partitions=1, config={"max.message.bytes": "1024"})
    schema_id = register(
        SchemaRegistryClient({"url": apicurio.endpoints()["url"], "timeout": 10}), value_subject(topic), BUNDLED
    )
    producer = KafkaRecordPublisher(servers, ack_timeout=10.0, producer_config={"enable.gapless.guarantee": True})
    publisher = BusEventPublisher(producer, topic=topic, schema=BUNDLED, schema_id=schema_id)
    try:
        before = event("fatal", 1)
        await publisher.publish([before])

        too_large = event("fatal", 2, device="x" * 4000)
        alongside = [[event("fatal", 10 + n)] for n in range(5)]
        started = time.monotonic()
        async with asyncio.timeout(HANG_GUARD + 10):
            outcomes = await asyncio.gather(
                publisher.publish([too_large]), *(publisher.publish(call) for call in alongside), return_exceptions=True
            )
        answered = time.monotonic() - started
        assert isinstance(outcomes[0], Unavailable), outcomes[0]
        assert all(o is None or isinstance(o, Unavailable) for o in outcomes[1:]), outcomes
        acknowledged = [before] + [call[0] for call, o in zip(alongside, outcomes[1:], strict=True) if o is None]

        # The polling thread replaces the producer once it has seen the fatal error.
        deadline = time.monotonic() + 30
        while producer.replacements == 0:
            assert time.monotonic() < deadline, "the failed producer was not replaced"
            await asyncio.sleep(0.05)
        after = event("fatal", 3)
        await publisher.publish([after])
        acknowledged.append(after)
    finally:
        await publisher.close()

    reader = KafkaReader(servers, topic, partitions=1)
    schema = registry_schema(SchemaRegistryClient({"url": apicurio.endpoints()["url"], "timeout": 10}))
    records = reader.read(len(acknowledged))
    on_topic = [from_record(decode(r.value, schema(schema_id_of(r.value)))).event_id for r in records]
    assert reader.total() == len(on_topic)
    for each in acknowledged:
        assert on_topic.count(each.event_id) == 1, each.event_id
    assert too_large.event_id not in on_topic
    assert producer.replacements == 1
    assert any("failed for good" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    delete_topic(servers, topic)
    with capsys.disabled():  # what the run saw
        print(  # noqa: T201
            f"\nkafka fatal error: calls answered in {answered:.2f} s; "
            f"{len(acknowledged) - 2} of {len(alongside)} calls alongside acknowledged; producer replaced once"
        )


# --- the embedded log is shared by processes ------------------------------------------------------------------

_OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tests.contract.event_bus import event
    from tests.contract.event_bus import embedded_publisher

    async def main() -> None:
        publisher = await embedded_publisher(Path(sys.argv[1]), "writers", partitions=4, ack_timeout=10.0)
        for n in range(int(sys.argv[2])):
            await publisher.publish([event("other", n), event(f"other-{n % 3}", n)])
        await publisher.close()

    asyncio.run(main())
    """
)


async def test_two_processes_publish_to_the_same_log_file(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    calls = 50
    other = await asyncio.create_subprocess_exec(sys.executable, "-c", _OTHER_PROCESS, str(path), str(calls), cwd=REPO)
    publisher = await embedded_publisher(path, "writers", partitions=4, ack_timeout=10.0)
    try:
        for n in range(calls):
            await publisher.publish([event("this", n), event(f"this-{n % 3}", n)])
    finally:
        await publisher.close()
    assert await asyncio.wait_for(other.wait(), 60) == 0

    reader = LogReader(path, "writers")
    records = reader.read(4 * calls)
    assert len(records) == 4 * calls
    # Offsets of each partition are 0..n-1: no record overwritten, none skipped.
    by_partition: dict[int, list[int]] = defaultdict(list)
    for record in records:
        by_partition[record.partition].append(record.offset)
    for offsets in by_partition.values():
        assert sorted(offsets) == list(range(len(offsets)))
    # Both processes registered the schema and got the same id.
    assert {schema_id_of(r.value) for r in records} == {schema_id_of(records[0].value)}
    events = [from_record(decode(r.value, reader.schema(schema_id_of(r.value)))) for r in records]
    for user in ("this", "other"):
        mine = [e for r, e in sorted(zip(records, events, strict=True), key=lambda p: p[0].offset) if e.user_id == user]
        assert [e.position_ms for e in mine] == [n * 1_000 + 7 for n in range(calls)], user


# --- Kafka starts only with the bundled schema registered -------------------------------------------------------


async def test_kafka_publisher_refuses_to_start_without_the_registered_schema(apicurio: Apicurio) -> None:
    url = apicurio.endpoints()["url"]
    with pytest.raises(FailedPrecondition, match="make schemas"):
        await kafka_publisher(
            "127.0.0.1:1",
            registry_url=url,
            topic=f"never-registered-{os.getpid()}-{time.time_ns()}",
            ack_timeout=TIMEOUT,
            registry_timeout=10.0,
        )


async def test_kafka_publisher_refuses_to_start_when_the_subject_holds_another_schema(apicurio: Apicurio) -> None:
    url = apicurio.endpoints()["url"]
    topic = f"other-schema-{time.time_ns()}"
    other = json.loads(BUNDLED.text)
    other["fields"] = [f for f in other["fields"] if f["name"] != "device"]
    register(
        SchemaRegistryClient({"url": url, "timeout": 10}), value_subject(topic), AvroSchema.parse(json.dumps(other))
    )
    with pytest.raises(FailedPrecondition, match="make schemas"):
        await kafka_publisher("127.0.0.1:1", registry_url=url, topic=topic, ack_timeout=TIMEOUT, registry_timeout=10.0)


async def test_kafka_publisher_refuses_to_start_without_its_topic(kafka: Kafka, apicurio: Apicurio) -> None:
    url = apicurio.endpoints()["url"]
    topic = f"no-topic-{time.time_ns()}"
    # The schema is there, the topic is not: `make schemas` half done, or a topic deleted since.
    register(SchemaRegistryClient({"url": url, "timeout": 10}), value_subject(topic), BUNDLED)
    servers = kafka.endpoints()["bootstrap_servers"]
    with pytest.raises(FailedPrecondition, match=f"Kafka has no topic '{topic}': run `make schemas`"):
        await kafka_publisher(servers, registry_url=url, topic=topic, ack_timeout=5.0, registry_timeout=10.0)
    # Asking for it did not create it.
    assert topic not in AdminClient({"bootstrap.servers": servers}).list_topics(timeout=10).topics


async def test_kafka_publisher_with_the_brokers_down_does_not_start(apicurio: Apicurio) -> None:
    url = apicurio.endpoints()["url"]
    topic = f"brokers-down-{time.time_ns()}"
    register(SchemaRegistryClient({"url": url, "timeout": 10}), value_subject(topic), BUNDLED)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="Kafka cannot be asked"):
        await kafka_publisher(
            f"127.0.0.1:{free_port()}", registry_url=url, topic=topic, ack_timeout=TIMEOUT, registry_timeout=10.0
        )
    assert time.monotonic() - started < HANG_GUARD


async def test_kafka_publisher_with_the_registry_down_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        await kafka_publisher(
            "127.0.0.1:1",
            registry_url=f"http://127.0.0.1:{free_port()}/apis/ccompat/v7",
            topic="t",
            ack_timeout=TIMEOUT,
            registry_timeout=2.0,
        )
