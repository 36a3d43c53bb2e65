"""gRPC side of the running mesh: health and reflection per service, metrics, native gRPC through the gateway."""

from __future__ import annotations

import grpc
import httpx
import pytest
from cinemesh.search.v1 import search_pb2, search_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from devstack.services import SERVICES as TABLE
from tests.e2e.conftest import Mesh

# Each service's gRPC service, "" for one with none (its server still carries health and reflection).
SERVICES = {spec.name: spec.grpc_service or "" for spec in TABLE}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_reports_serving(mesh: Mesh, name: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_ports[name]}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in {"", SERVICES[name]}:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_reflection_lists_the_services(mesh: Mesh, name: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_ports[name]}") as channel:
        listed = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    expected = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} | ({SERVICES[name]} - {""})
    assert expected <= listed


def test_native_grpc_through_the_gateway(mesh: Mesh) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.http_port}") as channel:
        stub = search_pb2_grpc.SearchServiceStub(channel)
        reply = stub.GetClientInfo(search_pb2.GetClientInfoRequest(), timeout=5)
        assert reply.user_agent.startswith("grpc-python/")
        assert reply.ip == "127.0.0.1"
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListVideos(search_pb2.ListVideosRequest(limit=0), timeout=5)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_metrics_endpoint(mesh: Mesh, name: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_ports[name]}") as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    reply = httpx.get(f"http://127.0.0.1:{mesh.metrics_ports[name]}/metrics", timeout=5)
    assert reply.status_code == 200
    assert (
        'grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health"}'
        in reply.text
    )
    assert "process_resident_memory_bytes" in reply.text
