"""HTTP load from vegeta, a native load generator: the figures then measure the mesh, not a Python client.

Built once from the Go module proxy into the tool cache beside protoc-gen-openapi (needs Go, ~10 s).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

VERSION = "v12.12.0"
MODULE = "github.com/tsenart/vegeta/v12"


def binary() -> Path:
    cache = Path(os.environ.get("CINEMESH_CACHE", Path.home() / ".cache" / "cinemesh"))
    path = cache / "bin" / f"vegeta-{VERSION}"
    if path.exists():
        return path
    if shutil.which("go") is None:
        raise RuntimeError("Go is needed once to build vegeta, the load generator of the latency benchmarks")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as gobin:
        subprocess.run(["go", "install", f"{MODULE}@{VERSION}"], env=os.environ | {"GOBIN": gobin}, check=True)
        shutil.move(Path(gobin) / "vegeta", path)
    return path


@dataclass(frozen=True)
class Target:
    url: str
    method: str = "GET"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> str:
        target: dict[str, object] = {"method": self.method, "url": self.url}
        if self.body:
            target["body"] = base64.b64encode(self.body).decode()
        if self.headers:
            target["header"] = {name: [value] for name, value in self.headers}
        return json.dumps(target)


@dataclass(frozen=True)
class Result:
    requests: int
    p50: float
    p90: float
    p99: float
    max: float
    failures: int
    errors: tuple[str, ...]
    throughput: float
    """Successful requests a second over the run."""


def attack(
    targets: list[Target], *, rate: int, seconds: float, sequential: bool = False, concurrency: int | None = None
) -> Result:
    """Send `targets` round-robin for `seconds`: at `rate` per second on a fixed schedule (open loop, so a slow
    reply cannot hide the queueing it causes); with `sequential`, one at a time as fast as replies come; with
    `concurrency`, that many at a time as fast as replies come (closed loop: the highest rate the path holds)."""
    lines = "\n".join(t.as_json() for t in targets) + "\n"
    if sequential:
        concurrency = 1
    pace = [f"-rate={rate}"]
    if concurrency is not None:
        pace = ["-rate=0", f"-workers={concurrency}", f"-max-workers={concurrency}"]
    attack_run = subprocess.run(
        [str(binary()), "attack", "-format=json", "-keepalive=true", f"-duration={seconds}s", *pace],
        input=lines.encode(),
        capture_output=True,
        check=True,
    )
    report = subprocess.run(
        [str(binary()), "report", "-type=json"], input=attack_run.stdout, capture_output=True, check=True
    )
    figures = json.loads(report.stdout)
    latencies = {key: value / 1e6 for key, value in figures["latencies"].items()}  # nanoseconds → ms
    codes = figures.get("status_codes") or {}
    return Result(
        requests=int(figures["requests"]),
        p50=latencies["50th"],
        p90=latencies["90th"],
        p99=latencies["99th"],
        max=latencies["max"],
        failures=int(figures["requests"]) - int(codes.get("200", 0)),
        errors=tuple(figures.get("errors") or ()),
        throughput=float(figures.get("throughput") or 0.0),
    )
