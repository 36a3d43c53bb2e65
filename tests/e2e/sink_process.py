"""The sink as its own process in the production profile, and what its fault tests need around it: a playback topic
of their own (with its dead-letter topic and the registered event schema), a producer that puts events on it as the
UGC service does (Avro in Confluent framing, keyed by user), the consumer group's committed offsets, the sink's
health and metrics, and the analytics store's answers held against the viewing-time rules."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from clickhouse_driver import Client  # type: ignore[import-untyped]
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from devstack.engines.apicurio import Apicurio
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.kafka import Kafka
from devstack.mesh import free_port
from devstack.schemas import register_all
from devstack.topics import TopicSpec, ensure_topics
from meshkit.avro_wire import AvroSchema, encode
from meshkit.bundled_schemas import bundled_schema
from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics
from sink_svc.adapters.playback_sql import TABLE
from sink_svc.domain import viewing_time
from sink_svc.domain.playback_event import PlaybackEvent
from tests.contract.event_bus import delete_topic
from tests.e2e.conftest import REPO
from tests.playback_streams import avro_record

SCHEMA = bundled_schema("playback_event")
PARTITIONS = 6
START_LIMIT = 120.0
# The broker's group.min.session.timeout.ms (Kafka's default, kept by the devstack) is the shortest session a member
# may ask for: a killed member's partitions move to the others this long after its last heartbeat.
SESSION_SECONDS = 6.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def report(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():  # what the run saw, in its output
        print(f"\n{text}")  # noqa: T201


# --- the sink process ---------------------------------------------------------------------------------------------


@dataclass
class SinkProcess:
    process: subprocess.Popen[bytes]
    port: int
    metrics_port: int
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def health(self) -> int | None:
        """The overall gRPC health status, None when the server does not answer."""
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            except grpc.RpcError:
                return None
        return int(reply.status)

    def metric(self, name: str) -> float | None:
        """The sum of a metric's samples on the sink's /metrics (a histogram's `_sum`, a counter's `_total`); None
        when the sink has none of it yet."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).text
        found = None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    found = (found or 0.0) + sample.value
        return found

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int:
        """SIGTERM and wait: the sink flushes what it holds and leaves the group."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


@contextlib.contextmanager
def sink_service(env: dict[str, str], log: Path) -> Iterator[SinkProcess]:
    """`python -m sink_svc` with `env`, once it reports SERVING; stopped (SIGTERM) on exit unless gone already."""
    port, metrics_port = free_port(), free_port()
    child_env = (
        os.environ
        | {
            "SINK_GRPC_PORT": str(port),
            "SINK_METRICS_PORT": str(metrics_port),
            "SINK_LOG_FORMAT": "text",
        }
        | env
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sink_svc"], cwd=REPO, env=child_env, stdout=out, stderr=subprocess.STDOUT
        )
    running = SinkProcess(process, port, metrics_port, log)
    try:
        deadline = time.monotonic() + START_LIMIT
        while running.health() != SERVING:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the sink did not start (exit {process.poll()}):\n{running.log_tail()}")
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- a playback topic of a test's own -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


@dataclass
class Rig:
    """A playback topic and its dead-letter topic made as `make schemas` makes them, the event schema registered
    under the topic's subject, a database of the devstack's ClickHouse and a consumer group, all of this test's
    own."""

    servers: str
    registry_url: str
    clickhouse_tcp: str
    topic: str
    dead_letter_topic: str
    group: str
    database: str
    schema_id: int
    _watcher: Consumer | None = field(default=None, repr=False)

    def env(self, **overrides: str) -> dict[str, str]:
        """SINK_* for a sink on this rig: short batches and the shortest session the broker allows."""
        env = {
            "SINK_PROFILE": "production",
            "SINK_KAFKA_BOOTSTRAP_SERVERS": self.servers,
            "SINK_SCHEMA_REGISTRY_URL": self.registry_url,
            "SINK_CLICKHOUSE_URL": f"clickhouse://{self.clickhouse_tcp}/{self.database}",
            "SINK_CLICKHOUSE_TIMEOUT_SECONDS": "2",
            "SINK_EVENTS_TOPIC": self.topic,
            "SINK_DEAD_LETTER_TOPIC": self.dead_letter_topic,
            "SINK_CONSUMER_GROUP": self.group,
            "SINK_BATCH_MAX_EVENTS": "200",
            "SINK_BATCH_MAX_SECONDS": "0.2",
            "SINK_SESSION_TIMEOUT_SECONDS": f"{SESSION_SECONDS:g}",
            "SINK_EVENT_BUS_TIMEOUT_SECONDS": "3",
            "SINK_GRACE_SECONDS": "20",
        }
        return env | {f"SINK_{name.upper()}": value for name, value in overrides.items()}

    # --- putting records on the topic ---------------------------------------------------------------------------

    def framed(self, event: PlaybackEvent, schema_id: int | None = None, schema: AvroSchema = SCHEMA) -> bytes:
        return encode(self.schema_id if schema_id is None else schema_id, schema, avro_record(event))

    def produce(
        self,
        records: Sequence[tuple[bytes, bytes]],
        *,
        per_second: float | None = None,
        hurry: threading.Event | None = None,
        progress: list[int] | None = None,
    ) -> None:
        """(key, value) records onto the topic, acknowledged by the broker (acks=all, idempotent) before this
        returns; at most `per_second` of them a second until `hurry` is set; `progress[0]` counts those sent."""
        producer = Producer(
            {"bootstrap.servers": self.servers, "enable.idempotence": True, "linger.ms": 5, "log_level": 2}
        )
        failures: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(str(error))

        started = time.monotonic()
        for index, (key, value) in enumerate(records):
            if per_second is not None and not (hurry is not None and hurry.is_set()):
                ahead = started + index / per_second - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            while True:
                try:
                    producer.produce(self.topic, value, key, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            if progress is not None:
                progress[0] = index + 1
        left = producer.flush(60)
        assert left == 0, f"{left} records undelivered"
        assert not failures, f"{len(failures)} records refused, e.g. {failures[:3]}"

    def keyed(self, events: Sequence[PlaybackEvent]) -> list[tuple[bytes, bytes]]:
        return [(event.user_id.encode(), self.framed(event)) for event in events]

    # --- the group's position -----------------------------------------------------------------------------------

    def _consumer(self) -> Consumer:
        if self._watcher is None:
            # Of the sink's group but never subscribed: it reads the group's commits without joining it.
            self._watcher = Consumer({"bootstrap.servers": self.servers, "group.id": self.group, "log_level": 2})
        return self._watcher

    def ends(self, topic: str | None = None) -> list[int]:
        consumer = self._consumer()
        return [
            consumer.get_watermark_offsets(TopicPartition(topic or self.topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        ]

    def committed(self) -> list[int]:
        found = self._consumer().committed([TopicPartition(self.topic, p) for p in range(PARTITIONS)], timeout=10)
        return [max(0, tp.offset) for tp in found]

    def lag(self) -> int:
        """Records on the topic beyond the group's commits."""
        return sum(end - done for end, done in zip(self.ends(), self.committed(), strict=True))

    def wait_caught_up(self, limit: float, what: str, *alive: SinkProcess) -> float:
        """Until the group has committed every record on the topic; the seconds it took. Fails after `limit`, or
        when a sink that should be running has exited."""
        started = time.monotonic()
        while self.lag() > 0:
            for sink in alive:
                if sink.process.poll() is not None:
                    pytest.fail(f"{what}: the sink exited ({sink.process.returncode}):\n{sink.log_tail()}")
            if time.monotonic() - started > limit:
                tails = "\n".join(sink.log_tail() for sink in alive)
                pytest.fail(f"{what}: lag {self.lag()} after {limit:.0f} s:\n{tails}")
            time.sleep(0.1)
        return time.monotonic() - started

    def dead_letters(self, at_least: int, timeout: float = 30.0) -> list[DeadLetter]:
        """Every record on the dead-letter topic, once there are at least `at_least`."""
        consumer = Consumer(
            {
                "bootstrap.servers": self.servers,
                "group.id": f"dlq-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "log_level": 2,
            }
        )
        found: list[DeadLetter] = []
        try:
            consumer.assign([TopicPartition(self.dead_letter_topic, p, 0) for p in range(PARTITIONS)])
            total = sum(self.ends(self.dead_letter_topic))
            deadline = time.monotonic() + timeout
            while len(found) < max(at_least, total):
                if time.monotonic() > deadline:
                    pytest.fail(f"{len(found)} of {at_least} dead letters within {timeout:.0f} s")
                message = consumer.poll(0.5)
                if message is None or message.error() is not None:
                    continue
                headers = message.headers() or []
                pairs = headers.items() if isinstance(headers, dict) else headers
                named = {name: value.encode() if isinstance(value, str) else value or b"" for name, value in pairs}
                found.append(DeadLetter(message.key(), message.value() or b"", named))
        finally:
            consumer.close()
        return found

    # --- the store ----------------------------------------------------------------------------------------------

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        host, _, port = self.clickhouse_tcp.rpartition(":")
        client = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=60)
        try:
            return [tuple(row) for row in client.execute(sql)]
        finally:
            client.disconnect()

    def stored_counts(self) -> tuple[int, int, int]:
        """(rows in the table, distinct event ids, rows as ClickHouse collapses them with FINAL)."""
        ((rows, distinct),) = self.query(f"SELECT count(), uniqExact(event_id) FROM {self.database}.{TABLE}")
        ((collapsed,),) = self.query(f"SELECT count() FROM {self.database}.{TABLE} FINAL")
        return int(rows), int(distinct), int(collapsed)

    def stored_event_ids(self) -> set[str]:
        return {str(row[0]) for row in self.query(f"SELECT DISTINCT event_id FROM {self.database}.{TABLE}")}

    async def assert_answers_as_the_rules(self, events: Sequence[PlaybackEvent]) -> None:
        """The store's reads (the adapter the sink writes with) give what viewing_time gives for `events`, and the
        table holds each of their event ids, and no other, once as ClickHouse collapses rows."""
        rows, distinct, collapsed = self.stored_counts()
        expected_ids = {event.event_id for event in events}
        stored = self.stored_event_ids()
        missing, foreign = expected_ids - stored, stored - expected_ids
        assert not missing, (
            f"{len(missing)} of {len(expected_ids)} events are not in the store, e.g. {sorted(missing)[:3]}"
        )
        assert not foreign, f"{len(foreign)} events in the store were never produced, e.g. {sorted(foreign)[:3]}"
        assert (distinct, collapsed) == (len(expected_ids), len(expected_ids)), (rows, distinct, collapsed)
        store = ClickHousePlaybackAnalytics(f"clickhouse://{self.clickhouse_tcp}/{self.database}", timeout_seconds=60)
        try:
            movies = sorted({event.movie_id for event in events})
            assert await store.movie_totals(movies) == viewing_time.movie_totals(events, movies)
            everything = (0, 2**62)
            assert await store.top_movies(*everything, 1000) == viewing_time.top_movies(events, *everything, 1000)
            for user in sorted({event.user_id for event in events})[:8]:
                assert await store.watch_history(user, 1000) == viewing_time.watch_history(events, user, 1000)
        finally:
            await store.close()

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None


@contextlib.contextmanager
def sink_rig(kafka: Kafka, apicurio: Apicurio, clickhouse: ClickHouse) -> Iterator[Rig]:
    """A Rig on the devstack's engines; its topics and database are deleted afterwards."""
    run = uuid.uuid4().hex[:10]
    topic = f"e2e-sink-{run}"
    servers = kafka.endpoints()["bootstrap_servers"]
    ensure_topics(
        servers,
        replication_factor=1,
        topics=[lambda: TopicSpec(topic, PARTITIONS), lambda: TopicSpec(f"{topic}.dlq", PARTITIONS)],
    )
    url = apicurio.endpoints()["url"]
    (registered,) = register_all(url, topics={"playback_event": lambda: topic})
    made = Rig(
        servers=servers,
        registry_url=url,
        clickhouse_tcp=clickhouse.endpoints()["tcp"],
        topic=topic,
        dead_letter_topic=f"{topic}.dlq",
        group=f"e2e-sink-{run}",
        database=f"e2e_sink_{run}",
        schema_id=registered.schema_id,
    )
    try:
        yield made
    finally:
        made.close()
        for name in (topic, made.dead_letter_topic):
            delete_topic(servers, name)
        admin = AdminClient({"bootstrap.servers": servers})
        with contextlib.suppress(KafkaException):  # a group that never committed does not exist
            admin.delete_consumer_groups([made.group])[made.group].result(timeout=30)
        if clickhouse.status().healthy:
            made.query(f"DROP DATABASE IF EXISTS {made.database}")


def wait_for(done: Callable[[], bool], limit: float, what: str, sink: SinkProcess | None = None) -> float:
    """Until `done()`; the seconds it took. Fails naming `what` (with the sink's log) after `limit` seconds."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > limit:
            pytest.fail(f"{what} within {limit:.0f} s" + (f":\n{sink.log_tail()}" if sink else ""))
        time.sleep(0.1)
    return time.monotonic() - started
