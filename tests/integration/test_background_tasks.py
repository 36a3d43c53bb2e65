"""Background tasks beside a real grpc.aio server: gRPC health follows whether they run and say they are well."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meshkit.background import BackgroundTask
from meshkit.server import running_server
from meshkit.settings import ServiceSettings

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def settings() -> ServiceSettings:
    return ServiceSettings.model_validate({"grpc_port": 0, "metrics_port": 0, "grace_seconds": 2, "drain_seconds": 0})


async def health(port: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        return int(answer.status)


async def until(port: int, status: int, seconds: float = 10) -> None:
    """Watches health until it says `status` (the watcher checks once a second, so a change shows within that)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=seconds)
        async for answer in watch:
            if answer.status == status:
                return
    raise AssertionError(f"health never said {status}")


def task(run: Callable[[asyncio.Event], object], problem: Callable[[], str | None] = lambda: None) -> BackgroundTask:
    return BackgroundTask("consumer", run, problem)  # type: ignore[arg-type]


async def test_a_task_that_dies_turns_the_service_not_serving() -> None:
    go = asyncio.Event()

    async def run(stop: asyncio.Event) -> None:
        await go.wait()
        raise RuntimeError("the bus went away for good")

    async with running_server(settings(), [], [task(run)]) as running:
        assert await health(running.grpc_port) == SERVING
        go.set()
        await until(running.grpc_port, NOT_SERVING)
        assert running.background.problems() == ["consumer ended: RuntimeError: the bus went away for good"]


async def test_a_task_that_returns_before_the_stop_counts_as_dead() -> None:
    async def run(stop: asyncio.Event) -> None:
        return

    async with running_server(settings(), [], [task(run)]) as running:
        await until(running.grpc_port, NOT_SERVING)


async def test_a_problem_the_task_reports_turns_health_off_and_on_again() -> None:
    problem: list[str | None] = [None]

    async def run(stop: asyncio.Event) -> None:
        await stop.wait()

    async with running_server(settings(), [], [task(run, lambda: problem[0])]) as running:
        assert await health(running.grpc_port) == SERVING
        problem[0] = "no batch loaded for 60 s"
        await until(running.grpc_port, NOT_SERVING)
        problem[0] = None
        await until(running.grpc_port, SERVING)


async def test_stopping_the_server_lets_the_task_finish_its_work() -> None:
    finished = asyncio.Event()

    async def run(stop: asyncio.Event) -> None:
        await stop.wait()
        await asyncio.sleep(0.2)  # a last batch flushed
        finished.set()

    async with running_server(settings(), [], [task(run)]):
        pass
    assert finished.is_set()


async def test_a_task_that_ignores_the_stop_is_cancelled_after_the_grace_period() -> None:
    cancelled = asyncio.Event()

    async def run(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with asyncio.timeout(30), running_server(settings(), [], [task(run)]):
        pass
    assert cancelled.is_set()


@pytest.mark.parametrize("tasks", [0, 2])
async def test_health_is_serving_while_every_task_is_well(tasks: int) -> None:
    async def run(stop: asyncio.Event) -> None:
        await stop.wait()

    background = [BackgroundTask(f"t{index}", run, lambda: None) for index in range(tasks)]
    async with running_server(settings(), [], background) as running:
        await asyncio.sleep(1.5)  # past one check of the watcher
        assert await health(running.grpc_port) == SERVING
        assert running.background.problems() == []
