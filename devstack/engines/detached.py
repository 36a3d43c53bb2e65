"""The life cycle shared by engines that run as one detached process: start, wait for health, stop by pid.

A subclass says how to install, launch and probe its engine; this class keeps its pid file and log in the
engine's home (`<work_dir>/<name>/` unless its settings name another), refuses to start on a port someone else
holds, and never leaves a half-started process.
"""

from __future__ import annotations

import logging
import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.engines.base import (
    DevstackSettings,
    EngineError,
    PidFile,
    Port,
    Status,
    check_free,
    check_version,
    pid_alive,
    spawn_detached,
    stop_pid,
    wait_until,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Launch:
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None


class DetachedEngine(ABC):
    name: str
    home: Path
    """Configuration, data, log and pid file."""
    stop_grace = 30.0
    """Seconds between SIGTERM and SIGKILL."""

    def __init__(self, devstack: DevstackSettings | None = None, home: Path | None = None) -> None:
        self.devstack = devstack or DevstackSettings()
        self.home = home or self.devstack.work_dir / self.name

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def pid_file(self) -> PidFile:
        return PidFile(self.home / f"{self.name}.pid")

    def log_path(self) -> Path:
        return self.home / f"{self.name}.log"

    @abstractmethod
    def install(self) -> None: ...

    @abstractmethod
    def healthy(self) -> bool: ...

    @abstractmethod
    def endpoints(self) -> Mapping[str, str]: ...

    @abstractmethod
    def ports(self) -> Sequence[Port]: ...

    @property
    @abstractmethod
    def pinned_version(self) -> str: ...

    @abstractmethod
    def running_version(self) -> str | None:
        """Asked of the engine itself where its protocol allows."""

    @abstractmethod
    def prepare(self) -> Launch:
        """Write configuration and create directories (the engine is installed and stopped); how to launch it."""

    def start(self) -> None:
        pid = self.pid_file.read()
        if pid is not None:
            # Ours is running, or another start of it is under way: wait for it, unless it exits (crashed or killed).
            try:
                self._await_healthy(pid)
            except EngineError:
                if pid_alive(pid):
                    self.stop()
                    raise
            else:
                # Reused as it is: another release left running (by an older checkout, say) is refused, not stopped.
                check_version(self)
                return
        self._forget_exited()
        for port in self.ports():
            check_free(port)
        self._begin_log()
        launch = self.prepare()
        with self.log_path().open("a") as out:
            out.write(f"--- devstack: starting {self.name}: {' '.join(launch.argv)}\n")
        pid = spawn_detached(launch.argv, log=self.log_path(), env=launch.env, cwd=launch.cwd)
        self.pid_file.write(pid)
        try:
            self._await_healthy(pid)
            check_version(self)
        except EngineError:
            self.stop()
            raise

    def _await_healthy(self, pid: int) -> None:
        waited = wait_until(
            self.healthy,
            timeout=self.devstack.start_timeout,
            alive=lambda: pid_alive(pid),
            what=f"{self.name} (pid {pid})",
            log=self.log_path(),
        )
        log.info("%s healthy after %.1f s (pid %d) at %s", self.name, waited, pid, dict(self.endpoints()))

    def stop(self) -> None:
        stop_pid(self.pid_file.recorded(), grace=self.stop_grace)
        self.pid_file.clear()

    def _forget_exited(self) -> None:
        """Clear the pid file of a process that exited (stopped, crashed or killed) once all its threads are gone."""
        pid = self.pid_file.recorded()
        if pid is not None and not pid_alive(pid):
            stop_pid(pid)  # nothing left to signal: it only waits
        self.pid_file.clear()

    def _begin_log(self) -> None:
        """A fresh log per start (the log tail of a failure is then this start's), keeping the previous one."""
        log_path = self.log_path()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if log_path.exists():
            log_path.replace(log_path.with_name(log_path.name + ".1"))

    def status(self) -> Status:
        pid = self.pid_file.read()
        healthy = pid is not None and self.healthy()
        version = self.running_version() if healthy else None
        return Status(self.name, pid is not None, healthy, pid, self.endpoints(), version)

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
