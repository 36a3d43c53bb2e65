"""PlaybackAnalytics in chDB: ClickHouse in this process, its data under one directory.

chDB lets one process hold a data directory (a second gets an error naming nothing useful), and one process hold
one directory at a time; this adapter turns both into an Unavailable that says so. The process that owns the
directory serves the reads too.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path
from typing import Any

from chdb import session as chdb_session

from meshkit.errors import Unavailable
from sink_svc.adapters import playback_sql
from sink_svc.adapters.sql_playback_analytics import SqlPlaybackAnalytics
from sink_svc.domain.event_batch import EventBatch

# Numbers as JSON numbers (chDB quotes 64-bit integers by default).
_SETTINGS = " SETTINGS output_format_json_quote_64bit_integers = 0"


class ChdbPlaybackAnalytics(SqlPlaybackAnalytics):
    """Tables in `database` under the chDB data directory `path` (created if missing); opened on first use."""

    def __init__(self, path: Path, *, database: str = "analytics", retention_months: int | None = None) -> None:
        super().__init__(database, retention_months)
        self.path = path
        self._session: Any = None

    def __repr__(self) -> str:
        return f"ChdbPlaybackAnalytics({self.path}, database={self.database})"

    def _open(self) -> Any:
        if self._session is None:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._session = chdb_session.Session(str(self.path))  # type: ignore[no-untyped-call]
            except RuntimeError as error:
                raise Unavailable(_why_not_opened(self.path, error)) from error
        return self._session

    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        returns_rows = sql.lstrip().upper().startswith("SELECT")
        result = self._open().query(sql + _SETTINGS if returns_rows else sql, "JSONCompact" if returns_rows else "CSV")
        if not returns_rows:
            return []
        return [tuple(row) for row in json.loads(result.bytes())["data"]]

    def _insert(self, batch: EventBatch, deduplication_token: str | None) -> None:
        self._open().query(
            playback_sql.insert_prefix(self.database, deduplication_token) + playback_sql.values(batch.events)
        )

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _why_not_opened(path: Path, error: RuntimeError) -> str:
    text = str(error)
    if "already initialized with path" in text:
        return f"chDB cannot open {path}: this process already holds another chDB data directory ({text})"
    if _locked_by_another_process(path):
        return (
            f"chDB cannot open {path}: another process holds it (one process per chDB data directory; stop the "
            "other sink or give this one its own directory)"
        )
    return f"chDB cannot open {path}: {text}"


def _locked_by_another_process(path: Path) -> bool:
    # The holder keeps an exclusive flock on `status` while it runs (the file goes when it exits).
    try:
        fd = os.open(path / "status", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        return error.errno in (errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
