"""`python -m devstack run`: every service and the gateway on this machine, stopped together.

Ports come from each service's own settings (SEARCH_GRPC_PORT, UGC_GRPC_PORT, ...) and the
gateway's (GATEWAY_HTTP_PORT, ...); a port set to 0 is replaced by a free one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack import catalogue
from devstack.engines.base import EngineError, PidFile, check_version, stop_pid
from devstack.engines.registry import ENGINES, production_env
from devstack.gateway import REPO, GatewaySettings, Upstream, envoy_command, render, validate
from devstack.processes import Child, base_env, spawn
from devstack.services import SERVICES, ServiceSpec, behind_gateway
from meshkit.settings import ServiceSettings
from search_svc.settings import SearchSettings

log = logging.getLogger("devstack.mesh")

RUN_DIR = REPO / "build" / "run"
PID_FILE = RUN_DIR / "mesh.pid"
START_TIMEOUT = 60.0


class MeshError(RuntimeError):
    """The mesh could not start; the message says why and what to change."""


@dataclass(frozen=True)
class Service:
    """A row of the services table with the settings, ports resolved, that its process will be given."""

    spec: ServiceSpec
    settings: ServiceSettings

    @property
    def name(self) -> str:
        return self.spec.name

    def env(self, profile: str, env: Mapping[str, str]) -> dict[str, str]:
        """Its process's environment: `env`, its resolved ports, and its profile and log format unless set."""
        spec = self.spec
        child = dict(env) | {
            spec.env_var("grpc_port"): str(self.settings.grpc_port),
            spec.env_var("metrics_port"): str(self.settings.metrics_port),
        }
        child.setdefault(spec.env_var("log_format"), "text")
        child.setdefault(spec.env_var("profile"), profile)
        return child


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on `host` (the OS picks it; a race with another process is possible but rare)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_free(host: str, port: int, setting: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise MeshError(f"{host}:{port} is not free ({exc.strerror}); choose another with {setting}=...") from None


def _resolve_ports(spec: ServiceSpec) -> ServiceSettings:
    settings = spec.settings()
    updates = {}
    for field in ("grpc_port", "metrics_port"):
        port = getattr(settings, field)
        host = settings.host if field == "grpc_port" else settings.metrics_host
        if port == 0:
            updates[field] = free_port(host)
        else:
            _check_free(host, port, spec.env_var(field))
    return settings.model_copy(update=updates)


def plan() -> tuple[list[Service], GatewaySettings]:
    services = [Service(spec, _resolve_ports(spec)) for spec in SERVICES]
    gateway = GatewaySettings()
    updates = {}
    for field in ("http_port", "admin_port"):
        host = gateway.listen_host if field == "http_port" else "127.0.0.1"
        port = getattr(gateway, field)
        if port == 0:
            updates[field] = free_port(host)
        else:
            _check_free(host, port, f"GATEWAY_{field.upper()}")
    return services, gateway.model_copy(update=updates)


async def _wait_healthy(child: Child, port: int, deadline: float) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if not child.running:
                raise MeshError(f"{child.name} exited with code {child.process.returncode} while starting")
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if time.monotonic() > deadline:
                raise MeshError(f"{child.name} did not report SERVING within {START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)


async def _wait_envoy_ready(child: Child, admin_port: int, deadline: float) -> None:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    while not await asyncio.to_thread(ready):
        if not child.running:
            raise MeshError(f"envoy exited with code {child.process.returncode} while starting")
        if time.monotonic() > deadline:
            raise MeshError(f"envoy was not ready within {START_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)


def _banner(
    services: list[Service], gateway: GatewaySettings, seconds: float, profile: str, profile_env: dict[str, str]
) -> str:
    rest = f"http://{gateway.listen_host}:{gateway.http_port}"
    lines = [
        f"cinemesh is up in {seconds:.1f} s ({profile} profile)",
        f"  REST gateway   {rest}        try: curl {rest}/client/info",
        f"  Swagger UI     {rest}/docs/",
        f"  OpenAPI        {rest}/openapi.yaml",
        f"  gRPC gateway   {gateway.listen_host}:{gateway.http_port}  (native gRPC through Envoy)",
    ]
    for service in services:
        s = service.settings
        lines.append(
            f"  gRPC {service.name:<9} {s.host}:{s.grpc_port}  (health, reflection)   "
            f"metrics http://{s.metrics_host}:{s.metrics_port}/metrics"
        )
    lines.append(f"  Envoy admin    http://127.0.0.1:{gateway.admin_port}")
    if profile_env:
        lines.append("  The services were given:")
        lines += [f"    {name}={value}" for name, value in sorted(profile_env.items())]
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


def _production_env() -> dict[str, str]:
    """The engines' addresses for the services; every engine must be up already."""
    engines = {name: factory() for name, factory in ENGINES.items()}
    down = [name for name, engine in engines.items() if not engine.healthy()]
    if down:
        raise MeshError(
            f"the production profile needs the devstack engines; not healthy: {', '.join(down)}. "
            "Start them with `python -m devstack start` (or use `make run-stack`)."
        )
    for engine in engines.values():
        check_version(engine)
    return production_env(engines)


@dataclass(frozen=True)
class Prepared:
    services: list[Service]
    gateway: GatewaySettings
    config: Path
    profile_env: dict[str, str]
    catalogue: str


def prepare(profile: str) -> Prepared:
    """Everything before the first process starts: ports, engines, the catalogue, a validated gateway config."""
    services, gateway = plan()
    profile_env = _production_env() if profile == "production" else {}
    by_name = {s.name: s for s in services}
    # The catalogue is loaded where the search service will read it: its settings as its process will see them.
    search_fields: dict[str, Any] = by_name["search"].spec.fields_in(profile_env)
    search_settings = SearchSettings(**search_fields)
    served = catalogue.ensure(profile, search_settings, catalogue.source_from_env())
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    config = RUN_DIR / "gateway.yaml"
    upstreams = {spec.name: Upstream("127.0.0.1", by_name[spec.name].settings.grpc_port) for spec in behind_gateway()}
    config.write_text(render(gateway, upstreams))
    checked = validate(config)
    if checked.returncode != 0:
        raise MeshError(f"the gateway config {config} is invalid:\n{checked.stdout}{checked.stderr}")
    return Prepared(services, gateway, config, profile_env, served)


async def run(profile: str = "embedded") -> int:
    started = time.monotonic()
    try:
        prepared = prepare(profile)
    except (MeshError, EngineError, catalogue.CatalogueError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    services, gateway, config, profile_env = (
        prepared.services,
        prepared.gateway,
        prepared.config,
        prepared.profile_env,
    )

    PID_FILE.write_text(f"{os.getpid()}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    children: list[Child] = []
    env = base_env() | profile_env
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for service in services:
            children.append(
                await spawn(service.name, [sys.executable, "-m", service.spec.module], service.env(profile, env))
            )
        await asyncio.gather(
            *(_wait_healthy(c, s.settings.grpc_port, deadline) for c, s in zip(children, services, strict=True))
        )
        envoy = await spawn("envoy", envoy_command(config, gateway), env)
        children.append(envoy)
        await _wait_envoy_ready(envoy, gateway.admin_port, deadline)
        print(_banner(services, gateway, time.monotonic() - started, profile, profile_env), flush=True)
        print(f"  Catalogue: {prepared.catalogue}", flush=True)

        exited = asyncio.ensure_future(
            asyncio.wait(
                [asyncio.ensure_future(c.process.wait()) for c in children], return_when=asyncio.FIRST_COMPLETED
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        exited.cancel()
        if not stop.is_set():
            dead = next(c for c in children if not c.running)
            print(
                f"devstack: {dead.name} exited with code {dead.process.returncode}; stopping the rest", file=sys.stderr
            )
            return 1
        return 0
    except MeshError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        for child in children:
            if not child.running and child.tail:
                print(f"--- last lines of {child.name} ---\n" + "\n".join(child.tail[-20:]), file=sys.stderr)
        return 1
    finally:
        # The gateway goes first, so no new request reaches a service that is stopping.
        for child in reversed(children):
            await child.stop(grace=15)
        PID_FILE.unlink(missing_ok=True)
        print("devstack: everything stopped", flush=True)


def stop_running() -> bool:
    """Stop a mesh started by `devstack run` elsewhere (another terminal, a background job); True if one ran."""
    pid = PidFile(PID_FILE).read()
    if pid is None:
        return False
    stop_pid(pid, grace=60)
    PID_FILE.unlink(missing_ok=True)
    return True


def main(profile: str = "embedded") -> int:
    return asyncio.run(run(profile))


def run_dir() -> Path:
    return RUN_DIR
