"""The one gRPC server bootstrap: health, reflection, metrics, graceful stop.

A service hands over its settings and an async context manager that builds its
servicers (opening whatever clients they need) and closes them afterwards.
Stopping goes: health NOT_SERVING for every service, wait `drain_seconds` so
load balancers notice, refuse new calls, let in-flight calls finish within
`grace_seconds`, then close the service's resources.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

# The asyncio servicer is re-exported only as `health.aio`, which type checkers cannot follow.
from grpc_health.v1._async import HealthServicer as AsyncHealthServicer
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server
from pydantic import ValidationError

from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.interceptor import RpcInterceptor
from meshkit.logs import configure_logging
from meshkit.settings import ServiceSettings, describe_settings

log = logging.getLogger("meshkit.server")

S = TypeVar("S", bound=ServiceSettings)

HEALTH_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class GrpcService:
    """A servicer ready to be added to a server, with the full name health and reflection know it by."""

    name: str
    register: Callable[[grpc.aio.Server], None]
    healthy: Callable[[], bool] | None = None
    """Whether the service can do its work (e.g. its background tasks still run): checked every
    `HEALTH_CHECK_SECONDS`, turning the service and the server's overall health NOT_SERVING while false."""


ServiceFactory = Callable[[S], AbstractAsyncContextManager[Sequence[GrpcService]]]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: AsyncHealthServicer
    grpc_port: int
    metrics_port: int
    service_names: tuple[str, ...]


@contextlib.asynccontextmanager
async def running_server(settings: ServiceSettings, services: Sequence[GrpcService]) -> AsyncIterator[RunningServer]:
    """Start a server for `services`; on exit, drain and stop it gracefully."""
    server = grpc.aio.server(
        interceptors=[RpcInterceptor()],
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        options=[
            ("grpc.max_send_message_length", settings.max_message_bytes),
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            # Reuse of a port still held by a dying predecessor would hide a real clash.
            ("grpc.so_reuseport", 0),
        ],
    )
    for service in services:
        service.register(server)
    health_servicer = AsyncHealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = tuple(s.name for s in services)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    address = f"{_bracket(settings.host)}:{settings.grpc_port}"
    try:
        grpc_port = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpc's way of saying the port is taken or the host is not ours
        raise OSError(f"cannot bind gRPC to {address}: {exc}") from None
    if grpc_port == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    metrics_server, metrics_thread = start_http_server(settings.metrics_port, settings.metrics_host)
    metrics_port = metrics_server.server_port
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    probed = [s for s in services if s.healthy is not None]
    watcher = asyncio.create_task(_watch_health(health_servicer, probed), name="health") if probed else None
    try:
        yield RunningServer(server, health_servicer, grpc_port, metrics_port, names)
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await health_servicer.enter_graceful_shutdown()
        if settings.drain_seconds:
            log.info("draining", extra={"seconds": settings.drain_seconds})
            await asyncio.sleep(settings.drain_seconds)
        await server.stop(settings.grace_seconds)
        metrics_server.shutdown()
        metrics_thread.join(timeout=5)


async def _watch_health(health_servicer: AsyncHealthServicer, services: Sequence[GrpcService]) -> None:
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    last: dict[str, bool] = {}
    while True:
        states = {s.name: s.healthy() for s in services if s.healthy is not None}
        states[""] = all(states.values())
        for name, healthy in states.items():
            if last.get(name) != healthy:
                if not healthy:
                    log.error("health: %s is NOT_SERVING", name or "the server")
                await health_servicer.set(name, serving if healthy else not_serving)
        last = states
        await asyncio.sleep(HEALTH_CHECK_SECONDS)


async def serve(settings: S, factory: ServiceFactory[S]) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with factory(settings) as services, running_server(settings, services) as running:
        log.info(
            "serving %s on %s:%d (metrics :%d, %s profile)",
            ", ".join(running.service_names) or "health only",
            settings.host,
            running.grpc_port,
            running.metrics_port,
            settings.profile,
            extra={"grpc_port": running.grpc_port, "metrics_port": running.metrics_port, "profile": settings.profile},
        )
        await stop.wait()
        log.info("stopping")
    log.info("stopped")


def main(service: str, settings_type: type[S], factory: ServiceFactory[S], argv: Sequence[str] = ()) -> int:
    """Entry point of a service process: read settings, configure logs, serve; exit code for the shell."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(f"usage: python -m {service}_svc\n\n{(settings_type.__doc__ or '').strip()}\n")
        print(f"Runs the {service} gRPC server (with health, reflection and Prometheus metrics) until SIGTERM.")
        print("Settings, all from the environment:")
        print(describe_settings(settings_type))
        return 0
    try:
        settings = settings_type()
    except ValidationError as exc:
        # Bad settings are an operator's mistake: say which ones, without a traceback.
        print(f"{service}: invalid settings:\n{exc}", flush=True)
        return 2
    configure_logging(service, settings.log_level, settings.log_format)
    try:
        asyncio.run(serve(settings, factory))
    except (OSError, FailedPrecondition, Unavailable) as exc:
        # A busy port, an engine that cannot be reached or is not set up (a schema not registered): the message
        # says what to do; a traceback would bury it.
        log.error("cannot start: %s", exc)
        return 1
    return 0


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
