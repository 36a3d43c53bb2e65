"""Each service as its own process, as Kubernetes runs it: --help, bad settings, SIGTERM, JSON logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.mesh import free_port
from devstack.services import SERVICES, ServiceSpec
from tests.e2e.conftest import REPO


def run(module: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_help_lists_every_setting(spec: ServiceSpec) -> None:
    result = run(spec.module, {}, "--help")
    assert result.returncode == 0
    for setting in ("GRPC_PORT", "METRICS_PORT", "LOG_LEVEL", "DRAIN_SECONDS", "GRACE_SECONDS"):
        assert f"{spec.env_prefix}{setting}" in result.stdout
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith(f"  {spec.env_prefix}")}
    assert listed == {spec.env_var(name) for name in spec.settings.model_fields}


def test_a_bad_setting_stops_the_service_with_a_clear_message() -> None:
    result = run("ugc_svc", {"UGC_GRPC_PORT": "abc", "UGC_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert "grpc_port" in result.stdout
    assert "log_level" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_taken_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(
            "sink_svc",
            {
                "SINK_GRPC_PORT": str(port),
                "SINK_METRICS_PORT": "0",
                "SINK_LOG_FORMAT": "text",
                "SINK_EVENT_LOG_PATH": str(tmp_path / "events.sqlite3"),
                "SINK_ANALYTICS_PATH": str(tmp_path / "chdb"),
            },
        )
    assert result.returncode == 1
    assert f"cannot start: cannot bind gRPC to 127.0.0.1:{port}" in result.stderr


def test_sigterm_drains_then_exits_cleanly_with_json_logs() -> None:
    port = free_port()
    env = os.environ | {
        "SEARCH_GRPC_PORT": str(port),
        "SEARCH_METRICS_PORT": "0",
        "SEARCH_DRAIN_SECONDS": "1.5",
        "SEARCH_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "search_svc"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (
                        stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                        == health_pb2.HealthCheckResponse.SERVING
                    ):
                        break
                except grpc.RpcError:
                    pass
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # Still answering, but telling load balancers to go elsewhere.
            reply = stub.Check(health_pb2.HealthCheckRequest(service="cinemesh.search.v1.SearchService"), timeout=1)
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    _, stderr = process.communicate()
    assert code == 0
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    messages = [r["msg"] for r in records]
    assert any(m.startswith("serving cinemesh.search.v1.SearchService") for m in messages)
    assert messages[-3:] == ["stopping", "draining", "stopped"]
    assert all({"ts", "level", "service", "logger", "msg"} <= set(r) for r in records)
    assert {r["service"] for r in records} == {"search"}
