"""The whole mesh as `make run` starts it (`python -m devstack run`), on free ports, once per test session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opensearchpy import OpenSearch as OpenSearchClient

from devstack.mesh import free_port
from devstack.services import SERVICES
from tests.data import LEGACY_EXPORT

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180


def drop_index_versions(url: str, alias: str) -> None:
    """Delete every index version published under `alias`: the engine is shared with other runs, so a test leaves
    it as it found it."""
    client = OpenSearchClient(hosts=[url], timeout=30)
    try:
        for index in client.indices.get(index=f"{alias}-*"):
            client.indices.delete(index=index)
    finally:
        client.close()


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Mesh:
    http_port: int
    admin_port: int
    grpc_ports: dict[str, int]
    metrics_ports: dict[str, int]
    log: Path
    event_log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def all_ports(self) -> list[int]:
        return [self.http_port, self.admin_port, *self.grpc_ports.values(), *self.metrics_ports.values()]


@contextlib.contextmanager
def launched_mesh(log_dir: Path, *options: str, catalogue: Path | None = None) -> Iterator[Mesh]:
    """`python -m devstack run OPTIONS` on free ports, serving `catalogue` (the demo one when None) from an index
    of its own; on exit, SIGTERM and check that nothing is left listening."""
    services = [spec.name for spec in SERVICES]
    mesh = Mesh(
        http_port=free_port(),
        admin_port=free_port(),
        grpc_ports={name: free_port() for name in services},
        metrics_ports={name: free_port() for name in services},
        log=log_dir / "devstack-run.log",
        event_log=log_dir / "event-log" / "events.sqlite3",
    )
    env = dict(os.environ)
    env.update({"GATEWAY_HTTP_PORT": str(mesh.http_port), "GATEWAY_ADMIN_PORT": str(mesh.admin_port)})
    env["SEARCH_TANTIVY_DIR"] = str(log_dir / "tantivy")
    # The embedded event log of this mesh alone, not the one `make run` keeps in build/.
    env["UGC_EVENT_LOG_PATH"] = str(mesh.event_log)
    env["SINK_EVENT_LOG_PATH"] = str(mesh.event_log)
    # chDB lets one process hold a data directory: each mesh's sink gets its own.
    env["SINK_ANALYTICS_PATH"] = str(log_dir / "sink-analytics")
    env["CATALOGUE"] = str(catalogue) if catalogue else ""
    for spec in SERVICES:
        env[spec.env_var("grpc_port")] = str(mesh.grpc_ports[spec.name])
        env[spec.env_var("metrics_port")] = str(mesh.metrics_ports[spec.name])
        env[spec.env_var("log_format")] = "json"
    with mesh.log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", *options],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "cinemesh is up" not in mesh.log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the mesh did not start (exit {process.returncode}):\n{mesh.log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield mesh
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
    assert code == 0, f"`devstack run` exited {code} on SIGTERM:\n{mesh.log.read_text()[-4000:]}"
    # Ctrl-C or SIGTERM leaves nothing listening.
    assert not [port for port in mesh.all_ports() if port_is_open(port)]


@pytest.fixture(scope="session")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh as `make run` starts it, once per test session, serving the legacy export."""
    with launched_mesh(tmp_path_factory.mktemp("mesh"), catalogue=LEGACY_EXPORT) as running:
        yield running
