"""gRPC health-check latency of each service, measured side by side in one run.

    python -m bench.health_latency [--calls 3000] [--write docs/benchmarks.md]

Starts every service of the mesh (devstack/services.py) as a real process on free ports, warms each up, then
sends `--calls` sequential Check calls per service over one channel, interleaving
the services round by round so machine noise hits all of them alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.report import percentile, publish
from devstack.mesh import free_port
from devstack.services import SERVICES

REPO = Path(__file__).resolve().parent.parent
MARK = ("<!-- health-latency:begin -->", "<!-- health-latency:end -->")


def measure(calls: int) -> dict[str, list[float]]:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stubs: dict[str, health_pb2_grpc.HealthStub] = {}
    channels: list[grpc.Channel] = []
    try:
        for spec in SERVICES:
            port = free_port()
            env = os.environ | {
                spec.env_var("grpc_port"): str(port),
                spec.env_var("metrics_port"): "0",
                spec.env_var("log_level"): "WARNING",
            }
            processes[spec.name] = subprocess.Popen(
                [sys.executable, "-m", spec.module],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            channels.append(channel)
            grpc.channel_ready_future(channel).result(timeout=60)
            stubs[spec.name] = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest()
        for stub in stubs.values():
            for _ in range(200):
                stub.Check(request, timeout=5)
        samples: dict[str, list[float]] = {name: [] for name in stubs}
        for _ in range(calls):
            for name, stub in stubs.items():
                started = time.perf_counter()
                stub.Check(request, timeout=5)
                samples[name].append((time.perf_counter() - started) * 1000)
        return samples
    finally:
        for channel in channels:
            channel.close()
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def report(samples: dict[str, list[float]], calls: int) -> str:
    lines = [
        MARK[0],
        "## gRPC health-check latency",
        "",
        f"`python -m bench.health_latency --calls {calls}` — {datetime.now(UTC):%Y-%m-%d}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Sequential unary `grpc.health.v1.Health/Check` "
        "calls over one plaintext channel on loopback, services interleaved call by call; client-side wall time, "
        "which includes the Python client's own cost.",
        "",
        "| service | calls | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in samples.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.3f} | {percentile(values, 0.9):.3f} | "
            f"{percentile(values, 0.99):.3f} | {max(values):.3f} |"
        )
    lines.append(MARK[1])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.health_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="Check calls per service (default 3000)")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section (e.g. docs/benchmarks.md)")
    args = parser.parse_args()
    publish(report(measure(args.calls), args.calls), args.write, MARK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
