"""Search latency through the gateway at a fixed request rate, beside the raw engine's, in one run.

    python -m bench.search_latency [--rps 200] [--seconds 20] [--catalogue PATH] [--write docs/benchmarks.md]

Loads the catalogue (the legacy export by default) with the ETL into a fresh tantivy index, starts the
mesh on free ports exactly as `make run` does, then:
1. raw engine: the same queries straight through the SearchIndex adapter, in this process, one at a time;
2. through Envoy, one at a time (REST → Envoy → gRPC → service → engine → back);
3. through Envoy, open loop at --rps: requests are sent on a fixed schedule whatever the replies do, so a
   slow reply cannot hide the queueing it causes.
The load generator shares the 2 cores with Envoy and the service: the figures include its own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.report import percentile, publish
from devstack.mesh import free_port
from search_svc.adapters.tantivy_search_index import TantivySearchIndex
from search_svc.domain.video_query import SortField, SortOrder, VideoQuery

REPO = Path(__file__).resolve().parent.parent
LEGACY = REPO.parent / "shared" / "data" / "movies-legacy.sqlite"
MARK = ("<!-- search-latency:begin -->", "<!-- search-latency:end -->")

# (REST parameters, the same request as a VideoQuery): searches of every kind, listings, a filter.
QUERIES: list[dict[str, str]] = [
    {"search": "star wars"},
    {"search": "empire strikes back"},
    {"search": "a star is born"},
    {"search": "harrison ford"},
    {"search": "strar trek"},
    {"search": "ыефк екул"},
    {"search": "lucas sith"},
    {"search": "born star"},
    {"search": "rock star", "sort": "imdb_rating", "sort_order": "desc"},
    {"limit": "50"},
    {"limit": "50", "page": "5", "sort": "title"},
    {"genre": "Documentary", "min_rating": "7"},
]


def as_query(params: dict[str, str]) -> VideoQuery:
    return VideoQuery(
        text=params.get("search", ""),
        limit=int(params.get("limit", "50")),
        page=int(params.get("page", "1")),
        sort=SortField(params["sort"]) if "sort" in params else None,
        order=SortOrder(params.get("sort_order", "asc")),
        genres=(params["genre"],) if "genre" in params else (),
        min_rating=float(params["min_rating"]) if "min_rating" in params else None,
    )


async def raw_engine(tantivy_dir: Path, rounds: int) -> list[float]:
    index = TantivySearchIndex(tantivy_dir)
    samples = []
    try:
        for params in QUERIES:  # warm-up
            await index.search(as_query(params))
        for _ in range(rounds):
            for params in QUERIES:
                started = time.perf_counter()
                await index.search(as_query(params))
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await index.close()
    return samples


async def sequential(base_url: str, rounds: int) -> list[float]:
    samples = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for params in QUERIES:
            (await client.get("/api/v1/video/collection", params=params)).raise_for_status()
        for _ in range(rounds):
            for params in QUERIES:
                started = time.perf_counter()
                (await client.get("/api/v1/video/collection", params=params)).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
    return samples


async def open_loop(base_url: str, rps: int, seconds: float) -> tuple[list[float], int]:
    samples: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as client:

        async def one(params: dict[str, str]) -> None:
            nonlocal failures
            started = time.perf_counter()
            try:
                reply = await client.get("/api/v1/video/collection", params=params)
                if reply.status_code != 200:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
            samples.append((time.perf_counter() - started) * 1000)

        tasks = []
        begin = time.perf_counter()
        for i in range(int(rps * seconds)):
            delay = begin + i / rps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(QUERIES[i % len(QUERIES)])))
        await asyncio.gather(*tasks)
    return samples, failures


def start_mesh(tmp: Path, catalogue: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    http_port = free_port()
    tantivy_dir = tmp / "tantivy"
    env = os.environ | {
        "CATALOGUE": str(catalogue),
        "SEARCH_TANTIVY_DIR": str(tantivy_dir),
        "GATEWAY_HTTP_PORT": str(http_port),
        "GATEWAY_ADMIN_PORT": str(free_port()),
        "SEARCH_LOG_LEVEL": "WARNING",
    }
    for name in ("SEARCH", "UGC", "SINK"):
        env[f"{name}_GRPC_PORT"] = "0"
        env[f"{name}_METRICS_PORT"] = "0"
    log = tmp / "mesh.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 180
    while "cinemesh is up" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the mesh did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{http_port}", tantivy_dir


def row(name: str, samples: list[float]) -> str:
    return (
        f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | {percentile(samples, 0.9):.2f} | "
        f"{percentile(samples, 0.99):.2f} | {max(samples):.2f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=30, help="sequential rounds over the query list")
    parser.add_argument("--catalogue", type=Path, default=LEGACY)
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cinemesh-latency-") as tmp_name:
        tmp = Path(tmp_name)
        process, base_url, tantivy_dir = start_mesh(tmp, args.catalogue)
        try:
            raw = asyncio.run(raw_engine(tantivy_dir, args.rounds))
            through = asyncio.run(sequential(base_url, args.rounds))
            loaded, failures = asyncio.run(open_loop(base_url, args.rps, args.seconds))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    ratio = statistics.median(loaded) / statistics.median(raw)
    section = "\n".join(
        [
            MARK[0],
            "## Search latency through the gateway (embedded profile, tantivy)",
            "",
            f"`python -m bench.search_latency --rps {args.rps} --seconds {args.seconds:g}` — "
            f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, catalogue `{args.catalogue.name}`. "
            f"{len(QUERIES)} requests (searches of every kind, listings, a filtered listing) cycled; milliseconds.",
            "",
            "| path | requests | p50 | p90 | p99 | max |",
            "|---|---|---|---|---|---|",
            row("raw engine (adapter in-process), one at a time", raw),
            row("REST through Envoy, one at a time", through),
            row(f"REST through Envoy, open loop at {args.rps} rps", loaded),
            "",
            f"Failed requests under load: {failures}. p50 under load ÷ raw engine p50: {ratio:.2f}×.",
            MARK[1],
        ]
    )
    publish(section, args.write, MARK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
