"""PlaybackAnalytics on a ClickHouse server (18.16 in the devstack) through clickhouse-driver's native protocol."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import unquote, urlsplit

from clickhouse_driver import Client  # type: ignore[import-untyped]
from clickhouse_driver import errors as driver_errors

from meshkit.errors import Unavailable
from sink_svc.adapters import playback_sql
from sink_svc.adapters.sql_playback_analytics import SqlPlaybackAnalytics
from sink_svc.domain.event_batch import EventBatch

# What a server that is down, unreachable or too slow looks like through the driver (it reconnects on the next
# call by itself).
_UNREACHABLE = (
    driver_errors.NetworkError,
    driver_errors.SocketTimeoutError,
    driver_errors.UnexpectedPacketFromServerError,
    EOFError,
    OSError,
    socket.timeout,
)


class ClickHousePlaybackAnalytics(SqlPlaybackAnalytics):
    """Tables in the URL's database (clickhouse://[user[:password]@]host:port/database); every call waits at most
    `timeout_seconds` for the server (to connect, and for each packet) before Unavailable."""

    def __init__(self, url: str, *, timeout_seconds: float = 5.0, retention_months: int | None = None) -> None:
        parts = urlsplit(url)
        super().__init__(parts.path.strip("/") or "default", retention_months)
        self._address = f"{parts.hostname}:{parts.port or 9000}"
        # The connection's own database stays `default`: ours may not exist before prepare() creates it.
        self._client = Client(
            parts.hostname or "127.0.0.1",
            port=parts.port or 9000,
            user=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            secure=parts.scheme == "clickhouses",
            connect_timeout=timeout_seconds,
            send_receive_timeout=timeout_seconds,
            sync_request_timeout=timeout_seconds,
        )

    def __repr__(self) -> str:
        return f"ClickHousePlaybackAnalytics({self._address}, database={self.database})"

    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return list(self._client.execute(sql))
        except _UNREACHABLE as error:
            self._client.disconnect()
            raise Unavailable(f"the analytics store at {self._address} did not answer: {error}") from error

    def _insert(self, batch: EventBatch, deduplication_token: str | None) -> None:
        rows = [playback_sql.row(event) for event in batch.events]
        try:
            self._client.execute(playback_sql.insert_prefix(self.database, deduplication_token), rows)
        except _UNREACHABLE as error:
            self._client.disconnect()
            raise Unavailable(f"the analytics store at {self._address} did not take a batch: {error}") from error

    def _close(self) -> None:
        self._client.disconnect()
