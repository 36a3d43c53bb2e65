"""Work a service does beside its RPCs (consuming a topic, projecting a log), watched so that gRPC health tells
the truth about it.

A task runs from the server's start until its stop. While every task runs and says it is well, health stays
SERVING; when one ends before the stop (an exception, or a plain return) or says it is not well (stuck, its
engine unreachable), every name in health turns NOT_SERVING with the reason in the log, and back to SERVING when
the task says it is well again. A task that ended stays ended: the process is not healthy any more and an
orchestrator restarts it (a restart is also what clears whatever killed the task).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("meshkit.background")

HealthChange = Callable[[bool], Awaitable[None]]


@dataclass(frozen=True)
class BackgroundTask:
    name: str
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
    """Runs until the event is set, then returns once its work is left in order (flushed or abandoned)."""
    problem: Callable[[], str | None]
    """Why the task is not well now (stuck, its engine unreachable), or None: cheap, called every check."""


class Supervisor:
    """Runs the tasks and reports, through `on_change`, whether all of them are well."""

    def __init__(self, tasks: Sequence[BackgroundTask], on_change: HealthChange, *, check_seconds: float = 1.0):
        self._tasks = tasks
        self._on_change = on_change
        self._check_seconds = check_seconds
        self._stop = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._watch: asyncio.Task[None] | None = None
        self._well = True

    def start(self) -> None:
        for task in self._tasks:
            self._running[task.name] = asyncio.create_task(task.run(self._stop), name=task.name)
        if self._tasks:
            self._watch = asyncio.create_task(self._watching(), name="background-health")

    def problems(self) -> list[str]:
        """What is wrong now, one line per task that is not well (empty when all are)."""
        found = []
        for task in self._tasks:
            running = self._running.get(task.name)
            if running is not None and running.done() and not self._stop.is_set():
                found.append(f"{task.name} ended: {_how_it_ended(running)}")
                continue
            problem = task.problem()
            if problem is not None:
                found.append(f"{task.name}: {problem}")
        return found

    async def _watching(self) -> None:
        reported: list[str] = []
        while not self._stop.is_set():
            problems = self.problems()
            if problems != reported:
                if problems:
                    log.error("not serving: %s", "; ".join(problems), extra={"problems": problems})
                else:
                    log.info("background work is well again")
                reported = problems
            well = not problems
            if well != self._well:
                self._well = well
                await self._on_change(well)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_seconds):
                    await self._stop.wait()

    async def stop(self, grace: float) -> None:
        """Ask every task to stop and wait up to `grace` seconds for them; those still running are cancelled."""
        self._stop.set()
        if self._watch is not None:
            await self._watch
        running = list(self._running.values())
        if not running:
            return
        done, pending = await asyncio.wait(running, timeout=grace)
        for task in pending:
            log.warning("%s did not stop within %g s; cancelled", task.get_name(), grace)
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("%s failed while stopping", task.get_name(), exc_info=task.exception())


def _how_it_ended(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    if error is None:
        return "returned before the service stopped"
    return f"{type(error).__name__}: {error}"
