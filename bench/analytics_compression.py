"""How small the analytics store keeps playback events: compressed against uncompressed bytes, per column and in all,
on chDB (column codecs) and on the ClickHouse 18.16 server (no codecs: its default LZ4), in one run.

    python -m bench.analytics_compression [--rows 2000000] [--seed 1] [--engines chdb clickhouse] \\
        [--write docs/benchmarks.md]

The events are generated with the UGC service's shapes (tests/playback_streams.py: uuid event, user and session
ids, tt movie ids with a few hits and a long tail, viewings of 2-15 events whose positions follow the clock, ~5 %
redelivered copies, ~3 % client retries, ~4 % late), spread over --days days, so over that many days / 30 monthly
partitions. They are inserted through the store's own adapters (sink_svc/adapters), in batches of --batch, into a
fresh database; the table is then merged (OPTIMIZE ... FINAL, which also collapses the copies of an event) and
system.parts / system.columns give the bytes of the active parts. On chDB the same events are also stored in a
table with 18.16's definition (no codecs) for comparison. Everything made here is dropped at the end; the ClickHouse
server is the devstack's (a healthy one is reused and left running; one started here is stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.report import publish
from devstack.engines.clickhouse import ClickHouse
from etl.progress import progress
from sink_svc.adapters import playback_sql
from sink_svc.adapters.chdb_playback_analytics import ChdbPlaybackAnalytics
from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics
from sink_svc.adapters.playback_sql import Dialect
from sink_svc.adapters.sql_playback_analytics import SqlPlaybackAnalytics
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from tests.playback_streams import StreamShape, deliveries

MARKS = ("<!-- analytics-compression:begin -->", "<!-- analytics-compression:end -->")
# Viewings of 2-15 events plus copies: about 9.3 rows each (measured on the generator's output).
ROWS_PER_VIEWING = 9


@dataclass(frozen=True)
class Measured:
    label: str
    rows: int
    parts: int
    compressed: int
    uncompressed: int
    on_disk: int
    columns: list[tuple[str, int, int]]
    insert_seconds: float


def events(rows: int, seed: int, days: int) -> Iterator[PlaybackEvent]:
    shape = StreamShape(users=max(1, rows // 40), movies=20_000, viewings=rows // ROWS_PER_VIEWING * 2, span_days=days)
    produced = 0
    for delivered in deliveries(seed, shape):
        for event in delivered:
            yield event
            produced += 1
            if produced == rows:
                return


def chunks(source: Iterator[PlaybackEvent], size: int) -> Iterator[list[PlaybackEvent]]:
    chunk: list[PlaybackEvent] = []
    for event in source:
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def fill(stores: list[SqlPlaybackAnalytics], args: argparse.Namespace) -> dict[int, float]:
    spent = {id(store): 0.0 for store in stores}
    with progress("generating and inserting", args.rows, unit="events") as advance:
        offset = 0
        for chunk in chunks(events(args.rows, args.seed, args.days), args.batch):
            batch = EventBatch("ugc.playback-events", 0, offset, offset + len(chunk) - 1, chunk)
            for store in stores:
                started = time.perf_counter()
                await store.insert(batch)
                spent[id(store)] += time.perf_counter() - started
            offset += len(chunk)
            advance(len(chunk))
    return spent


def measure(store: SqlPlaybackAnalytics, label: str, insert_seconds: float) -> Measured:
    db, table = playback_sql.literal(store.database), playback_sql.literal(playback_sql.TABLE)
    store._query(f"OPTIMIZE TABLE {store.database}.{playback_sql.TABLE} FINAL")
    where = f"database = {db} AND table = {table}"
    parts = store._query(
        "SELECT count(), sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes), sum(bytes_on_disk) "
        f"FROM system.parts WHERE {where} AND active"
    )[0]
    columns = store._query(
        f"SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns WHERE {where} "
        "ORDER BY data_compressed_bytes DESC"
    )
    count, rows, compressed, uncompressed, on_disk = (int(v) for v in parts)
    return Measured(
        label,
        rows,
        count,
        compressed,
        uncompressed,
        on_disk,
        [(str(n), int(c), int(u)) for n, c, u in columns],
        insert_seconds,
    )


@contextlib.contextmanager
def devstack_clickhouse() -> Iterator[ClickHouse]:
    server = ClickHouse()
    started_here = not server.status().healthy
    if started_here:
        print("starting ClickHouse from the devstack", file=sys.stderr, flush=True)
        server.install()
        server.start()
    try:
        yield server
    finally:
        if started_here:
            server.stop()


async def run(args: argparse.Namespace) -> list[Measured]:
    suffix = uuid.uuid4().hex[:8]
    stores: list[tuple[SqlPlaybackAnalytics, str]] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-chdb-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, scratch, True)
        if "chdb" in args.engines:
            chdb = ChdbPlaybackAnalytics(scratch, database=f"bench_{suffix}")
            plain = ChdbPlaybackAnalytics(scratch, database=f"bench_plain_{suffix}")
            plain._dialect = Dialect((18, 16, 1))
            stores += [(chdb, "chDB 26.9, codecs"), (plain, "chDB 26.9, 18.16's definition (LZ4)")]
        if "clickhouse" in args.engines:
            server = stack.enter_context(devstack_clickhouse())
            url = f"clickhouse://{server.endpoints()['tcp']}/bench_{suffix}"
            stores.append((ClickHousePlaybackAnalytics(url, timeout_seconds=300), "ClickHouse 18.16.1 (LZ4)"))
        for store, _ in stores:
            await store.prepare()
        try:
            spent = await fill([store for store, _ in stores], args)
            return [measure(store, label, spent[id(store)]) for store, label in stores]
        finally:
            for store, _ in stores:
                with contextlib.suppress(Exception):
                    store._query(f"DROP DATABASE IF EXISTS {store.database}")
                await store.close()


def mib(n: int) -> str:
    return f"{n / 2**20:,.1f}"


def report(results: list[Measured], args: argparse.Namespace) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        MARKS[0],
        "## Analytics store: compression of playback events",
        "",
        f"`python -m bench.analytics_compression --rows {args.rows} --seed {args.seed} --days {args.days} "
        f"--batch {args.batch}` — {today}, {platform.machine()}, 2 cores shared with other work while it ran. "
        "Generated events with the UGC service's shapes, inserted through the store's adapters, merged "
        "(`OPTIMIZE ... FINAL`), then bytes of the active parts from `system.parts` / `system.columns`. The two "
        "releases count uncompressed bytes differently (the same rows, two sizes in the table), so compare "
        "compressed bytes per row. Insert seconds are the adapter's, rows written as "
        "literals on chDB and as native columns by clickhouse-driver, on a busy machine: not a throughput figure.",
        "",
        "| engine and table | rows after merge | parts | uncompressed MiB | compressed MiB | ratio | bytes/row "
        "| insert s (adapter) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in results:
        lines.append(
            f"| {m.label} | {m.rows:,} | {m.parts} | {mib(m.uncompressed)} | {mib(m.compressed)} "
            f"| {m.uncompressed / max(1, m.compressed):.2f} | {m.compressed / max(1, m.rows):.1f} "
            f"| {m.insert_seconds:.1f} |"
        )
    lines += ["", "Per column (compressed MiB, ratio):", ""]
    names = [name for name, _, _ in results[0].columns]
    lines.append("| column | " + " | ".join(m.label for m in results) + " |")
    lines.append("|---|" + "---|" * len(results))
    for name in names:
        cells = []
        for m in results:
            found = {n: (c, u) for n, c, u in m.columns}.get(name)
            # A compact part (a small one) keeps its columns in one file: no per-column figures.
            cells.append("—" if not found or not found[0] else f"{mib(found[0])} ({found[1] / found[0]:.1f}×)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(MARKS[1])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics_compression", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000, help="events generated (copies included)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed: the same seed, the same events")
    parser.add_argument("--days", type=int, default=180, help="days the events spread over")
    parser.add_argument("--batch", type=int, default=100_000, help="events per insert")
    parser.add_argument("--engines", nargs="+", choices=["chdb", "clickhouse"], default=["chdb", "clickhouse"])
    parser.add_argument("--write", type=Path, help="replace this benchmark's section of a Markdown file")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    publish(report(results, args), args.write, MARKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
