"""Playback-event ingest through the gateway to a Kafka acknowledgement, beside a no-op RPC on the same path.

    python -m bench.ugc_ingest [--seconds 20] [--concurrency 32] [--batch 100] [--users 500]
                               [--rps 200] [--write docs/benchmarks.md]

Starts (or reuses) the devstack's Kafka, Apicurio and FerretDB, registers the schemas (`make schemas`), then runs
in this process's care:
- the UGC service in the production profile (Kafka acks=all, Avro through the registry);
- a no-op grpc.aio UgcService (bench/noop_service.py) whose RecordPlaybackEvents answers at once;
- two Envoys rendered from the same gateway template, one in front of each, same JWT check and transcoding.
Then, with bearer tokens of --users users and vegeta's closed loop at --concurrency requests in flight:
1. `POST /api/v1/ugc/events` with one event to the no-op service (before and after the others, pooled);
2. the same requests to the real service: each answered only after Kafka acknowledged the event;
3. batches of --batch events to the real service;
4. `GET /api/v1/ugc/progress/{movie_id}` open loop at --rps, once the service serves it.
The load generator, Envoy, the service and Kafka share the machine's cores; the CPU each spent is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import cpu, vegeta
from bench.devstack_engines import devstack_engines
from bench.gateway_path import REPO, gateway_to, process, wait_serving
from bench.report import publish
from devstack import identity
from devstack.engines.registry import production_env
from devstack.gateway import GatewaySettings
from devstack.mesh import free_port
from devstack.schemas import register_all
from devstack.services import SERVICES
from devstack.topics import TopicSpec, ensure_topics
from ugc_svc.settings import UgcSettings

EVENTS = "/api/v1/ugc/events"
EVENT_TYPES = ("play", "pause", "seek_forward", "seek_back", "play", "stop")
# How often the service refreshes its consumer lag gauges (LogProjection's default), and a little more.
LAG_REFRESH_SECONDS = 6.0
MARKS = ("<!-- ugc-ingest:begin -->", "<!-- ugc-ingest:end -->")


def bearer_tokens(users: int) -> list[str]:
    key = identity.dev_signing_key()
    defaults = GatewaySettings()
    return [
        identity.token(f"bench-user-{index:05d}", key=key, issuer=defaults.jwt_issuer, audience=defaults.jwt_audience)
        for index in range(users)
    ]


def event_targets(base_url: str, tokens: list[str], batch: int, seed: int = 7) -> list[vegeta.Target]:
    """One request per user, `batch` events each, no event id (the service assigns one, so none repeats)."""
    generator = random.Random(seed)
    now = datetime.now(UTC)
    targets = []
    for user_token in tokens:
        events = [
            {
                "movie_id": f"tt{generator.randrange(10_000_000):07d}",
                "type": EVENT_TYPES[index % len(EVENT_TYPES)],
                "position_ms": generator.randrange(7_200_000),
                "client_time": now.isoformat().replace("+00:00", "Z"),
                "device": "bench",
            }
            for index in range(batch)
        ]
        body = json.dumps({"events": events}).encode()
        headers = (("Authorization", f"Bearer {user_token}"), ("Content-Type", "application/json"))
        targets.append(vegeta.Target(f"{base_url}{EVENTS}", "POST", body, headers))
    return targets


def progress_targets(base_url: str, tokens: list[str], movie_ids: list[str]) -> list[vegeta.Target]:
    return [
        vegeta.Target(f"{base_url}/api/v1/ugc/progress/{movie}", headers=(("Authorization", f"Bearer {t}"),))
        for t, movie in zip(tokens, movie_ids, strict=False)
    ]


def measured(
    targets: list[vegeta.Target], seconds: float, concurrency: int, pids: Mapping[str, list[int]]
) -> tuple[vegeta.Result, dict[str, float]]:
    """A closed-loop run, and the CPU seconds each part of the path spent on it."""
    before = {name: cpu.seconds(ids) for name, ids in pids.items()}
    generator_before = os.times()
    result = vegeta.attack(targets, rate=0, seconds=seconds, concurrency=concurrency)
    generator_after = os.times()
    spent = {name: cpu.seconds(ids) - before[name] for name, ids in pids.items()}
    spent["load generator"] = (generator_after.children_user + generator_after.children_system) - (
        generator_before.children_user + generator_before.children_system
    )
    return result, spent


def row(name: str, result: vegeta.Result, events_per_request: int) -> str:
    return (
        f"| {name} | {result.requests} | {result.throughput:,.0f} | {result.throughput * events_per_request:,.0f} | "
        f"{result.p50:.2f} | {result.p99:.2f} | {result.failures} |"
    )


def cpu_line(name: str, spent: Mapping[str, float], result: vegeta.Result) -> str:
    parts = ", ".join(f"{part} {seconds / max(result.requests, 1) * 1000:.2f} ms" for part, seconds in spent.items())
    return f"- {name}: {parts} a request."


@dataclass(frozen=True)
class Figures:
    noop_first: vegeta.Result
    ingest: vegeta.Result
    batch: vegeta.Result
    noop_last: vegeta.Result
    cpu: dict[str, dict[str, float]]
    progress: vegeta.Result | None
    catch_up_seconds: float


def run(args: argparse.Namespace) -> Figures:
    tokens = bearer_tokens(args.users)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cinemesh-ingest-")))
        engines = stack.enter_context(devstack_engines("kafka", "apicurio", "ferretdb"))
        ugc_spec = next(spec for spec in SERVICES if spec.name == "ugc")
        subprocess.run([sys.executable, "-m", "devstack.schemas"], cwd=REPO, check=True)
        # A playback topic of this run's own: the positions projection starts from an empty topic, not from what
        # earlier runs left on the shared one.
        topic = f"bench.playback-events.{uuid.uuid4().hex[:8]}"
        servers = engines["kafka"].endpoints()["bootstrap_servers"]
        ensure_topics(
            servers, replication_factor=1, topics=[lambda: TopicSpec(topic, UgcSettings().event_log_partitions)]
        )
        register_all(engines["apicurio"].endpoints()["url"], topics={"playback_event": lambda: topic})
        ugc_port, noop_port, metrics_port = free_port(), free_port(), free_port()
        ugc_log, noop_log = tmp / "ugc.log", tmp / "noop.log"
        env = {
            **os.environ,
            **production_env(engines, [ugc_spec]),
            "UGC_GRPC_PORT": str(ugc_port),
            "UGC_METRICS_PORT": str(metrics_port),
            "UGC_EVENTS_TOPIC": topic,
            "UGC_LOG_LEVEL": "WARNING",
        }
        ugc = stack.enter_context(process([sys.executable, "-m", "ugc_svc"], env, ugc_log))
        noop_argv = [sys.executable, "-m", "bench.noop_service", "--port", str(noop_port), "--service", "ugc"]
        noop = stack.enter_context(process(noop_argv, os.environ, noop_log))
        wait_serving(ugc_port, ugc, ugc_log)
        wait_serving(noop_port, noop, noop_log)
        real = stack.enter_context(gateway_to("ugc", ugc_port, tmp, "envoy-ugc"))
        baseline = stack.enter_context(gateway_to("ugc", noop_port, tmp, "envoy-noop"))
        kafka_pids = [pid for pid in [engines["kafka"].status().pid] if pid is not None]

        single_real = event_targets(real.base_url, tokens, 1)
        single_noop = event_targets(baseline.base_url, tokens, 1)
        batches = event_targets(real.base_url, tokens, args.batch)
        for targets in (single_noop, single_real):  # warm-up: connections, caches, the broker's files
            vegeta.attack(targets, rate=0, seconds=3, concurrency=args.concurrency)
        # GET progress first, once the positions projection has worked through the warm-up's events: at steady
        # state, as a player reading its position meets the service (the runs below leave a backlog of hundreds of
        # thousands of events, which FerretDB takes minutes to project).
        catch_up = projection_caught_up(metrics_port, UgcSettings().positions_consumer_group)
        progress = progress_run(real.base_url, tokens, args)
        vegeta.attack(batches, rate=0, seconds=3, concurrency=args.concurrency)

        noop_pids = {"no-op service": [noop.pid], "Envoy": [baseline.pid]}
        real_pids = {"UGC service": [ugc.pid], "Envoy": [real.pid], "Kafka": kafka_pids}
        half = args.seconds / 2
        noop_first, _ = measured(single_noop, half, args.concurrency, noop_pids)
        ingest, ingest_cpu = measured(single_real, args.seconds, args.concurrency, real_pids)
        batch, batch_cpu = measured(batches, args.seconds, args.concurrency, real_pids)
        noop_last, noop_cpu = measured(single_noop, half, args.concurrency, noop_pids)
    cpu_spent = {"no-op, last run": noop_cpu, "single-event ingest": ingest_cpu, "batches": batch_cpu}
    return Figures(noop_first, ingest, batch, noop_last, cpu_spent, progress, catch_up)


def projection_caught_up(metrics_port: int, group: str, timeout: float = 900) -> float:
    """Seconds until the service reports no lag on any partition of the projection's group, twice in a row (the
    lag is refreshed every few seconds)."""
    started = time.monotonic()
    zero_since: float | None = None
    while time.monotonic() - started < timeout:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        lags = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "cinemesh_consumer_lag_records" and sample.labels.get("group") == group
        ]
        now = time.monotonic()
        if lags and sum(lags) == 0:
            zero_since = zero_since or now
            if now - zero_since >= LAG_REFRESH_SECONDS:
                return zero_since - started
        else:
            zero_since = None
        time.sleep(0.5)
    raise RuntimeError(f"the positions projection still lagged after {timeout:g} s")


def progress_run(base_url: str, tokens: list[str], args: argparse.Namespace) -> vegeta.Result | None:
    """GET progress of the movie each user's single events named; None while the service answers 501."""
    movies = [json.loads(target.body)["events"][0]["movie_id"] for target in event_targets(base_url, tokens, 1)]
    probe = httpx.get(
        f"{base_url}/api/v1/ugc/progress/{movies[0]}", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=10
    )
    if probe.status_code == 501:
        return None
    return vegeta.attack(progress_targets(base_url, tokens, movies), rate=args.rps, seconds=args.seconds)


def report(args: argparse.Namespace, figures: Figures) -> str:
    noop_rate = (figures.noop_first.throughput + figures.noop_last.throughput) / 2
    ratio = figures.ingest.throughput / noop_rate
    events_per_second = figures.batch.throughput * args.batch
    lines = [
        MARKS[0],
        "## UGC event ingest through the gateway",
        "",
        f"`python -m bench.ugc_ingest --seconds {args.seconds:g} --concurrency {args.concurrency} --batch "
        f"{args.batch} --users {args.users}` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores. "
        f"vegeta closed loop, {args.concurrency} requests in flight; REST `POST {EVENTS}` with a bearer token "
        "through Envoy (JWT check, transcoding) to the service; milliseconds.",
        "",
        "| path | requests | requests/s | events/s | p50 | p99 | failed |",
        "|---|---|---|---|---|---|---|",
        row("no-op grpc.aio RPC behind the same Envoy, 1 event (first run)", figures.noop_first, 1),
        row("UGC service → Kafka ack (acks=all), 1 event a request", figures.ingest, 1),
        row(f"UGC service → Kafka ack, {args.batch} events a request", figures.batch, args.batch),
        row("no-op grpc.aio RPC behind the same Envoy, 1 event (last run)", figures.noop_last, 1),
        "",
        f"Single-event ingest ÷ no-op RPC (mean of both runs, {noop_rate:,.0f}/s): {ratio:.2f}× against ≥ 0.7× — "
        f"{'met' if ratio >= 0.7 else 'not met'}. Batch ingest: {events_per_second:,.0f} events/s against "
        f"≥ 20,000 — {'met' if events_per_second >= 20_000 else 'not met'}.",
        "",
        "CPU a request (the load generator, Envoy, the service and Kafka share the cores):",
        cpu_line("no-op, last run", figures.cpu["no-op, last run"], figures.noop_last),
        cpu_line("single-event ingest", figures.cpu["single-event ingest"], figures.ingest),
        cpu_line(f"{args.batch}-event batches", figures.cpu["batches"], figures.batch),
        "",
    ]
    progress = figures.progress
    lines.append(
        f"Measured first, before the runs above: the positions projection caught up with the warm-up's events "
        f"{figures.catch_up_seconds:.0f} s after it (it shares the cores with the service, Kafka and FerretDB); "
        "then:"
    )
    if progress is None:
        lines.append("`GET /api/v1/ugc/progress/{movie_id}`: not measured, the service answered 501 (not served).")
    else:
        lines.append(
            f"`GET /api/v1/ugc/progress/{{movie_id}}` open loop at {args.rps} rps for {args.seconds:g} s: "
            f"p50 {progress.p50:.2f} ms, p99 {progress.p99:.2f} ms, max {progress.max:.2f} ms, "
            f"{progress.failures} of {progress.requests} not 200."
        )
    lines.append(MARKS[1])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ugc_ingest",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[2:]),
    )
    parser.add_argument("--seconds", type=float, default=20, help="length of each closed-loop run")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight in the closed-loop runs")
    parser.add_argument("--batch", type=int, default=100, help="events per request in the batch run (≤ 500)")
    parser.add_argument("--users", type=int, default=500, help="distinct users (tokens), so keys spread")
    parser.add_argument("--rps", type=int, default=200, help="rate of the GET progress run")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    publish(report(args, run(args)), args.write, MARKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
