"""Search latency through the gateway at a fixed request rate, beside the raw engine's, in one run.

    python -m bench.search_latency [--engine tantivy|opensearch] [--synthetic N | --catalogue PATH]
                                   [--rps 200] [--seconds 20] [--step-rates 200,400,...] [--reuse]
                                   [--write docs/benchmarks.md]

Loads the catalogue (the legacy export by default, or N generated movies) with the ETL into the engine, starts
the mesh on free ports as `make run` does (for OpenSearch, the search service in the production profile against
the devstack's OpenSearch; one started here runs as production would, full JIT and a 2 GiB heap, since the
devstack's C1-only test JVM spends more CPU a request: see bench/opensearch_server.py; a running one is measured
as it is, and the table says which JVM it had), then, with the same requests cycled:
1. raw engine: the SearchIndex adapter in this process, one request at a time (before and after the load runs,
   pooled, so drift on a noisy machine shows in both);
2. OpenSearch only: its `_msearch` over HTTP with the adapter's own request bodies, open loop at --rps;
3. REST through Envoy, one request at a time (REST → Envoy → gRPC → service → engine → back);
4. REST through Envoy, open loop at --rps: requests leave on a fixed schedule whatever the replies do, so a
   slow reply cannot hide the queueing it causes;
5. the floor: the same requests through another Envoy rendered from the same template, to a no-op grpc.aio
   SearchService (bench/noop_service.py) that answers each with the real service's own reply to it, at --rps;
   then the same no-op in the services' own server (meshkit: interceptor, health, reflection, metrics), so the
   search service's CPU above it is its handler's work (servicer and engine);
6. with --step-rates: the open loop again at each rate in turn until p99 passes the catalogue's bound, with the
   CPU each process spent a request: the highest rate a pod of this shape holds.
HTTP load comes from vegeta (bench/vegeta.py), a native generator; it still shares the cores with the mesh.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench import cpu, vegeta
from bench.gateway_path import gateway_to, process, wait_serving
from bench.opensearch_server import devstack_opensearch
from bench.report import percentile, publish
from devstack.mesh import free_port
from devstack.services import SERVICES
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader
from search_svc.adapters.opensearch_queries import msearch_lines
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.adapters.tantivy_search_index import TantivySearchIndex
from search_svc.adapters.tantivy_versions import is_published
from search_svc.domain.video_query import VideoQuery, video_query
from search_svc.ports.search_index import SearchIndex
from tests.data import LEGACY_EXPORT

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "bench"
COLLECTION = "/api/v1/video/collection"

# Searches of every kind (phrase, person, typo, wrong layout, cross-field, reordered), listings, a filter.
LEGACY_REQUESTS: list[dict[str, str]] = [
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
# The same kinds over the generator's vocabulary (etl/synthetic.py): common words, so large result sets.
SYNTHETIC_REQUESTS: list[dict[str, str]] = [
    {"search": "silent river"},
    {"search": "тайна океана"},
    {"search": "последняя звезда"},
    {"search": "james smith"},
    {"search": "silnet rievr"},
    {"search": "nfqyf jrtfyf"},
    {"search": "смирнов граница"},
    {"search": "river silent"},
    {"search": "empire", "sort": "imdb_rating", "sort_order": "desc"},
    {"limit": "50"},
    {"limit": "50", "page": "5", "sort": "title"},
    {"genre": "Documentary", "min_rating": "7"},
]


@dataclass(frozen=True)
class Catalogue:
    source: Path
    name: str  # names the index, the alias and the report's section
    requests: list[dict[str, str]]
    p99_target: dict[str, float]  # by engine, milliseconds
    # The p99 a rate must hold in --step-rates, the same on both engines: what a pod is sized by.
    step_bound: float
    # The ratio is a target on the legacy catalogue only; elsewhere it is information.
    p50_ratio_target: float | None


def as_query(params: dict[str, str]) -> VideoQuery:
    """The request as the service builds it from the REST parameters, so both paths ask the same thing."""
    return video_query(
        limit=int(params["limit"]) if "limit" in params else None,
        page=int(params["page"]) if "page" in params else None,
        search=params.get("search", ""),
        sort=params.get("sort", ""),
        sort_order=params.get("sort_order", ""),
        genres=[params["genre"]] if "genre" in params else [],
        min_rating=float(params["min_rating"]) if "min_rating" in params else None,
        max_rating=None,
    )


def catalogue_of(args: argparse.Namespace) -> Catalogue:
    if args.synthetic:
        source = WORK / f"synthetic-{args.synthetic}.sqlite"
        if not source.exists():
            WORK.mkdir(parents=True, exist_ok=True)
            etl("synthetic", str(source), "--movies", str(args.synthetic))
        targets = {"tantivy": 50.0, "opensearch": 100.0}
        return Catalogue(source, f"synthetic-{args.synthetic}", SYNTHETIC_REQUESTS, targets, 50.0, None)
    source = args.catalogue.resolve()
    name = re.sub(r"[^a-z0-9-]+", "-", source.stem.lower()).strip("-")
    return Catalogue(source, name, LEGACY_REQUESTS, {"tantivy": 20.0, "opensearch": 20.0}, 20.0, 1.5)


def etl(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "etl", *args], cwd=REPO, check=True)


@dataclass(frozen=True)
class Engine:
    """Where the catalogue is served from, and how the search service is told so."""

    name: str
    service_env: dict[str, str]
    open_index: Callable[[], SearchIndex]
    raw_http: Callable[[VideoQuery], vegeta.Target] | None  # the engine's own HTTP API, if it has one
    note: str = ""
    pid: int | None = None  # a server process, whose CPU time is counted


@contextmanager
def tantivy_engine(catalogue: Catalogue, reuse: bool) -> Iterator[Engine]:
    directory = WORK / f"tantivy-{catalogue.name}"
    if not (reuse and is_published(directory)):
        etl("load", str(catalogue.source), "--engine", "tantivy", "--tantivy-dir", str(directory))
    yield Engine("tantivy", {"SEARCH_TANTIVY_DIR": str(directory)}, lambda: TantivySearchIndex(directory), None)


@contextmanager
def opensearch_engine(catalogue: Catalogue, reuse: bool) -> Iterator[Engine]:
    with devstack_opensearch() as server:
        url = server.endpoints()["url"]
        alias = f"bench-{catalogue.name}"
        if not (reuse and OpenSearchIndexLoader(url, alias=alias).serving_count() is not None):
            etl("load", str(catalogue.source), "--engine", "opensearch", "--opensearch-url", url, "--alias", alias)

        def raw_http(query: VideoQuery) -> vegeta.Target:
            body = "".join(json.dumps(line) + "\n" for line in msearch_lines(query)).encode()
            return vegeta.Target(f"{url}/{alias}/_msearch", "POST", body, (("Content-Type", "application/x-ndjson"),))

        yield Engine(
            "opensearch",
            {"SEARCH_PROFILE": "production", "SEARCH_OPENSEARCH_URL": url, "SEARCH_OPENSEARCH_ALIAS": alias},
            lambda: OpenSearchSearchIndex(url, alias),
            raw_http,
            jvm_note(url),
            server.status().pid,
        )


def jvm_note(url: str) -> str:
    """How the measured OpenSearch runs: its heap and JIT matter to its latency as much as its version."""
    nodes = httpx.get(f"{url}/_nodes/_local/jvm", timeout=10).raise_for_status().json()["nodes"]
    jvm = next(iter(nodes.values()))["jvm"]
    heap = jvm["mem"]["heap_max_in_bytes"] / 2**30
    jit = "C1 JIT only" if "-XX:TieredStopAtLevel=1" in jvm["input_arguments"] else "full JIT (C1 and C2)"
    return f"OpenSearch on Java {jvm['version']}, {heap:g} GiB heap, {jit}."


async def raw_engine(open_index: Callable[[], SearchIndex], queries: list[VideoQuery], rounds: int) -> list[float]:
    index = open_index()
    samples = []
    try:
        for query in queries:  # warm-up
            await index.search(query)
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                await index.search(query)
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await index.close()
    return samples


async def raw_card(open_index: Callable[[], SearchIndex], movie_id: str, rounds: int) -> list[float]:
    index = open_index()
    samples = []
    try:
        for round_ in range(rounds + 10):
            started = time.perf_counter()
            await index.get(movie_id)
            if round_ >= 10:  # the first ones warm up
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await index.close()
    return samples


async def catalogue_facts(open_index: Callable[[], SearchIndex]) -> tuple[int, str]:
    """How many movies the index serves, and the first one's id."""
    index = open_index()
    try:
        page = await index.search(as_query({"limit": "1", "sort": "id"}))
        return page.total, page.items[0].id
    finally:
        await index.close()


@contextmanager
def running_mesh(tmp: Path, service_env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`python -m devstack run` on free ports; yields the gateway's base URL and the launcher's pid."""
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CATALOGUE"} | {
        # Read by the launcher only when the service's own index is empty (OpenSearch runs): a throwaway.
        "SEARCH_TANTIVY_DIR": str(tmp / "tantivy"),
        "GATEWAY_HTTP_PORT": str(http_port),
        "GATEWAY_ADMIN_PORT": str(free_port()),
        "SEARCH_LOG_LEVEL": "WARNING",
        **service_env,
    }
    for spec in SERVICES:
        env[spec.env_var("grpc_port")] = "0"
        env[spec.env_var("metrics_port")] = "0"
    log = tmp / "mesh.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while "cinemesh is up" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the mesh did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{http_port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def open_loop_with_cpu(
    targets: list[vegeta.Target], rate: int, seconds: float, launcher: int, engine: Engine
) -> tuple[vegeta.Result, dict[str, float]]:
    """The open-loop run, and the CPU seconds each part of the path spent on it."""
    mesh = cpu.descendants(launcher)
    parts = {"search service": cpu.running(mesh, "search_svc"), "Envoy": cpu.running(mesh, "envoy")}
    if engine.pid is not None:
        parts[engine.name] = [engine.pid]
    before = {name: cpu.seconds(pids) for name, pids in parts.items()}
    generator_before = os.times()
    result = vegeta.attack(targets, rate=rate, seconds=seconds)
    generator_after = os.times()
    spent = {name: cpu.seconds(pids) - before[name] for name, pids in parts.items()}
    spent["load generator"] = (generator_after.children_user + generator_after.children_system) - (
        generator_before.children_user + generator_before.children_system
    )
    return result, spent


def through_gateway(base_url: str, requests: list[dict[str, str]]) -> list[vegeta.Target]:
    return [vegeta.Target(f"{base_url}{COLLECTION}?{urlencode(params)}") for params in requests]


def sample_row(name: str, samples: list[float]) -> str:
    return (
        f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | {percentile(samples, 0.9):.2f} | "
        f"{percentile(samples, 0.99):.2f} | {max(samples):.2f} | 0 |"
    )


def load_row(name: str, result: vegeta.Result) -> str:
    return (
        f"| {name} | {result.requests} | {result.p50:.2f} | {result.p90:.2f} | {result.p99:.2f} | "
        f"{result.max:.2f} | {result.failures} |"
    )


@dataclass(frozen=True)
class Floor:
    result: vegeta.Result
    cpu: dict[str, float]


def recorded_replies(base_url: str, requests: list[dict[str, str]], path: Path) -> None:
    """Each request as the gateway hands it to the service, beside the service's reply to it (JSON for the no-op)."""
    pairs = []
    for params in requests:
        reply = httpx.get(f"{base_url}{COLLECTION}", params=params, timeout=10).raise_for_status()
        # Query parameters as the gateway maps them: a repeatable one is a list, numbers may stay strings.
        request = {name: [value] if name == "genre" else value for name, value in params.items()}
        pairs.append({"request": request, "response": reply.json()})
    path.write_text(json.dumps(pairs))


def floor_path(
    replies: Path, requests: list[dict[str, str]], rate: int, seconds: float, tmp: Path, *, meshkit: bool = False
) -> Floor:
    """The same requests, at the same rate, to a no-op SearchService behind an Envoy of the same template."""
    port = free_port()
    name = "noop-meshkit" if meshkit else "noop-search"
    log = tmp / f"{name}.log"
    argv = [sys.executable, "-m", "bench.noop_service", "--port", str(port), "--service", "search"]
    argv += ["--replies", str(replies), *(["--meshkit"] if meshkit else [])]
    with process(argv, os.environ, log) as noop:
        wait_serving(port, noop, log)
        with gateway_to("search", port, tmp, f"envoy-{name}") as gateway:
            targets = through_gateway(gateway.base_url, requests)
            vegeta.attack(targets, rate=rate, seconds=3)  # warm-up at the rate
            parts = {"no-op service": [noop.pid], "Envoy": [gateway.pid]}
            before = {name: cpu.seconds(pids) for name, pids in parts.items()}
            result = vegeta.attack(targets, rate=rate, seconds=seconds)
            spent = {name: cpu.seconds(pids) - before[name] for name, pids in parts.items()}
    return Floor(result, spent)


@dataclass(frozen=True)
class Step:
    rate: int
    result: vegeta.Result
    cpu: dict[str, float]


def step_rates(
    targets: list[vegeta.Target], *, rates: list[int], seconds: float, bound: float, launcher: int, engine: Engine
) -> list[Step]:
    """The open loop at each rate in turn, until one misses the p99 bound or fails requests (that one included)."""
    steps = []
    for rate in rates:
        result, spent = open_loop_with_cpu(targets, rate, seconds, launcher, engine)
        steps.append(Step(rate, result, spent))
        if result.p99 > bound or result.failures:
            break
    return steps


def steps_section(args: argparse.Namespace, catalogue: Catalogue, steps: list[Step], loaded_total: int) -> str:
    bound = catalogue.step_bound
    held = [step.rate for step in steps if step.result.p99 <= bound and not step.result.failures]
    begin = f"<!-- search-max-rate:{args.engine}:{catalogue.name}:begin -->"
    lines = [
        begin,
        f"#### Highest rate within p99 ≤ {bound:g} ms: {args.engine}, `{catalogue.source.name}` "
        f"({loaded_total:,} movies)",
        "",
        f"Same command with `--step-rates {','.join(map(str, args.step_rates))} --step-seconds "
        f"{args.step_seconds:g}`: the open loop at each rate in turn, stopping at the first that misses the bound. "
        "CPU milliseconds a request, by process.",
        "",
        "| rps | requests | p50 | p99 | max | failed | " + " | ".join(f"CPU {name}" for name in steps[0].cpu) + " |",
        "|---|---|---|---|---|---|" + "---|" * len(steps[0].cpu),
    ]
    for step in steps:
        result = step.result
        per_request = [f"{seconds / max(result.requests, 1) * 1000:.2f}" for seconds in step.cpu.values()]
        lines.append(
            f"| {step.rate} | {result.requests} | {result.p50:.2f} | {result.p99:.2f} | {result.max:.2f} | "
            f"{result.failures} | " + " | ".join(per_request) + " |"
        )
    lines += [
        "",
        f"Highest rate that held the bound: {max(held)} rps." if held else "No rate held the bound.",
        begin.replace(":begin", ":end"),
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_latency",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Results: a section of --write per engine and catalogue. Loaded indices are kept in build/bench.",
    )
    parser.add_argument("--engine", choices=("tantivy", "opensearch"), default="tantivy")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--catalogue", type=Path, default=LEGACY_EXPORT, help="a legacy export (default: the one in tests/data)"
    )
    source.add_argument("--synthetic", type=int, metavar="N", help="generate N movies (kept in build/bench)")
    parser.add_argument("--rps", type=int, default=200, help="request rate of the open-loop runs")
    parser.add_argument("--seconds", type=float, default=20, help="length of each open-loop run")
    parser.add_argument("--sequential-seconds", type=float, default=10, help="length of the one-at-a-time run")
    parser.add_argument("--rounds", type=int, default=30, help="raw engine: rounds over the requests, twice")
    parser.add_argument(
        "--step-rates",
        type=lambda text: [int(rate) for rate in text.split(",")],
        help="comma-separated rates for the highest-rate search (e.g. 200,400,600,800,1000)",
    )
    parser.add_argument("--step-seconds", type=float, default=15, help="length of each step of --step-rates")
    parser.add_argument("--reuse", action="store_true", help="skip the ETL when the bench index is loaded already")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    return parser.parse_args()


def main() -> int:
    args = parse_args()

    catalogue = catalogue_of(args)
    queries = [as_query(params) for params in catalogue.requests]
    serve = tantivy_engine if args.engine == "tantivy" else opensearch_engine
    with serve(catalogue, args.reuse) as engine, tempfile.TemporaryDirectory(prefix="cinemesh-latency-") as tmp:
        loaded_total, card_id = asyncio.run(catalogue_facts(engine.open_index))
        raw = asyncio.run(raw_engine(engine.open_index, queries, args.rounds))
        raw_get = asyncio.run(raw_card(engine.open_index, card_id, args.rounds * len(queries)))
        raw_loaded = None
        if engine.raw_http is not None:
            raw_loaded = vegeta.attack([engine.raw_http(q) for q in queries], rate=args.rps, seconds=args.seconds)
        with running_mesh(Path(tmp), engine.service_env) as (base_url, launcher):
            targets = through_gateway(base_url, catalogue.requests)
            # Proves the service answers from the index measured raw, not from some other catalogue.
            served = httpx.get(f"{base_url}{COLLECTION}", params={"limit": "1"}, timeout=10).raise_for_status()
            if served.json()["total"] != loaded_total:
                raise RuntimeError(f"the service serves another catalogue: {served.text[:200]}")
            one_by_one = vegeta.attack(targets, rate=0, seconds=args.sequential_seconds, sequential=True)
            vegeta.attack(targets, rate=args.rps, seconds=3)  # warm-up at the rate
            loaded, spent = open_loop_with_cpu(targets, args.rps, args.seconds, launcher, engine)
            card = vegeta.Target(f"{base_url}/api/v1/video/get/{card_id}")
            path_only = vegeta.attack([card], rate=args.rps, seconds=args.seconds / 2)
            replies = Path(tmp) / "replies.json"
            recorded_replies(base_url, catalogue.requests, replies)
            floor = floor_path(replies, catalogue.requests, args.rps, args.seconds, Path(tmp))
            meshkit_floor = floor_path(replies, catalogue.requests, args.rps, args.seconds, Path(tmp), meshkit=True)
            steps = []
            if args.step_rates:
                bound = catalogue.step_bound
                steps = step_rates(
                    targets,
                    rates=args.step_rates,
                    seconds=args.step_seconds,
                    bound=bound,
                    launcher=launcher,
                    engine=engine,
                )
        raw += asyncio.run(raw_engine(engine.open_index, queries, args.rounds))

    raw_p50 = statistics.median(raw)
    ratio = loaded.p50 / raw_p50
    target = catalogue.p99_target[args.engine]
    lines = [
        f"<!-- search-latency:{args.engine}:{catalogue.name}:begin -->",
        f"### {args.engine}, `{catalogue.source.name}` ({loaded_total:,} movies)",
        "",
        f"`python -m bench.search_latency --engine {args.engine} "
        + (f"--synthetic {args.synthetic}" if args.synthetic else f"--catalogue {catalogue.source.name}")
        + f" --rps {args.rps} --seconds {args.seconds:g}` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores. "
        f"{len(queries)} requests cycled; milliseconds. {engine.note}".rstrip(),
        "",
        "| path | requests | p50 | p90 | p99 | max | failed |",
        "|---|---|---|---|---|---|---|",
        sample_row("raw engine: adapter in process, one at a time", raw),
    ]
    if raw_loaded is not None:
        lines.append(load_row(f"raw engine: its `_msearch` over HTTP at {args.rps} rps", raw_loaded))
    lines += [
        load_row("REST through Envoy, one at a time", one_by_one),
        load_row(f"REST through Envoy, open loop at {args.rps} rps", loaded),
        sample_row("the path's own cost — raw engine: one card by id, in process", raw_get),
        load_row(f"the path's own cost — REST through Envoy: the same card at {args.rps} rps", path_only),
        load_row(
            f"the floor — no-op grpc.aio ListVideos behind the same Envoy, the service's own replies, at {args.rps} "
            "rps",
            floor.result,
        ),
        load_row(
            f"the floor in the services' own server (meshkit: interceptor, health, reflection, metrics), at {args.rps} "
            "rps",
            meshkit_floor.result,
        ),
        "",
        f"p99 at {args.rps} rps: {loaded.p99:.1f} ms against ≤ {target:g} ms — "
        f"{'met' if loaded.p99 <= target else 'not met'}. "
        f"p50 at {args.rps} rps ÷ raw engine p50 (in process): {ratio:.2f}×"
        + (
            f" against ≤ {ratio_target:g}× — {'met' if ratio <= ratio_target else 'not met'}."
            if (ratio_target := catalogue.p50_ratio_target) is not None
            else "."
        ),
    ]
    if raw_loaded is not None:
        lines[-1] += f" ÷ raw `_msearch` p50 at the same rate: {loaded.p50 / raw_loaded.p50:.2f}×."
    busy = sum(spent.values()) / args.seconds / (os.cpu_count() or 1)
    lines += [
        "",
        "CPU per request in the open-loop run: "
        + ", ".join(f"{name} {seconds / loaded.requests * 1000:.2f} ms" for name, seconds in spent.items())
        + f"; together {busy:.0%} of the machine's {os.cpu_count()} cores. The floor: "
        + ", ".join(f"{name} {seconds / floor.result.requests * 1000:.2f} ms" for name, seconds in floor.cpu.items())
        + " a request. In the services' own server: "
        + ", ".join(
            f"{name} {seconds / meshkit_floor.result.requests * 1000:.2f} ms"
            for name, seconds in meshkit_floor.cpu.items()
        )
        + " a request.",
    ]
    lines.append(f"<!-- search-latency:{args.engine}:{catalogue.name}:end -->")
    marks = (lines[0], lines[-1])
    publish("\n".join(lines), args.write, marks)
    if steps:
        section = steps_section(args, catalogue, steps, loaded_total)
        publish(section, args.write, (section.splitlines()[0], section.splitlines()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
