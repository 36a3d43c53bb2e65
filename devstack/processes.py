"""Child processes with prefixed output, tied to the launcher's life."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the launcher is killed outright, the kernel sends its children SIGTERM: nothing is left behind.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    pump: asyncio.Task[None] | None = None
    tail: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def stop(self, grace: float) -> int:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        if self.pump is not None:
            await self.pump
        return self.process.returncode if self.process.returncode is not None else -1


async def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], width: int = 7) -> Child:
    """Start `argv` in its own session (Ctrl-C reaches only the launcher, which stops children in order)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    child = Child(name, process)
    child.pump = asyncio.create_task(_pump(child, width))
    return child


async def _pump(child: Child, width: int) -> None:
    assert child.process.stdout is not None
    prefix = f"{child.name:<{width}}| "
    async for raw in child.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        child.tail = [*child.tail[-39:], line]
        sys.stdout.write(prefix + line + "\n")
        sys.stdout.flush()


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
