"""Faults under load, with real engines and the UGC service as its own process (clients on its gRPC port, the
user in `x-user-id` as the gateway sends it; they never retry a refused call):

- Kafka stopped for real (the devstack's broker process, SIGTERM) and started again while clients send events:
  every call is answered, OK or UNAVAILABLE, within the configured bound plus a margin (none hangs), and once
  Kafka is back every acknowledged event is on the topic exactly once.
- The service killed (SIGKILL) while clients send batches, on the embedded log and on Kafka: every acknowledged
  event is on the bus; an unanswered batch may be there or not (on the embedded log whole or not at all). The
  service started again on the same bus publishes where it left off.

Each test prints what it saw (calls, answers, the slowest refusal) in the run's output.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from devstack.engines.apicurio import Apicurio
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.schemas import register_all
from devstack.topics import TopicSpec, ensure_topics
from meshkit.avro_wire import decode, schema_id_of
from tests.contract.event_bus import KafkaReader, LogReader, delete_topic, registry_schema
from tests.e2e.ugc_load import Load, UgcProcess, ugc_service

# What the service is given as UGC_EVENT_BUS_TIMEOUT_SECONDS.
BUS_TIMEOUT = 2.0
# Kafka's delivery timer runs about once a second and the adapter's own guard waits 1.5 s beyond the bound; the
# rest is room for a busy 2-core machine. A limit against hangs, not a latency target.
ANSWER_LIMIT = BUS_TIMEOUT + 1.5 + 5.0
PARTITIONS = 6


@dataclass(frozen=True)
class EventBus:
    """The bus a service process publishes to, and how to read every event id on it."""

    name: str
    env: dict[str, str]
    topic: str
    kafka: Kafka | None = None
    registry_url: str = ""
    log_path: Path | None = None

    def event_ids(self) -> list[str]:
        """The event id of every record on the topic, in no particular order, duplicates kept."""
        if self.kafka is not None:
            reader = KafkaReader(self.kafka.endpoints()["bootstrap_servers"], self.topic, PARTITIONS)
            schema = registry_schema(SchemaRegistryClient({"url": self.registry_url, "timeout": 10}))
            records = reader.read(reader.total())
            return [str(decode(r.value, schema(schema_id_of(r.value)))["event_id"]) for r in records]
        assert self.log_path is not None
        log = LogReader(self.log_path, self.topic)
        return [str(decode(r.value, log.schema(schema_id_of(r.value)))["event_id"]) for r in log.read(0)]


def kafka_bus(kafka: Kafka, apicurio: Apicurio, ferretdb: FerretDB) -> EventBus:
    """A topic of its own, made and registered as `make schemas` does."""
    topic = f"e2e-faults-{uuid.uuid4().hex[:10]}"
    servers = kafka.endpoints()["bootstrap_servers"]
    ensure_topics(servers, replication_factor=1, topics=[lambda: TopicSpec(topic, PARTITIONS)])
    url = apicurio.endpoints()["url"]
    register_all(url, topics={"playback_event": lambda: topic})
    env = {
        "UGC_PROFILE": "production",
        "UGC_KAFKA_BOOTSTRAP_SERVERS": servers,
        "UGC_SCHEMA_REGISTRY_URL": url,
        "UGC_MONGODB_URL": ferretdb.endpoints()["url"],
        "UGC_EVENTS_TOPIC": topic,
        "UGC_EVENT_LOG_PARTITIONS": str(PARTITIONS),
        "UGC_EVENT_BUS_TIMEOUT_SECONDS": str(BUS_TIMEOUT),
    }
    return EventBus("kafka", env, topic, kafka=kafka, registry_url=url)


def embedded_bus(directory: Path) -> EventBus:
    topic = "ugc.playback-events"
    env = {
        "UGC_PROFILE": "embedded",
        "UGC_EVENT_LOG_PATH": str(directory / "events.sqlite3"),
        "UGC_SQLITE_PATH": str(directory / "documents.sqlite3"),
        "UGC_EVENTS_TOPIC": topic,
        "UGC_EVENT_LOG_PARTITIONS": str(PARTITIONS),
        "UGC_EVENT_BUS_TIMEOUT_SECONDS": str(BUS_TIMEOUT),
    }
    return EventBus("embedded", env, topic, log_path=directory / "events.sqlite3")


@pytest.fixture
def bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventBus]:
    if request.param == "embedded":
        yield embedded_bus(tmp_path)
        return
    kafka: Kafka = request.getfixturevalue("kafka")
    made = kafka_bus(kafka, request.getfixturevalue("apicurio"), request.getfixturevalue("ferretdb"))
    yield made
    delete_topic(kafka.endpoints()["bootstrap_servers"], made.topic)


def report(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():  # what the run saw, in its output
        print(f"\n{text}")  # noqa: T201


# --- Kafka stopped and started again under load ---------------------------------------------------------------------


@pytest.mark.kafka
@pytest.mark.apicurio
@pytest.mark.ferretdb
async def test_kafka_stopped_under_load_refuses_within_the_bound_and_keeps_every_acknowledged_event(
    kafka: Kafka, apicurio: Apicurio, ferretdb: FerretDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bus = kafka_bus(kafka, apicurio, ferretdb)
    try:
        with ugc_service(bus.env, tmp_path / "ugc.log") as service:
            load = Load(service.target, uuid.uuid4().hex[:8], batch=3)
            stop = asyncio.Event()
            running = asyncio.create_task(load.run(stop))
            try:
                await load.until(lambda: load.count(grpc.StatusCode.OK) >= 20, 60, "20 calls acknowledged")
                # The devstack's broker process itself, stopped as `devstack stop` stops it.
                await asyncio.to_thread(kafka.stop)
                stopped = time.monotonic()
                await load.until(
                    lambda: load.count(grpc.StatusCode.UNAVAILABLE, since=stopped) >= 5,
                    60,
                    "5 calls refused with Kafka stopped",
                )
                await asyncio.to_thread(kafka.start)
                restarted = time.monotonic()
                await load.until(
                    lambda: load.count(grpc.StatusCode.OK, since=restarted) >= 20,
                    120,
                    "20 calls acknowledged after Kafka came back",
                )
            finally:
                stop.set()
                await running
                if not kafka.status().healthy:
                    await asyncio.to_thread(kafka.start)
        codes = Counter(call.code for call in load.calls)
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, (codes, service.log_tail())
        slowest = max(load.calls, key=lambda call: call.seconds)
        assert slowest.seconds <= ANSWER_LIMIT, (slowest, service.log_tail())

        acknowledged = load.acknowledged()
        on_topic = Counter(bus.event_ids())
        missing = [event_id for event_id in acknowledged if on_topic[event_id] == 0]
        twice = [event_id for event_id in acknowledged if on_topic[event_id] > 1]
        assert not missing, f"{len(missing)} acknowledged events are not on the topic, e.g. {missing[:5]}"
        assert not twice, f"{len(twice)} acknowledged events are on the topic more than once, e.g. {twice[:5]}"
        refused = [event_id for call in load.refused() for event_id in call.ids]
        slowest_refusal = max(call.seconds for call in load.refused())
        report(
            f"kafka stopped under load: {len(load.calls)} calls ({codes[grpc.StatusCode.OK]} OK, "
            f"{codes[grpc.StatusCode.UNAVAILABLE]} UNAVAILABLE); {restarted - stopped:.1f} s from Kafka stopped "
            f"to Kafka healthy again; slowest answer {slowest.seconds:.2f} s, slowest refusal "
            f"{slowest_refusal:.2f} s (bound {BUS_TIMEOUT:g} s, limit {ANSWER_LIMIT:g} s); {len(acknowledged)} "
            f"acknowledged events all on the topic once; {sum(1 for e in refused if on_topic[e])} of "
            f"{len(refused)} refused events on it anyway",
            capsys,
        )
    finally:
        delete_topic(kafka.endpoints()["bootstrap_servers"], bus.topic)


# --- the service killed mid-batch -----------------------------------------------------------------------------------


async def load_then_kill(service: UgcProcess, run_id: str) -> Load:
    """Batches from several clients until 10 are acknowledged, then SIGKILL to the service while they send."""
    load = Load(service.target, run_id, batch=25, workers=3, pause=0.0)
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(stop))
    try:
        await load.until(lambda: load.count(grpc.StatusCode.OK) >= 10, 60, "10 batches acknowledged")
        os.kill(service.process.pid, signal.SIGKILL)
        await asyncio.to_thread(service.process.wait, 30)
    finally:
        stop.set()
        await running
    return load


@pytest.mark.parametrize(
    "bus",
    [
        "embedded",
        pytest.param("kafka", marks=[pytest.mark.kafka, pytest.mark.apicurio, pytest.mark.ferretdb]),
    ],
    indirect=True,
)
async def test_service_killed_mid_batch_loses_no_acknowledged_event(
    bus: EventBus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = uuid.uuid4().hex[:8]
    with ugc_service(bus.env, tmp_path / "ugc.log") as service:
        load = await load_then_kill(service, run_id)
    assert service.process.returncode == -signal.SIGKILL

    on_bus = Counter(bus.event_ids())
    acknowledged = load.acknowledged()
    missing = [event_id for event_id in acknowledged if on_bus[event_id] == 0]
    assert not missing, f"{len(missing)} acknowledged events are not on the bus, e.g. {missing[:5]}"
    unanswered = load.refused()
    assert unanswered, "no call was cut by the kill"
    landed = [sum(1 for e in call.ids if on_bus[e]) for call in unanswered]
    if bus.name == "embedded":
        # One transaction a batch: a batch cut by the kill is on the log whole or not at all.
        assert all(count in (0, len(call.ids)) for count, call in zip(landed, unanswered, strict=True)), landed

    # Started again on the same bus, the service publishes after what is there.
    with ugc_service(bus.env, tmp_path / "ugc-again.log") as again:
        after = Load(again.target, f"{run_id}-again", batch=25, workers=1)
        stop = asyncio.Event()
        running = asyncio.create_task(after.run(stop))
        try:
            await after.until(lambda: after.count(grpc.StatusCode.OK) >= 1, 60, "a batch acknowledged after restart")
        finally:
            stop.set()
            await running
    on_bus_after = Counter(bus.event_ids())
    assert all(on_bus_after[e] >= 1 for e in [*acknowledged, *after.acknowledged()])

    duplicates = sum(1 for e in acknowledged if on_bus[e] > 1)
    report(
        f"{bus.name} killed mid-batch: {len(load.calls)} calls of 25 events, {len(load.calls) - len(unanswered)} "
        f"acknowledged (all {len(acknowledged)} events on the bus, {duplicates} twice), {len(unanswered)} cut by the "
        f"kill or refused after it: {sum(1 for n in landed if n)} of them on the bus anyway "
        f"({[n for n in landed if n]} events each)",
        capsys,
    )
