"""The shared server bootstrap on a real grpc.aio server over loopback: errors, deadlines, health, reflection, stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import cast

import grpc
import pytest
from cinemesh.search.v1 import search_pb2, search_pb2_grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from prometheus_client import REGISTRY

from meshkit import errors
from meshkit.server import GrpcService, RunningServer, running_server
from meshkit.settings import ServiceSettings

SERVICE = "cinemesh.search.v1.SearchService"


class ScriptedServicer(search_pb2_grpc.SearchServiceServicer):
    """Behaves according to the requested id, so each test can pick a failure."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.in_flight = asyncio.Event()
        self.ids: list[str] = []

    async def GetVideo(self, request: search_pb2.GetVideoRequest, context: object) -> search_pb2.GetVideoResponse:
        self.ids.append(request.id)
        match request.id:
            case "missing":
                raise errors.NotFound(f"no movie {request.id}")
            case "bad":
                raise errors.InvalidArgument.of("id", "looks wrong")
            case "boom":
                raise RuntimeError("secret stack detail")
            case "slow":
                self.in_flight.set()
                try:
                    await asyncio.sleep(30)
                except asyncio.CancelledError:
                    self.cancelled.set()
                    raise
            case "takes-a-second":
                self.in_flight.set()
                await asyncio.sleep(1)
        return search_pb2.GetVideoResponse(id=request.id, title="A film")


def settings(**overrides: object) -> ServiceSettings:
    return ServiceSettings.model_validate({"grpc_port": 0, "metrics_port": 0, "grace_seconds": 5, **overrides})


@contextlib.asynccontextmanager
async def serving(servicer: ScriptedServicer) -> AsyncIterator[tuple[RunningServer, grpc.aio.Channel]]:
    service = GrpcService(SERVICE, lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server))
    async with (
        running_server(settings(), [service]) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel,
    ):
        yield running, channel


async def get(channel: grpc.aio.Channel, movie_id: str, deadline: float = 5) -> search_pb2.GetVideoResponse:
    reply: search_pb2.GetVideoResponse = await search_pb2_grpc.SearchServiceStub(channel).GetVideo(
        search_pb2.GetVideoRequest(id=movie_id), timeout=deadline
    )
    return reply


async def test_a_successful_call_is_answered_and_counted() -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "GetVideo", "grpc_code": "OK"}
    before = REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0
    async with serving(ScriptedServicer()) as (_, channel):
        assert (await get(channel, "tt1")).title == "A film"
    assert REGISTRY.get_sample_value("grpc_server_handled_total", labels) == before + 1


async def test_domain_errors_become_their_status_codes() -> None:
    async with serving(ScriptedServicer()) as (_, channel):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await get(channel, "missing")
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        assert missing.value.details() == "no movie missing"

        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await get(channel, "bad")
        assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        # grpc.aio hands trailers over as (key, value) pairs, whatever the stubs say.
        trailers = cast("Iterable[tuple[str, bytes]]", bad.value.trailing_metadata() or ())
        (details,) = [value for key, value in trailers if key == "grpc-status-details-bin"]
        status = status_pb2.Status.FromString(details)
        violations = error_details_pb2.BadRequest()
        assert status.details[0].Unpack(violations)
        assert violations.field_violations[0].field == "id"


async def test_a_request_breaking_its_contract_never_reaches_the_handler() -> None:
    labels = {"grpc_service": SERVICE, "grpc_method": "GetVideo", "grpc_code": "INVALID_ARGUMENT"}
    before = REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0
    servicer = ScriptedServicer()
    async with serving(servicer) as (_, channel):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(channel, "x" * 65)  # the servicer would answer any id; the contract allows 64 characters
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "id: must be at most 64 characters"
    trailers = cast("Iterable[tuple[str, bytes]]", caught.value.trailing_metadata() or ())
    (details,) = [value for key, value in trailers if key == "grpc-status-details-bin"]
    violations = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(violations)
    assert [(v.field, v.reason) for v in violations.field_violations] == [("id", "string.max_len")]
    assert servicer.ids == []
    assert REGISTRY.get_sample_value("grpc_server_handled_total", labels) == before + 1


async def test_an_unexpected_exception_is_internal_and_leaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async with serving(ScriptedServicer()) as (_, channel):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(channel, "boom")
    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert "secret" not in (caught.value.details() or "")
    assert any("secret stack detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_the_callers_deadline_stops_the_handler() -> None:
    servicer = ScriptedServicer()
    async with serving(servicer) as (_, channel):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(channel, "slow", deadline=0.3)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # The server gave up on the work too, instead of finishing it for nobody.
        await asyncio.wait_for(servicer.cancelled.wait(), 5)


async def test_health_reports_serving_for_the_server_and_each_service() -> None:
    async with serving(ScriptedServicer()) as (_, channel):
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=2)
        assert unknown.value.code() is grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services() -> None:
    async with serving(ScriptedServicer()) as (running, _):
        sync_channel = grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}")
        try:
            services = await asyncio.to_thread(
                lambda: set(ProtoReflectionDescriptorDatabase(sync_channel).get_services())
            )
        finally:
            sync_channel.close()
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services


async def test_metrics_are_served_over_http() -> None:
    async with serving(ScriptedServicer()) as (running, channel):
        await get(channel, "tt2")
        reader, writer = await asyncio.open_connection("127.0.0.1", running.metrics_port)
        writer.write(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        body = (await reader.read()).decode()
        writer.close()
    assert body.startswith("HTTP/1.0 200")
    assert (
        'grpc_server_handled_total{grpc_code="OK",grpc_method="GetVideo",grpc_service="cinemesh.search.v1.SearchService"}'
        in body
    )


async def test_stopping_says_not_serving_first_then_lets_calls_finish() -> None:
    servicer = ScriptedServicer()
    service = GrpcService(SERVICE, lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server))
    server_cm = running_server(settings(drain_seconds=0.5), [service])
    running = await server_cm.__aenter__()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel:
        in_flight = asyncio.create_task(get(channel, "takes-a-second"))
        await servicer.in_flight.wait()
        stopping = asyncio.create_task(server_cm.__aexit__(None, None, None))
        await asyncio.sleep(0.2)
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        # The call that was running when the stop began still completes.
        assert (await in_flight).title == "A film"
        await stopping
        # And once stopped, nothing is served.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await get(channel, "tt3", deadline=1)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_service_that_reports_itself_unhealthy_is_not_serving_until_it_recovers() -> None:
    healthy = True
    service = GrpcService(
        SERVICE,
        lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(ScriptedServicer(), server),
        healthy=lambda: healthy,
    )
    async with (
        running_server(settings(), [service]) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)

        async def status_of(name: str) -> int:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            return int(reply.status)

        async def until(name: str, status: int) -> None:
            for _ in range(200):  # the health watcher looks once a second
                if await status_of(name) == status:
                    return
                await asyncio.sleep(0.05)
            pytest.fail(f"{name or 'the server'} never became {status}")

        assert await status_of(SERVICE) == health_pb2.HealthCheckResponse.SERVING
        healthy = False
        await until(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
        assert await status_of("") == health_pb2.HealthCheckResponse.NOT_SERVING
        healthy = True
        await until(SERVICE, health_pb2.HealthCheckResponse.SERVING)
        assert await status_of("") == health_pb2.HealthCheckResponse.SERVING
