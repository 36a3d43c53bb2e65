"""What every engine module provides, and the machinery they share.

An engine installs once into a cache directory (kept between clones and CI runs),
starts as a detached local process bound to 127.0.0.1 with its data under a work
directory, records its process id, waits for real health (a request, not an open
port), and stops by that recorded id. Engines that refuse to run as root are
started as an unprivileged user when the caller is root.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[2]


def default_work_dir() -> Path:
    """The clone's build/devstack, or a per-clone directory under /var/tmp when root's clone is closed to others.

    Engines that refuse root run as an unprivileged user, who must reach their data; a clone in /root (mode 700)
    would make every such start fail. "Others may enter every parent" is the check: the user is not the owner.
    """
    inside = REPO / "build" / "devstack"
    if os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in (REPO, *REPO.parents)):
        return inside
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    return Path("/var/tmp/cinemesh") / f"devstack-{digest}"


class DevstackSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_", extra="ignore", frozen=True)

    cache_dir: Path = Field(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cinemesh" / "engines",
        description="Installed engines, reused by every clone and CI run on this machine.",
    )
    work_dir: Path = Field(
        default_factory=default_work_dir,
        description="Engines' data, logs and pid files: build/devstack in the clone, unless the clone sits where "
        "the unprivileged user cannot enter (e.g. under /root), then under /var/tmp/cinemesh.",
    )
    run_as: str = Field("nobody", description="Unprivileged user for engines that refuse root (used only as root).")
    start_timeout: float = Field(180.0, gt=0, description="Seconds an engine may take to become healthy.")


class EngineError(RuntimeError):
    """An engine could not be installed, started or stopped; the message says why (and shows its log)."""


@dataclass(frozen=True)
class Status:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    endpoints: Mapping[str, str]
    version: str | None = None
    """What the engine reports running, when healthy."""


class Engine(Protocol):
    """One engine. Every method is idempotent: install on a warm cache, start when running, stop when stopped."""

    name: str

    def install(self) -> None:
        """Fetch and prepare the engine in the cache; seconds when already there."""

    def start(self) -> None:
        """Start detached and return once healthy; raise EngineError (with the log tail) otherwise."""

    def stop(self) -> None:
        """Stop by the recorded process id (SIGTERM, then SIGKILL); no process of ours is left."""

    def status(self) -> Status: ...

    def healthy(self) -> bool:
        """One real request through the protocol the services use."""

    def endpoints(self) -> Mapping[str, str]:
        """Where it listens, e.g. {"url": "http://127.0.0.1:9200"}; also what the services' settings want."""

    def log_path(self) -> Path: ...

    def reset(self) -> None:
        """Stop and delete its data (not the installed engine)."""

    @property
    def pinned_version(self) -> str:
        """The release the devstack installs and expects to find running (a prefix such as "15" pins a major)."""

    def running_version(self) -> str | None:
        """The version the running engine reports about itself; None when it does not answer."""


def same_release(running: str, pinned: str) -> bool:
    """Whether `running` is the `pinned` release: "15.14" is "15", "3.8.0" is "3.8.0", "3.8.1" is not "3.8.0"."""
    wanted = pinned.split(".")
    return running.split(".")[: len(wanted)] == wanted


def check_version(engine: Engine) -> str:
    """The version `engine` reports running, when it is the pinned one; EngineError saying what differs otherwise.

    Health alone says nothing about what answers: an engine left running by an older checkout (or started with
    other settings) on the same ports and work dir would otherwise be reused as if it were the pinned release.
    """
    where = " ".join(engine.endpoints().values())
    running = engine.running_version()
    if running is None:
        raise EngineError(
            f"{engine.name} at {where} did not report its version; the devstack pins {engine.pinned_version}. "
            f"See `python -m devstack logs {engine.name}`."
        )
    if not same_release(running, engine.pinned_version):
        raise EngineError(
            f"{engine.name} at {where} runs version {running}, but the devstack pins {engine.pinned_version}: "
            f"stop it (`python -m devstack stop {engine.name}`) and start the pinned release, "
            "or change the pin in the engine's settings"
        )
    return running


# --- shared helpers -------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_root() -> bool:
    return os.geteuid() == 0


def unprivileged_prefix(settings: DevstackSettings) -> list[str]:
    """`setpriv` wrapper that drops root; empty when not root."""
    if not is_root():
        return []
    user = pwd.getpwnam(settings.run_as)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]


def hand_to_unprivileged(settings: DevstackSettings, *paths: Path) -> None:
    """Give the unprivileged user the directories an engine must read or write."""
    if not is_root():
        return
    user = pwd.getpwnam(settings.run_as)
    for path in paths:
        for root, dirs, files in os.walk(path):
            os.chown(root, user.pw_uid, user.pw_gid)
            for name in dirs + files:
                with contextlib.suppress(FileNotFoundError):
                    os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


@dataclass(frozen=True)
class Port:
    number: int
    setting: str
    """The environment variable that changes it, named in the error when the port is taken."""


def check_free(port: Port) -> None:
    """Refuse a port that another process holds on 127.0.0.1.

    A health check only proves that *something* answers: if a foreign server (a Debian default instance, another
    clone's devstack) holds the port, ours dies on bind while the check passes. Binding, rather than connecting,
    also sees a socket that is bound but not yet listening.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port.number))
        except OSError as exc:
            raise EngineError(
                f"127.0.0.1:{port.number} is taken by another process ({exc.strerror}); "
                f"stop it or choose another port with {port.setting}=..."
            ) from None


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on; None when no such process is left."""
    try:
        # The command name (field 2) may itself hold spaces and parentheses.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat, clock ticks after boot: with the pid, it names one process even once pids wrap."""
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields is not None else None
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists": look at its state.
    fields = _stat(pid)
    return fields is None or fields[0] != "Z"


# Not a bare number: `kill $(cat engine.pid)` must not signal a process whose pid equals the start time.
_START_KEY = "starttime="


@dataclass(frozen=True)
class PidFile:
    """A pid and its process's start time: after a crash or reboot the bare pid may name someone else's process."""

    path: Path

    def read(self) -> int | None:
        """Our process while it runs; None once it exited, or when its pid now names another process."""
        pid = self.recorded()
        return pid if pid is not None and pid_alive(pid) else None

    def recorded(self) -> int | None:
        """Our process while anything of it is left, also a zombie whose other threads are still exiting."""
        try:
            lines = self.path.read_text().splitlines()
            pid = int(lines[0])
            started = int(lines[1].removeprefix(_START_KEY)) if len(lines) > 1 else None
        except (FileNotFoundError, ValueError, IndexError):
            return None
        now = start_time(pid)
        if now is None:
            return None
        # A file written before start times were recorded: the pid alone, trusted as before.
        return pid if started is None or started == now else None

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        started = start_time(pid)
        self.path.write_text(f"{pid}\n" + (f"{_START_KEY}{started}\n" if started is not None else ""))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def spawn_detached(
    argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start a process that outlives this one (own session, output to `log`); returns its pid.

    `argv` should exec the engine itself (no wrapper shell), so the pid is the engine's.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    return process.pid


def stop_pid(pid: int | None, *, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; returns once no thread of it is left. Pass only a pid of ours.

    An exited process is only waited for: its last threads may still hold its ports and file locks.
    """
    if pid is None:
        return
    if pid_alive(pid):
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
    if pid_alive(pid):
        _signal(pid, signal.SIGKILL)
        while pid_alive(pid):
            _reap(pid)
            time.sleep(0.05)
    _wait_threads_gone(pid)
    _reap(pid)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum) if _leads_group(pid) else os.kill(pid, signum)


def _wait_threads_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until no thread of `pid` runs.

    A JVM's main thread turns zombie first (so `pid_alive` says no) while its other threads still exit and hold its
    sockets and file locks: a start right after a stop or a kill -9 would find the port taken.
    """
    deadline = time.monotonic() + timeout
    while _threads_running(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)


def _threads_running(pid: int) -> bool:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in {"Z", "X"}:
            return True
    return False


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def wait_until(check: Callable[[], bool], *, timeout: float, alive: Callable[[], bool], what: str, log: Path) -> float:
    """Poll `check` until true; fail early if the process died. Returns seconds waited."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if not alive():
            raise EngineError(f"{what} exited while starting\n{log_tail(log)}")
        if time.monotonic() - started > timeout:
            raise EngineError(f"{what} not healthy after {timeout:.0f} s\n{log_tail(log)}")
        time.sleep(0.2)


def log_tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return f"(no log at {log})"
    return f"--- last {len(text)} lines of {log} ---\n" + "\n".join(text)


def require_command(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EngineError(f"`{name}` is not installed: {hint}")
    return path
