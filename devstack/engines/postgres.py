"""PostgreSQL 15 from Debian as a private cluster in the work dir: FerretDB's storage.

PostgreSQL refuses to run as root, so as root every server-side command runs as the unprivileged user. The
cluster trusts connections from loopback (a developer stack, not a deployment) and is created once by initdb;
the Debian default cluster and service are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines.apt import AptPackages
from devstack.engines.base import (
    DevstackSettings,
    EngineError,
    PidFile,
    Port,
    Status,
    check_free,
    check_version,
    hand_to_unprivileged,
    log_tail,
    pid_alive,
    stop_pid,
    unprivileged_prefix,
    wait_until,
)

MAJOR = "15"
BIN = Path(f"/usr/lib/postgresql/{MAJOR}/bin")
PACKAGES = AptPackages(f"postgresql-{MAJOR}")
# SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for every client, such as FerretDB's pool.
_FAST_SHUTDOWN_GRACE = 30.0
# Names go into SQL text and URLs unquoted.
_IDENTIFIER = r"^[a-z_][a-z0-9_]*$"


class PostgresSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_POSTGRES_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_POSTGRES_", extra="ignore", frozen=True)

    port: int = Field(5432, ge=1, le=65535)
    user: str = Field(
        "postgres", pattern=_IDENTIFIER, description="Superuser created by initdb; clients connect as it."
    )
    database: str = Field(
        "ferretdb", pattern=_IDENTIFIER, description="Database created after start (FerretDB keeps its data there)."
    )
    dir: Path | None = Field(None, description="Cluster, socket dir, log and pid file; default WORK_DIR/postgres.")


class Postgres:
    """FerretDB's backend; `Engine` protocol."""

    name = "postgres"

    def __init__(self, settings: PostgresSettings | None = None, devstack: DevstackSettings | None = None) -> None:
        self.settings = settings or PostgresSettings()
        self.devstack = devstack or DevstackSettings()
        self.home = self.settings.dir or self.devstack.work_dir / "postgres"
        self.data = self.home / "data"
        self.sockets = self.home / "run"
        self._pid = PidFile(self.home / "postgres.pid")

    def install(self) -> None:
        PACKAGES.install()

    def start(self) -> None:
        # A postmaster of this cluster whose pid file of ours was lost is adopted, not started twice.
        pid = self._pid.read() or self._postmaster_pid()
        reused = pid is not None
        if pid is None:
            pid = self._launch()
        self._pid.write(pid)
        try:
            wait_until(
                self.healthy,
                timeout=self.devstack.start_timeout,
                alive=lambda: pid_alive(pid),
                what="PostgreSQL",
                log=self.log_path(),
            )
        except EngineError:
            self.stop()
            raise
        try:
            check_version(self)
        except EngineError:
            # Another major left running on this cluster is refused, not stopped; one started here is stopped.
            if not reused:
                self.stop()
            raise
        try:
            self._ensure_database()
        except EngineError:
            self.stop()
            raise

    def _launch(self) -> int:
        if not (BIN / "pg_ctl").exists():
            raise EngineError(f"{BIN / 'pg_ctl'} is missing: install the engine first ({self.name} install)")
        check_free(Port(self.settings.port, "DEVSTACK_POSTGRES_PORT"))
        self.sockets.mkdir(parents=True, exist_ok=True)
        hand_to_unprivileged(self.devstack, self.home)
        self._check_reachable()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        # pg_ctl hands these to a shell.
        options = f"-c listen_addresses=127.0.0.1 -p {self.settings.port} -k {shlex.quote(str(self.sockets))}"
        self._server_side(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_path()), "-o", options, "-w",
            "-t", str(int(self.devstack.start_timeout)),
        )  # fmt: skip
        pid = self._postmaster_pid()
        if pid is None:
            raise EngineError(f"pg_ctl reported a start but {self.data}/postmaster.pid names no live process")
        return pid

    def _check_reachable(self) -> None:
        probe = subprocess.run([*unprivileged_prefix(self.devstack), "test", "-w", str(self.home)], check=False)
        if probe.returncode != 0:
            raise EngineError(
                f"user {self.devstack.run_as!r} cannot write {self.home} (a parent directory is closed to it): "
                "set DEVSTACK_WORK_DIR or DEVSTACK_POSTGRES_DIR to a directory it can reach"
            )

    def _initdb(self) -> None:
        # A half-made cluster from an interrupted initdb would make it refuse the non-empty directory.
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        hand_to_unprivileged(self.devstack, self.data)
        # No locale: byte-order collation, which is how MongoDB compares strings too.
        self._server_side(
            "initdb", "-D", str(self.data), "-U", self.settings.user, "--auth=trust", "--encoding=UTF8",
            "--no-locale", "--no-instructions",
        )  # fmt: skip

    def _server_side(self, tool: str, *args: str) -> None:
        command = [*unprivileged_prefix(self.devstack), str(BIN / tool), *args]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, cwd=self.home, check=False, timeout=self.devstack.start_timeout
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise EngineError(f"{tool} did not run to completion: {error}\n{log_tail(self.log_path())}") from error
        if result.returncode != 0:
            raise EngineError(
                f"{tool} failed with exit code {result.returncode}\n{result.stdout}{result.stderr}"
                f"{log_tail(self.log_path())}"
            )

    def _postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def _ensure_database(self) -> None:
        name = self.settings.database
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.stdout.strip() != "1":
            created = self._psql("postgres", f'CREATE DATABASE "{name}"')
            if created.returncode != 0:
                raise EngineError(f"cannot create database {name!r}: {created.stderr.strip()}")

    def _psql(self, database: str, sql: str) -> subprocess.CompletedProcess[str]:
        command: Sequence[str] = [
            str(BIN / "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.settings.port), "-U", self.settings.user, "-d", database, "-c", sql,
        ]  # fmt: skip
        env = {**os.environ, "PGCONNECT_TIMEOUT": "2"}
        try:
            return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=5)
        except (OSError, subprocess.TimeoutExpired) as error:
            return subprocess.CompletedProcess(command, -1, "", f"psql did not run to completion: {error}")

    def stop(self) -> None:
        pid = self._pid.read() or self._postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + _FAST_SHUTDOWN_GRACE
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            stop_pid(pid)
        self._pid.clear()

    def status(self) -> Status:
        pid = self._pid.read()
        healthy = pid is not None and self.healthy()
        version = self.running_version() if healthy else None
        return Status(self.name, pid is not None, healthy, pid, self.endpoints(), version)

    def healthy(self) -> bool:
        result = self._psql("postgres", "SELECT 1")
        return result.returncode == 0 and result.stdout.strip() == "1"

    @property
    def pinned_version(self) -> str:
        return MAJOR

    def running_version(self) -> str | None:
        """`SHOW server_version` without its packager's suffix: "15.14 (Debian 15.14-0+deb12u1)" is 15.14."""
        result = self._psql("postgres", "SHOW server_version")
        words = result.stdout.split() if result.returncode == 0 else []
        return words[0] if words else None

    def query(self, sql: str, database: str | None = None) -> subprocess.CompletedProcess[str]:
        """`sql` run by psql as the superuser (unaligned, tuples only: one row a line, columns split by `|`)."""
        return self._psql(database or self.settings.database, sql)

    def url(self, database: str | None = None) -> str:
        return f"postgres://{self.settings.user}@127.0.0.1:{self.settings.port}/{database or self.settings.database}"

    def endpoints(self) -> Mapping[str, str]:
        return {"url": self.url(), "socket_dir": str(self.sockets)}

    def log_path(self) -> Path:
        return self.home / "postgres.log"

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
