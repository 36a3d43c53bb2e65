"""The sink end to end: a backlog of playback events on Kafka into ClickHouse, beside a raw insert of the same rows.

    python -m bench.sink_throughput [--events 1000000] [--partitions 6] [--batch-events 5000]
                                    [--batch-seconds 0.5] [--fresh-rate 2000] [--fresh-seconds 20]
                                    [--write docs/benchmarks.md]

Starts (or reuses) the devstack's Kafka, Apicurio and ClickHouse, and makes a topic (and its dead-letter topic) of
its own with the event schema registered under its subject, as `make schemas` does. Then, in one run:
1. raw: the same rows the sink will store, decoded beforehand (playback_sql.row), inserted with clickhouse-driver
   in batches of --batch-events into a table made by the sink's own statements (same engine, order, partitions),
   in a database of its own; timed from the first insert to the last acknowledgement. Run before and after the
   sink, the faster of the two kept (machine noise only ever slows a run down).
2. sink: --events events shaped like the UGC service's (tests/playback_streams.py: viewings, duplicates, retries,
   late and unknown events), encoded beforehand as the UGC service writes them (Avro, Confluent framing, keyed by
   user) and put on the topic; then `python -m sink_svc` in the production profile is started and timed from
   its spawn until its group has committed every record (it commits only once the rows are in ClickHouse, so
   then every event is queryable). Checked: ClickHouse then holds every distinct event id produced.
3. freshness: with the sink caught up, events stamped with the current time as their server time are produced
   at --fresh-rate a second for --fresh-seconds; an event is visible once the group's commit passes its offset
   (polled every 20 ms). p50/p99/max of stamp → visible, and the p99 bucket of the sink's own
   sink_freshness_seconds histogram over the same run (one observation a batch: its stalest event).
The result is events a second end to end and its ratio to raw. The topic, group and databases are deleted at the
end; engines started here are stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from clickhouse_driver import Client  # type: ignore[import-untyped]
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from bench.devstack_engines import devstack_engines
from bench.gateway_path import REPO, wait_serving
from bench.report import percentile, publish
from devstack.mesh import free_port
from devstack.schemas import register_all
from devstack.topics import TopicSpec, ensure_topics
from meshkit.avro_wire import encode
from meshkit.bundled_schemas import bundled_schema
from sink_svc.adapters import playback_sql
from sink_svc.domain.playback_event import PlaybackEvent
from tests.playback_streams import StreamShape, avro_record, deliveries

MARKS = ("<!-- sink-throughput:begin -->", "<!-- sink-throughput:end -->")
SCHEMA = bundled_schema("playback_event")
# Events a viewing of tests/playback_streams.py holds on average, copies included (measured: ~9.3).
EVENTS_PER_VIEWING = 9
POLL_SECONDS = 0.02


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the events -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    records: list[tuple[bytes, bytes]]
    """(key, value) as the UGC service writes them."""
    rows: list[tuple[Any, ...]]
    """The same events as the store's rows."""
    distinct: int


def backlog(count: int, schema_id: int, seed: int = 41) -> Backlog:
    """`count` events of generated viewings, encoded and as rows."""
    shape = StreamShape(users=max(40, count // 200), movies=max(25, count // 2000), viewings=count)
    records: list[tuple[bytes, bytes]] = []
    rows: list[tuple[Any, ...]] = []
    ids: set[str] = set()
    started = time.monotonic()
    for viewing in deliveries(seed, shape):
        for event in viewing:
            records.append((event.user_id.encode(), encode(schema_id, SCHEMA, avro_record(event))))
            rows.append(playback_sql.row(event))
            ids.add(event.event_id)
            if len(records) == count:
                progress(f"encoded {count:,} events in {time.monotonic() - started:.1f} s")
                return Backlog(records, rows, len(ids))
        if len(records) % 100_000 < EVENTS_PER_VIEWING:
            progress(f"encoding: {len(records):,} of {count:,}")
    raise AssertionError("the stream ended early")  # viewings >= count: never


# --- Kafka ----------------------------------------------------------------------------------------------------------


@dataclass
class Topic:
    servers: str
    name: str
    partitions: int
    group: str

    def produce(self, records: Sequence[tuple[bytes, bytes]]) -> float:
        """Every record on the topic, acknowledged (acks=all); the seconds it took."""
        producer = Producer(
            {
                "bootstrap.servers": self.servers,
                "enable.idempotence": True,
                "linger.ms": 20,
                "batch.size": 1_000_000,
                "compression.type": "lz4",
            }
        )
        started = time.monotonic()
        for index, (key, value) in enumerate(records):
            while True:
                try:
                    producer.produce(self.name, value, key)
                    break
                except BufferError:
                    producer.poll(0.05)
            if index % 100_000 == 0 and index:
                progress(f"produced {index:,} of {len(records):,}")
                producer.poll(0)
        left = producer.flush(120)
        if left:
            raise RuntimeError(f"{left} records were not acknowledged")
        return time.monotonic() - started

    def watcher(self) -> Consumer:
        # Of the sink's group, never subscribed: it reads the group's commits without joining it.
        return Consumer({"bootstrap.servers": self.servers, "group.id": self.group, "log_level": 2})

    def committed(self, watcher: Consumer) -> list[int]:
        found = watcher.committed([TopicPartition(self.name, p) for p in range(self.partitions)], timeout=10)
        return [max(0, tp.offset) for tp in found]

    def ends(self, watcher: Consumer) -> list[int]:
        return [
            watcher.get_watermark_offsets(TopicPartition(self.name, p), timeout=10)[1] for p in range(self.partitions)
        ]


def _given(spec: TopicSpec) -> Callable[[], TopicSpec]:
    return lambda: spec


@contextmanager
def topic_of_its_own(servers: str, registry_url: str, partitions: int) -> Iterator[tuple[Topic, int]]:
    run = uuid.uuid4().hex[:8]
    name = f"bench-sink-{run}"
    specs = [TopicSpec(name, partitions), TopicSpec(f"{name}.dlq", partitions)]
    ensure_topics(servers, replication_factor=1, topics=[_given(spec) for spec in specs])
    (registered,) = register_all(registry_url, topics={"playback_event": lambda: name})
    try:
        yield Topic(servers, name, partitions, f"bench-sink-{run}"), registered.schema_id
    finally:
        admin = AdminClient({"bootstrap.servers": servers})
        for future in admin.delete_topics([spec.name for spec in specs]).values():
            future.result(timeout=30)
        with suppress(KafkaException):  # a group that never committed does not exist
            admin.delete_consumer_groups([f"bench-sink-{run}"])[f"bench-sink-{run}"].result(timeout=30)


# --- ClickHouse -----------------------------------------------------------------------------------------------------


def clickhouse_client(tcp: str) -> Client:
    host, _, port = tcp.rpartition(":")
    return Client(host, port=int(port), connect_timeout=5, send_receive_timeout=300)


def raw_insert(tcp: str, rows: list[tuple[Any, ...]], distinct: int, batch: int) -> float:
    """The rows into a fresh table made by the sink's statements, `batch` a time; seconds from first to last."""
    database = f"bench_raw_{uuid.uuid4().hex[:8]}"
    client = clickhouse_client(tcp)
    try:
        dialect = playback_sql.Dialect.parse(str(client.execute("SELECT version()")[0][0]))
        for statement in playback_sql.create_statements(database, dialect, None):
            client.execute(statement)
        prefix = playback_sql.insert_prefix(database, None)
        started = time.monotonic()
        for start in range(0, len(rows), batch):
            client.execute(prefix, rows[start : start + batch])
        seconds = time.monotonic() - started
        # Copies of one event may be merged away already: the distinct ids are what must all be there.
        stored = client.execute(f"SELECT uniqExact(event_id) FROM {database}.{playback_sql.TABLE}")[0][0]
        if stored != distinct:
            raise RuntimeError(f"raw insert: {stored} distinct events stored of {distinct}")
        return seconds
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()


# --- the sink -------------------------------------------------------------------------------------------------------


@dataclass
class Sink:
    process: subprocess.Popen[bytes]
    metrics_port: int
    log: Path

    def histogram(self, name: str) -> dict[float, float]:
        """Cumulative bucket counts by upper bound."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).text
        return {
            float(sample.labels["le"]): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == f"{name}_bucket"
        }


@contextmanager
def sink_process(env: dict[str, str], log: Path) -> Iterator[Sink]:
    port, metrics_port = free_port(), free_port()
    child_env = os.environ | env | {"SINK_GRPC_PORT": str(port), "SINK_METRICS_PORT": str(metrics_port)}
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "sink_svc"], cwd=REPO, env=child_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield Sink(child, metrics_port, log)
        wait_serving(port, child, log)  # it must still be serving at the end
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()


def until_committed(topic: Topic, watcher: Consumer, total: int, sink: Sink, limit: float) -> float:
    """Polls the group's commits until they cover `total` records; the monotonic time they did."""
    started = last_report = time.monotonic()
    while True:
        done = sum(topic.committed(watcher))
        now = time.monotonic()
        if done >= total:
            return now
        if sink.process.poll() is not None:
            raise RuntimeError(f"the sink exited:\n{sink.log.read_text()[-3000:]}")
        if now - started > limit:
            raise RuntimeError(f"{done:,} of {total:,} committed after {limit:.0f} s")
        if now - last_report > 5:
            progress(f"committed {done:,} of {total:,} ({done / (now - started):,.0f}/s so far)")
            last_report = now
        time.sleep(0.05)


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile `q` of the observations made between two scrapes."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if total and count >= q * total:
            return bound
    return float("nan")


@dataclass(frozen=True)
class Freshness:
    events: int
    rate: float
    seconds: list[float]
    sink_p99_bucket: float


def freshness(topic: Topic, schema_id: int, sink: Sink, rate: float, seconds: float) -> Freshness:
    """Events stamped now as their server time, at `rate` a second; each one's stamp → its offset committed."""
    before = sink.histogram("sink_freshness_seconds")
    stamps: dict[tuple[int, int], float] = {}
    visible: dict[tuple[int, int], float] = {}
    producing = threading.Event()
    producing.set()

    def watch() -> None:
        # Offsets of a partition are contiguous: a commit moving from c0 to c1 makes [c0, c1) visible now.
        watcher = topic.watcher()
        try:
            seen = topic.committed(watcher)
            while producing.is_set() or len(visible) < len(stamps):
                committed = topic.committed(watcher)
                now = time.time()
                for partition, (old, new) in enumerate(zip(seen, committed, strict=True)):
                    for offset in range(old, new):
                        visible[(partition, offset)] = now
                seen = committed
                time.sleep(POLL_SECONDS)
        finally:
            watcher.close()

    watching = threading.Thread(target=watch, name="commit-watcher", daemon=True)
    watching.start()
    producer = Producer({"bootstrap.servers": topic.servers, "enable.idempotence": True, "linger.ms": 5})
    count = int(rate * seconds)
    started = time.monotonic()
    for index in range(count):
        ahead = started + index / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        now_ms = time.time_ns() // 1_000_000
        event = PlaybackEvent(
            event_id=str(uuid.uuid4()),
            user_id=f"fresh-user-{index % 500}",
            movie_id=f"tt{index % 100:07d}",
            type="play" if index % 3 else "pause",
            position_ms=index,
            client_time_ms=now_ms,
            server_time_ms=now_ms,
        )

        def delivered(error: Any, message: Any, stamp: float = now_ms / 1000) -> None:
            if error is None:
                stamps[(message.partition(), message.offset())] = stamp

        producer.produce(
            topic.name, encode(schema_id, SCHEMA, avro_record(event)), event.user_id.encode(), on_delivery=delivered
        )
        producer.poll(0)
    producer.flush(60)
    producing.clear()
    watching.join(120)
    if watching.is_alive():
        raise RuntimeError(f"{len(stamps) - len(visible)} fresh events not committed within 120 s")
    after = sink.histogram("sink_freshness_seconds")
    return Freshness(
        count, rate, [visible[key] - stamp for key, stamp in stamps.items()], bucket_quantile(before, after, 0.99)
    )


# --- the run --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    events: int
    distinct: int
    produce_seconds: float
    sink_seconds: float
    """From the sink's spawn to the last record committed."""
    first_commit_seconds: float
    """From the spawn to the first commit (start-up, joining the group, the first batch)."""
    raw_seconds: list[float]
    fresh: Freshness


def run(args: argparse.Namespace) -> Figures:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cinemesh-sink-bench-")))
        engines = stack.enter_context(devstack_engines("kafka", "apicurio", "clickhouse"))
        servers = engines["kafka"].endpoints()["bootstrap_servers"]
        tcp = engines["clickhouse"].endpoints()["tcp"]
        topic, schema_id = stack.enter_context(
            topic_of_its_own(servers, engines["apicurio"].endpoints()["url"], args.partitions)
        )
        events = backlog(args.events, schema_id)

        raw_seconds = [raw_insert(tcp, events.rows, events.distinct, args.batch_events)]
        progress(f"raw insert: {args.events / raw_seconds[0]:,.0f} rows/s")

        produce_seconds = topic.produce(events.records)
        progress(f"produced {args.events:,} records in {produce_seconds:.1f} s")
        database = f"bench_sink_{uuid.uuid4().hex[:8]}"
        stack.callback(lambda: clickhouse_client(tcp).execute(f"DROP DATABASE IF EXISTS {database}"))
        env = {
            "SINK_PROFILE": "production",
            "SINK_KAFKA_BOOTSTRAP_SERVERS": servers,
            "SINK_SCHEMA_REGISTRY_URL": engines["apicurio"].endpoints()["url"],
            "SINK_CLICKHOUSE_URL": f"clickhouse://{tcp}/{database}",
            "SINK_EVENTS_TOPIC": topic.name,
            "SINK_DEAD_LETTER_TOPIC": f"{topic.name}.dlq",
            "SINK_CONSUMER_GROUP": topic.group,
            "SINK_BATCH_MAX_EVENTS": str(args.batch_events),
            "SINK_BATCH_MAX_SECONDS": f"{args.batch_seconds:g}",
            "SINK_LOG_LEVEL": args.log_level,
            "SINK_LOG_FORMAT": "json",
        }
        watcher = topic.watcher()
        stack.callback(watcher.close)
        spawned = time.monotonic()
        sink = stack.enter_context(sink_process(env, tmp / "sink.log"))
        first = spawned
        while sum(topic.committed(watcher)) == 0:
            if sink.process.poll() is not None:
                raise RuntimeError(f"the sink exited:\n{sink.log.read_text()[-3000:]}")
            time.sleep(0.05)
            first = time.monotonic()
        done = until_committed(topic, watcher, args.events, sink, limit=3600)
        progress(f"sink: {args.events:,} events committed {done - spawned:.1f} s after its spawn")
        client = clickhouse_client(tcp)
        stored = client.execute(f"SELECT uniqExact(event_id) FROM {database}.{playback_sql.TABLE}")[0][0]
        client.disconnect()
        if stored != events.distinct:
            raise RuntimeError(f"ClickHouse holds {stored:,} distinct events of the {events.distinct:,} produced")

        progress(f"freshness: {args.fresh_rate:g} events/s for {args.fresh_seconds:g} s")
        fresh = freshness(topic, schema_id, sink, args.fresh_rate, args.fresh_seconds)

        raw_seconds.append(raw_insert(tcp, events.rows, events.distinct, args.batch_events))
        progress(f"raw insert again: {args.events / raw_seconds[1]:,.0f} rows/s")
    return Figures(args.events, events.distinct, produce_seconds, done - spawned, first - spawned, raw_seconds, fresh)


def report(args: argparse.Namespace, figures: Figures) -> str:
    sink_rate = figures.events / figures.sink_seconds
    steady = figures.events / (figures.sink_seconds - figures.first_commit_seconds)
    raw_rate = figures.events / min(figures.raw_seconds)
    fresh = figures.fresh.seconds
    lines = [
        MARKS[0],
        "## Sink: Kafka to ClickHouse",
        "",
        f"`python -m bench.sink_throughput --events {args.events} --partitions {args.partitions} --batch-events "
        f"{args.batch_events} --batch-seconds {args.batch_seconds:g}` — {datetime.now(UTC):%Y-%m-%d}, "
        f"{os.cpu_count()} cores, Kafka, Apicurio and ClickHouse 18.16 from the devstack on the same machine. "
        f"{figures.events:,} generated playback events ({figures.distinct:,} distinct ids; duplicates, retries, "
        f"late and unknown events as tests/playback_streams.py makes them), Avro-encoded beforehand and put on a "
        f"topic of {args.partitions} partitions ({figures.produce_seconds:.1f} s), then `python -m sink_svc` "
        "(production profile) started and timed until its group had committed every record (every row "
        "queryable).",
        "",
        "| path | seconds | events/s |",
        "|---|---|---|",
        f"| raw: clickhouse-driver insert of the decoded rows, {args.batch_events:,} a batch, same table "
        f"(best of {len(figures.raw_seconds)}) | {min(figures.raw_seconds):.1f} | {raw_rate:,.0f} |",
        f"| sink: spawn → last commit (consume, Avro decode by writer id, insert, commit) | "
        f"{figures.sink_seconds:.1f} | {sink_rate:,.0f} |",
        f"| sink: first commit → last commit (start-up and group join of "
        f"{figures.first_commit_seconds:.1f} s left out) | {figures.sink_seconds - figures.first_commit_seconds:.1f} "
        f"| {steady:,.0f} |",
        "",
        f"Sink ÷ raw: {sink_rate / raw_rate:.2f}× end to end, {steady / raw_rate:.2f}× after the first commit.",
        "",
        f"Freshness, the sink caught up: {figures.fresh.events:,} events at {figures.fresh.rate:,.0f}/s stamped "
        f"with their produce time as server time; stamp → the group's commit passing the event's offset (polled "
        f"every {POLL_SECONDS * 1000:.0f} ms): p50 {percentile(fresh, 0.5):.3f} s, p99 "
        f"{percentile(fresh, 0.99):.3f} s, max {max(fresh):.3f} s (batches close after "
        f"{args.batch_seconds:g} s). The sink's own `sink_freshness_seconds` (each batch's stalest event) puts "
        f"its p99 over the same run in the bucket ≤ {figures.fresh.sink_p99_bucket:g} s.",
        MARKS[1],
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sink_throughput",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[2:]),
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the backlog")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of the bench's topic")
    parser.add_argument("--batch-events", type=int, default=5000, help="SINK_BATCH_MAX_EVENTS, and the raw batch")
    parser.add_argument("--batch-seconds", type=float, default=0.5, help="SINK_BATCH_MAX_SECONDS")
    parser.add_argument("--fresh-rate", type=float, default=2000, help="events a second in the freshness run")
    parser.add_argument("--fresh-seconds", type=float, default=20, help="length of the freshness run")
    parser.add_argument("--log-level", default="INFO", help="SINK_LOG_LEVEL (INFO logs one line a batch)")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    publish(report(args, run(args)), args.write, MARKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
