"""The UGC service as its own process, and clients that send it playback events continuously over gRPC (as the
gateway would, the user in `x-user-id`), recording what each call was answered and how long it took. The clients
never retry: an event is on the bus because the service published it once, or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.mesh import free_port
from tests.e2e.conftest import REPO

SERVICE = "cinemesh.ugc.v1.UgcService"
START_LIMIT = 120.0


@dataclass
class UgcProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def ugc_service(env: dict[str, str], log: Path) -> Iterator[UgcProcess]:
    """`python -m ugc_svc` with `env` on a free port, once it reports SERVING; stopped (SIGTERM) on exit unless it
    is gone already."""
    port = free_port()
    child_env = os.environ | {"UGC_GRPC_PORT": str(port), "UGC_METRICS_PORT": "0", "UGC_LOG_FORMAT": "text"} | env
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ugc_svc"], cwd=REPO, env=child_env, stdout=out, stderr=subprocess.STDOUT
        )
    running = UgcProcess(process, port, log)
    try:
        _wait_serving(running)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_serving(service: UgcProcess) -> None:
    deadline = time.monotonic() + START_LIMIT
    with grpc.insecure_channel(service.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            with contextlib.suppress(grpc.RpcError):
                reply = stub.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if service.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the UGC service did not start (exit {service.process.poll()}):\n{service.log_tail()}")
            time.sleep(0.1)


@dataclass(frozen=True)
class Call:
    user: str
    ids: list[str]
    code: grpc.StatusCode
    started: float
    seconds: float


@dataclass
class Load:
    """`workers` clients, each sending calls of `batch` new events one after another until told to stop."""

    target: str
    run_id: str
    batch: int
    workers: int = 4
    pause: float = 0.02
    deadline: float = 60.0
    """The client's own deadline: far beyond any bound, so that a call that hangs shows as one that took long."""
    calls: list[Call] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with grpc.aio.insecure_channel(self.target) as channel:
            stub = ugc_pb2_grpc.UgcServiceStub(channel)
            await asyncio.gather(*(self._worker(stub, n, stop) for n in range(self.workers)))

    async def _worker(self, stub: ugc_pb2_grpc.UgcServiceAsyncStub, worker: int, stop: asyncio.Event) -> None:
        user = f"load-{self.run_id}-{worker}"
        n = 0
        while not stop.is_set():
            ids = [f"{self.run_id}-{worker}-{n}-{i}" for i in range(self.batch)]
            n += 1
            request = ugc_pb2.RecordPlaybackEventsRequest(events=[_event(event_id) for event_id in ids])
            started = time.monotonic()
            try:
                reply = await stub.RecordPlaybackEvents(request, metadata=(("x-user-id", user),), timeout=self.deadline)
                code = grpc.StatusCode.OK
                assert list(reply.event_ids) == ids
            except grpc.aio.AioRpcError as error:
                code = error.code()
            self.calls.append(Call(user, ids, code, started, time.monotonic() - started))
            await asyncio.sleep(self.pause)

    def count(self, code: grpc.StatusCode, since: float = 0.0) -> int:
        return sum(1 for call in self.calls if call.code == code and call.started >= since)

    async def until(self, done: Callable[[], bool], limit: float, what: str) -> None:
        """Wait (the load running) until `done()`; fail naming `what` after `limit` seconds."""
        deadline = time.monotonic() + limit
        while not done():
            if time.monotonic() > deadline:
                codes = {code.name: self.count(code) for code in {call.code for call in self.calls}}
                pytest.fail(f"{what} within {limit:.0f} s; calls so far: {codes}")
            await asyncio.sleep(0.05)

    def acknowledged(self) -> list[str]:
        return [event_id for call in self.calls if call.code == grpc.StatusCode.OK for event_id in call.ids]

    def refused(self) -> list[Call]:
        return [call for call in self.calls if call.code != grpc.StatusCode.OK]


def _event(event_id: str) -> ugc_pb2.PlaybackEvent:
    client_time = Timestamp()
    client_time.FromDatetime(datetime.now(UTC))
    return ugc_pb2.PlaybackEvent(
        event_id=event_id, movie_id="tt0076759", type="play", position_ms=1000, client_time=client_time
    )
