"""ClickHouse server 18.16 from Debian, run from a config of our own: loopback only, everything under the work dir.

The packaged /etc/clickhouse-server config is never read (it listens on the interserver port and writes to /var),
and the Debian service is never started.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from clickhouse_driver import Client  # type: ignore[import-untyped]
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines.apt import AptPackages
from devstack.engines.base import DevstackSettings, EngineError, Port
from devstack.engines.detached import DetachedEngine, Launch

SERVER = Path("/usr/sbin/clickhouse-server")
# The command-line client of the same release, from the same install: what a person (or a test) queries it with.
CLIENT = Path("/usr/bin/clickhouse-client")
PACKAGES = AptPackages("clickhouse-server", "clickhouse-client")
# No proxy from the environment may sit between us and a loopback health check.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ClickHouseSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_CLICKHOUSE_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_CLICKHOUSE_", extra="ignore", frozen=True)

    version: str = Field(
        "18.16.1",
        description="The release the server must report; Debian's clickhouse-server package is what installs it.",
    )
    tcp_port: int = Field(9000, ge=1, le=65535, description="Native protocol (clickhouse-driver).")
    http_port: int = Field(8123, ge=1, le=65535, description="HTTP interface (/ping, queries over HTTP).")
    dir: Path | None = Field(None, description="Config, data, log and pid file; default WORK_DIR/clickhouse.")
    # "information" logs three lines per query, so a test suite's log would be mostly query chatter.
    log_level: Literal["trace", "debug", "information", "warning", "error"] = Field(
        "warning", description="Server log level."
    )


class ClickHouse(DetachedEngine):
    """The analytics engine; `Engine` protocol."""

    name = "clickhouse"

    def __init__(self, settings: ClickHouseSettings | None = None, devstack: DevstackSettings | None = None) -> None:
        self.settings = settings or ClickHouseSettings()
        super().__init__(devstack, self.settings.dir)

    def install(self) -> None:
        PACKAGES.install()

    def ports(self) -> Sequence[Port]:
        return [
            Port(self.settings.tcp_port, "DEVSTACK_CLICKHOUSE_TCP_PORT"),
            Port(self.settings.http_port, "DEVSTACK_CLICKHOUSE_HTTP_PORT"),
        ]

    def prepare(self) -> Launch:
        if not SERVER.exists():
            raise EngineError(f"{SERVER} is missing: install the engine first ({self.name} install)")
        for sub in ("data", "tmp", "user_files", "format_schemas"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        config = self.home / "config.xml"
        (self.home / "users.xml").write_text(_USERS_XML)
        config.write_text(self._config_xml())
        return Launch([str(SERVER), f"--config-file={config}"], cwd=self.home)

    def _config_xml(self) -> str:
        def path(sub: str) -> str:
            return escape(f"{self.home / sub}/")

        return _CONFIG_XML.format(
            log_level=self.settings.log_level,
            tcp_port=self.settings.tcp_port,
            http_port=self.settings.http_port,
            data=path("data"),
            tmp=path("tmp"),
            user_files=path("user_files"),
            format_schemas=path("format_schemas"),
        )

    def healthy(self) -> bool:
        return self._ping() and self._select_one()

    def _ping(self) -> bool:
        try:
            with _DIRECT.open(f"http://127.0.0.1:{self.settings.http_port}/ping", timeout=1) as response:
                return bool(response.read().strip() == b"Ok.")
        except OSError:
            return False

    def _select_one(self) -> bool:
        return self._query("SELECT 1") == [(1,)]

    @property
    def pinned_version(self) -> str:
        return self.settings.version

    def running_version(self) -> str | None:
        """`SELECT version()` on the server."""
        rows = self._query("SELECT version()")
        return rows[0][0] if rows and isinstance(rows[0][0], str) else None

    def _query(self, sql: str) -> list[tuple[object, ...]] | None:
        """The rows of `sql`, or None when the server does not answer."""
        client = Client(
            "127.0.0.1", port=self.settings.tcp_port, connect_timeout=1, send_receive_timeout=2, sync_request_timeout=1
        )
        try:
            rows = client.execute(sql)
        except Exception:  # the driver raises its own errors as well as OSError; any of them means "not yet"
            return None
        finally:
            client.disconnect()
        return [tuple(row) for row in rows]

    def endpoints(self) -> Mapping[str, str]:
        return {
            "tcp": f"127.0.0.1:{self.settings.tcp_port}",
            "http": f"http://127.0.0.1:{self.settings.http_port}",
            # As clickhouse-driver's Client.from_url takes it (native protocol, the default database).
            "url": f"clickhouse://127.0.0.1:{self.settings.tcp_port}/default",
        }

    def reset(self) -> None:
        # tmp/, user_files/ and format_schemas/ hold state as well as data/: the whole home goes.
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


# No interserver_http_port: a single node needs no replication endpoint, and its default 9009 would be one more
# port to collide on. Caches are capped well below the packaged defaults (5-8 GB) for a developer machine.
_CONFIG_XML = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>{log_level}</level>
        <console>1</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <path>{data}</path>
    <tmp_path>{tmp}</tmp_path>
    <user_files_path>{user_files}</user_files_path>
    <format_schema_path>{format_schemas}</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>256</max_connections>
    <max_concurrent_queries>64</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
"""

_USERS_XML = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""
