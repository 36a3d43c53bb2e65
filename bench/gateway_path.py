"""Pieces of a benchmark's path run in its own care: a child process with a log, waiting for gRPC health, and an
Envoy rendered from the gateway template in front of one service on a chosen port."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.gateway import GatewaySettings, Upstream, envoy_command, render
from devstack.mesh import free_port
from devstack.services import behind_gateway

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Gateway:
    base_url: str
    pid: int


@contextmanager
def process(argv: list[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`argv` from the repository's root, its output in `log`; terminated (then killed) when the block ends."""
    with log.open("wb") as out:
        child = subprocess.Popen(argv, cwd=REPO, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()


def wait_serving(port: int, child: subprocess.Popen[bytes], log: Path) -> None:
    """Until gRPC health on `port` answers SERVING; the log's tail when the child exits or the wait runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{log.name} exited:\n{log.read_text()[-3000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"{log.name} did not serve within {START_TIMEOUT:g} s:\n{log.read_text()[-3000:]}")


@contextmanager
def gateway_to(service: str, port: int, tmp: Path, name: str) -> Iterator[Gateway]:
    """An Envoy from the gateway template whose routes of `service` go to `port`; the other services' upstreams
    point at a closed port (their routes are not used)."""
    settings = GatewaySettings(http_port=free_port(), admin_port=free_port(), log_level="error")
    closed = free_port()
    upstreams = {
        spec.name: Upstream("127.0.0.1", port if spec.name == service else closed) for spec in behind_gateway()
    }
    config = tmp / f"{name}.yaml"
    config.write_text(render(settings, upstreams))
    log = tmp / f"{name}.log"
    with process(envoy_command(config, settings), os.environ, log) as envoy:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{settings.admin_port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if envoy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Envoy {name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Gateway(f"http://127.0.0.1:{settings.http_port}", envoy.pid)
