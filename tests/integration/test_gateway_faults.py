"""The real Envoy in front of services that are down or slow: the client still gets JSON, never a hang."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from devstack.gateway import GatewaySettings, Upstream, envoy_command, render
from devstack.mesh import free_port
from devstack.services import behind_gateway
from meshkit.server import GrpcService, running_server
from meshkit.settings import ServiceSettings


@contextlib.contextmanager
def gateway(tmp_path: Path, search_port: int) -> Iterator[str]:
    settings = GatewaySettings(http_port=free_port(), admin_port=free_port())
    config = tmp_path / "gateway.yaml"
    # Every other service behind the gateway is down: nothing listens on its port.
    upstreams = {spec.name: Upstream("127.0.0.1", free_port()) for spec in behind_gateway()}
    config.write_text(render(settings, upstreams | {"search": Upstream("127.0.0.1", search_port)}))
    log = (tmp_path / "envoy.log").open("wb")
    process = subprocess.Popen(envoy_command(config, settings), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{settings.admin_port}/ready", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, (tmp_path / "envoy.log").read_text()
            assert time.monotonic() < deadline, "envoy did not become ready"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_a_service_that_is_down_is_503_json(tmp_path: Path) -> None:
    with gateway(tmp_path, search_port=free_port()) as base_url:
        started = time.monotonic()
        reply = httpx.get(f"{base_url}/client/info", timeout=10)
        elapsed = time.monotonic() - started
    assert reply.status_code == 503
    body = reply.json()
    assert body["code"] == 14
    assert body["message"]
    assert elapsed < 5


class SlowServicer(search_pb2_grpc.SearchServiceServicer):
    async def GetClientInfo(
        self, request: search_pb2.GetClientInfoRequest, context: object
    ) -> search_pb2.GetClientInfoResponse:
        await asyncio.sleep(10)
        return search_pb2.GetClientInfoResponse()


async def test_a_slow_service_is_cut_at_the_route_deadline_with_json(tmp_path: Path) -> None:
    servicer = SlowServicer()
    service = GrpcService(
        "cinemesh.search.v1.SearchService",
        lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server),
    )
    settings = ServiceSettings.model_validate({"grpc_port": 0, "metrics_port": 0, "grace_seconds": 1})
    async with running_server(settings, [service]) as running:
        with gateway(tmp_path, search_port=running.grpc_port) as base_url:
            async with httpx.AsyncClient(timeout=10) as client:
                started = time.monotonic()
                reply = await client.get(f"{base_url}/client/info")
                elapsed = time.monotonic() - started
    # The route's 2 s budget reached the service as a gRPC deadline, so the service gave up first.
    assert reply.status_code == 504
    assert reply.json()["code"] == 4
    assert 1.5 < elapsed < 3
