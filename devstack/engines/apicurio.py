"""Apicurio Registry, the Quarkus application from Maven Central, serving the Confluent-compatible API.

Schemas persist in an H2 file under the work directory, so the registry survives restarts and is independent of
Kafka. `WRITE_DELAY=0` makes H2 write each commit at once: without it a schema registered just before a kill was
lost. The global compatibility rule is set at start; Apicurio's own default is NONE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines import maven
from devstack.engines.base import DevstackSettings, EngineError, Port
from devstack.engines.detached import DetachedEngine, Launch
from devstack.engines.java import find_java
from devstack.engines.manifest import ensure_installed
from devstack.engines.probe import http_json, http_ok

JAVA_MINIMUM = 21

Compatibility = Literal[
    "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"
]


class ApicurioSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_APICURIO_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_APICURIO_", extra="ignore", frozen=True)

    version: str = "3.3.3"
    port: int = Field(8081, ge=1, le=65535)
    management_port: int = Field(9081, ge=1, le=65535, description="Health; Quarkus would take 9000 otherwise.")
    heap_max: str = "512m"
    compatibility: Compatibility = "BACKWARD"
    java_opts: str = ""


class Apicurio(DetachedEngine):
    name = "apicurio"
    stop_grace = 30.0

    def __init__(self, settings: ApicurioSettings | None = None, devstack: DevstackSettings | None = None) -> None:
        super().__init__(devstack)
        self.settings = settings or ApicurioSettings()

    @property
    def artifact(self) -> maven.Artifact:
        return maven.Artifact("io.apicurio", "apicurio-registry-app", self.settings.version, "tar.gz", "all")

    @property
    def install_dir(self) -> Path:
        return self.devstack.cache_dir / f"apicurio-registry-{self.settings.version}"

    def install(self) -> None:
        find_java(JAVA_MINIMUM, devstack=self.devstack)
        ensure_installed(
            self.install_dir,
            f"maven:{self.artifact.coordinates}",
            lambda target: maven.copy_unpacked(self.artifact, target, cache_dir=self.devstack.cache_dir),
        )

    def endpoints(self) -> Mapping[str, str]:
        base = f"http://127.0.0.1:{self.settings.port}"
        return {"url": f"{base}/apis/ccompat/v7", "registry_url": f"{base}/apis/registry/v3"}

    def healthy(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.settings.management_port}/health/ready", timeout=5.0)

    @property
    def pinned_version(self) -> str:
        return self.settings.version

    def running_version(self) -> str | None:
        """`version` of the registry's own system info (`GET /apis/registry/v3/system/info`)."""
        info = http_json(f"{self.endpoints()['registry_url']}/system/info", timeout=5.0)
        version = info.get("version") if isinstance(info, dict) else None
        return version if isinstance(version, str) else None

    def ports(self) -> Sequence[Port]:
        return [
            Port(self.settings.port, "DEVSTACK_APICURIO_PORT"),
            Port(self.settings.management_port, "DEVSTACK_APICURIO_MANAGEMENT_PORT"),
        ]

    def prepare(self) -> Launch:
        jar = self.install_dir / "quarkus-run.jar"
        if not jar.is_file():
            raise EngineError(f"Apicurio {self.settings.version} is not installed in {self.install_dir}: install first")
        java = find_java(JAVA_MINIMUM, devstack=self.devstack)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        properties = {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": self.settings.port,
            "quarkus.management.host": "127.0.0.1",
            "quarkus.management.port": self.settings.management_port,
            "apicurio.rules.global.compatibility": self.settings.compatibility,
            "apicurio.storage.kind": "sql",
            "apicurio.storage.sql.kind": "h2",
            "apicurio.datasource.url": f"jdbc:h2:file:{self.data_dir / 'registry'};WRITE_DELAY=0",
        }
        argv = [str(java.binary), f"-Xmx{self.settings.heap_max}", *self.settings.java_opts.split()]
        argv += [f"-D{key}={value}" for key, value in properties.items()]
        # The JVM itself, not a wrapper shell, so the recorded pid is the one to stop.
        return Launch([*argv, "-jar", str(jar)], cwd=self.home)
