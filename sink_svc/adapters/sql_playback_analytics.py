"""The PlaybackAnalytics port over any ClickHouse-family engine: the SQL of `playback_sql`, run by a subclass that
knows how to reach its engine. Engine calls are blocking, so they run on worker threads, one at a time per store
(neither client is safe to share between threads)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from sink_svc.adapters import playback_sql
from sink_svc.adapters.playback_sql import Dialect
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.viewing_time import HistoryEntry, MovieTotals, MovieWatchTime


class SqlPlaybackAnalytics(ABC):
    """`PlaybackAnalytics` on one database of a ClickHouse-family engine."""

    def __init__(self, database: str, retention_months: int | None) -> None:
        self.database = playback_sql.checked_database(database)
        self.retention_months = retention_months
        self._lock = threading.Lock()
        self._dialect: Dialect | None = None
        self._prepared = False

    @abstractmethod
    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement; rows as tuples. Raises meshkit.errors.Unavailable when the engine cannot answer."""

    @abstractmethod
    def _insert(self, batch: EventBatch, deduplication_token: str | None) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    async def _run(self, call: Any, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                # A store that could not prepare at start (its engine down) prepares on the first call that
                # reaches the engine, so reads never meet a missing table.
                if not self._prepared:
                    self._prepare()
                return call(*args)

        return await asyncio.to_thread(locked)

    def _dialect_now(self) -> Dialect:
        if self._dialect is None:
            self._dialect = Dialect.parse(str(self._query("SELECT version()")[0][0]))
        return self._dialect

    def _prepare(self) -> None:
        if self._prepared:
            return
        for statement in playback_sql.create_statements(self.database, self._dialect_now(), self.retention_months):
            self._query(statement)
        self._prepared = True

    async def prepare(self) -> None:
        def locked() -> None:
            with self._lock:
                # Asked for, it asks the engine again: a caller checking the store is there gets a real answer.
                self._prepared = False
                self._prepare()

        await asyncio.to_thread(locked)

    def _insert_batch(self, batch: EventBatch) -> None:
        if not batch.events:
            return
        token = deduplication_token(batch) if self._dialect_now().insert_deduplication else None
        self._insert(batch, token)

    async def insert(self, batch: EventBatch) -> None:
        await self._run(self._insert_batch, batch)

    async def top_movies(self, from_ms: int, to_ms: int, limit: int) -> list[MovieWatchTime]:
        rows = await self._run(self._query, playback_sql.top_movies(self.database, from_ms, to_ms, limit))
        return [MovieWatchTime(str(movie), int(watched)) for movie, watched in rows]

    async def watch_history(self, user_id: str, limit: int) -> list[HistoryEntry]:
        rows = await self._run(self._query, playback_sql.watch_history(self.database, user_id, limit))
        return [HistoryEntry(str(m), int(w), int(position), int(seen)) for m, w, position, seen in rows]

    async def movie_totals(self, movie_ids: Sequence[str]) -> list[MovieTotals]:
        if not movie_ids:
            return []
        rows = await self._run(self._query, playback_sql.movie_totals(self.database, movie_ids))
        found = {str(m): MovieTotals(str(m), int(w), int(viewers)) for m, w, viewers in rows}
        return [found.get(movie, MovieTotals(movie, 0, 0)) for movie in movie_ids]

    async def close(self) -> None:
        def locked() -> None:
            with self._lock:
                self._close()

        await asyncio.to_thread(locked)


def deduplication_token(batch: EventBatch) -> str:
    """What names a batch for an engine that drops a batch it has seen: its offsets and a digest of its events' ids.

    Offsets alone name records only while the topic lives: a topic made again, or an embedded log file replaced,
    starts at offset 0 again with other events, and an engine that took them for a redelivery would drop them."""
    digest = hashlib.sha256("\n".join(event.event_id for event in batch.events).encode()).hexdigest()[:32]
    return f"{batch.identity}/{digest}"
