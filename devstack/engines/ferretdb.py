"""FerretDB v1 (MongoDB wire protocol) on the PostgreSQL engine: the documents store.

No registry serves a FerretDB binary here, and `go install …@v1.24.2` fails, so the release's module source is
fetched from the Go module proxy and built once into the cache, one binary per version. FerretDB and its
PostgreSQL form one engine: start starts both, stop and reset stop (and wipe) both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devstack.engines.base import DevstackSettings, EngineError, Port, require_command
from devstack.engines.detached import DetachedEngine, Launch
from devstack.engines.postgres import Postgres
from devstack.engines.probe import tcp_open

MODULE = "github.com/FerretDB/FerretDB"
_BUILD_TIMEOUT = 1800.0


class FerretDBSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_FERRETDB_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_FERRETDB_", extra="ignore", frozen=True)

    port: int = Field(27017, ge=1, le=65535, description="MongoDB wire protocol.")
    version: str = Field("v1.24.2", pattern=r"^v1\.\d+\.\d+$", description="FerretDB release (the v1 line).")
    dir: Path | None = Field(None, description="State dir, log and pid file; default WORK_DIR/ferretdb.")
    # INFO logs two lines per client connection, so a test suite's log would be mostly connection churn.
    log_level: Literal["DEBUG", "INFO", "WARN", "ERROR"] = Field("WARN", description="FerretDB's own log level.")


class FerretDB(DetachedEngine):
    """The documents engine; `Engine` protocol."""

    name = "ferretdb"

    def __init__(
        self,
        settings: FerretDBSettings | None = None,
        devstack: DevstackSettings | None = None,
        postgres: Postgres | None = None,
    ) -> None:
        self.settings = settings or FerretDBSettings()
        super().__init__(devstack, self.settings.dir)
        self.postgres = postgres or Postgres(devstack=self.devstack)
        self.binary = self.devstack.cache_dir / "ferretdb" / self.settings.version / "ferretdb"

    def install(self) -> None:
        self.postgres.install()
        if not self.binary.exists():
            self._build()

    def _build(self) -> None:
        go = require_command("go", "FerretDB is built from source: install Go 1.24 or newer")
        version = self.settings.version
        env = {**os.environ, "GOTOOLCHAIN": "local"}
        download = _run([go, "mod", "download", "-json", f"{MODULE}@{version}"], env=env, cwd=None)
        module = json.loads(download.stdout)
        if "Dir" not in module:
            raise EngineError(f"go mod download {MODULE}@{version}: {module.get('Error', download.stdout)}")
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=self.binary.parent) as scratch:
            source = Path(scratch) / "src"
            shutil.copytree(module["Dir"], source)
            _make_writable(source)  # the module cache is read-only, and the copy keeps its modes
            # The binary panics at start without it; release builds get it from their Makefile.
            (source / "build" / "version" / "version.txt").write_text(version)
            built = Path(scratch) / "ferretdb"
            # -buildvcs=false: the scratch copy may sit inside someone's git checkout, which is not FerretDB's.
            _run([go, "build", "-trimpath", "-buildvcs=false", "-o", str(built), "./cmd/ferretdb"], env=env, cwd=source)
            reported = _run([str(built), "--version"], env=env, cwd=None).stdout
            if version not in reported:
                raise EngineError(f"built FerretDB reports another version than {version}:\n{reported}")
            # Atomic: a concurrent install or start never sees half a binary.
            os.replace(built, self.binary)

    def start(self) -> None:
        self.postgres.start()
        super().start()

    @property
    def data_dir(self) -> Path:
        # Only FerretDB's own state: the documents live in PostgreSQL.
        return self.home / "state"

    def ports(self) -> Sequence[Port]:
        return [Port(self.settings.port, "DEVSTACK_FERRETDB_PORT")]

    def prepare(self) -> Launch:
        if not self.binary.exists():
            raise EngineError(f"{self.binary} is missing: install the engine first ({self.name} install)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(self.binary),
            f"--listen-addr=127.0.0.1:{self.settings.port}",
            "--debug-addr=-",
            "--telemetry=disable",
            f"--state-dir={self.data_dir}",
            "--handler=postgresql",
            f"--postgresql-url={self.postgres.url()}",
            f"--log-level={self.settings.log_level}",
        ]
        return Launch(argv, cwd=self.home)

    def stop(self) -> None:
        super().stop()
        self.postgres.stop()

    def healthy(self) -> bool:
        reply = self._admin_command("ping")
        return reply is not None and reply.get("ok") == 1

    @property
    def pinned_version(self) -> str:
        return self.settings.version

    def running_version(self) -> str | None:
        """`ferretdbVersion` of `buildInfo` (its `version` is the MongoDB release FerretDB imitates)."""
        reply = self._admin_command("buildInfo")
        version = reply.get("ferretdbVersion") if reply is not None else None
        return version if isinstance(version, str) else None

    def _admin_command(self, command: str) -> dict[str, object] | None:
        if not tcp_open("127.0.0.1", self.settings.port, timeout=0.5):
            # pymongo would keep retrying a refused connection for its whole selection timeout (heartbeat 0.5 s).
            return None
        client: MongoClient[dict[str, object]] = MongoClient(
            self.url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000, socketTimeoutMS=2000
        )
        try:
            return dict(client.admin.command(command))
        except PyMongoError:
            return None
        finally:
            client.close()

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.settings.port}/?directConnection=true"

    def endpoints(self) -> Mapping[str, str]:
        return {"url": self.url}

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
        self.postgres.reset()


def _run(argv: list[str], *, env: Mapping[str, str], cwd: Path | None) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, env=dict(env), cwd=cwd, check=False, timeout=_BUILD_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineError(f"`{' '.join(argv)}` did not run to completion: {error}") from error
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise EngineError(f"`{' '.join(argv)}` failed with exit code {result.returncode}\n{output}")
    return result


def _make_writable(tree: Path) -> None:
    for root, dirs, files in os.walk(tree):
        for name in [".", *dirs, *files]:
            path = Path(root, name)
            path.chmod(path.stat().st_mode | 0o200)
