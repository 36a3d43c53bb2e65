"""ResumePositions in the embedded profile's SQLite file: one row per (user, movie), the primary key."""

from __future__ import annotations

import sqlite3

from ugc_svc.adapters.sqlite_database import SqliteDatabase
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.resume import ResumePosition, WatchingKey, watching_cursor
from ugc_svc.domain.timestamps import from_millis, to_millis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resume_positions (
    user_id TEXT NOT NULL,
    movie_id TEXT NOT NULL,
    position_ms INTEGER NOT NULL,
    duration_ms INTEGER,
    finished INTEGER NOT NULL,
    client_time_ms INTEGER NOT NULL,
    server_time_ms INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    device TEXT NOT NULL,
    recency TEXT NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resume_positions_watching
    ON resume_positions (user_id, finished, recency DESC, movie_id DESC);
"""
_COLUMNS = (
    "user_id, movie_id, position_ms, duration_ms, finished, client_time_ms, server_time_ms, report_id, device, recency"
)
# "Newer wins" in one statement: the update runs only when the arriving report is greater in the order.
_RECORD = f"""
INSERT INTO resume_positions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, movie_id) DO UPDATE SET
    position_ms = excluded.position_ms, duration_ms = excluded.duration_ms, finished = excluded.finished,
    client_time_ms = excluded.client_time_ms, server_time_ms = excluded.server_time_ms,
    report_id = excluded.report_id, device = excluded.device, recency = excluded.recency
WHERE excluded.recency > resume_positions.recency
"""
_WATCHING = f"SELECT {_COLUMNS} FROM resume_positions WHERE user_id = ? AND finished = 0"
_ORDER = " ORDER BY recency DESC, movie_id DESC LIMIT ?"

Row = tuple[str, str, int, int | None, int, int, int, str, str, str]


class SqliteResumePositions:
    """`ResumePositions` on a `SqliteDatabase`, which its owner closes."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def prepare(self) -> None:
        await self._database.run(lambda _: None, schema=_SCHEMA)

    async def record(self, position: ResumePosition) -> bool:
        values = (
            position.user_id,
            position.movie_id,
            position.position_ms,
            position.duration_ms,
            int(position.finished),
            to_millis(position.client_time, "client_time"),
            to_millis(position.server_time, "server_time"),
            position.report_id,
            position.device,
            position.recency,
        )

        def record(connection: sqlite3.Connection) -> bool:
            # Counts a row inserted or updated; 0 when the WHERE kept the stored row.
            return connection.execute(_RECORD, values).rowcount == 1

        return await self._database.run(record, schema=_SCHEMA)

    async def get(self, user_id: str, movie_id: str) -> ResumePosition | None:
        def get(connection: sqlite3.Connection) -> Row | None:
            query = f"SELECT {_COLUMNS} FROM resume_positions WHERE user_id = ? AND movie_id = ?"
            row: Row | None = connection.execute(query, (user_id, movie_id)).fetchone()
            return row

        row = await self._database.run(get, schema=_SCHEMA)
        return _position(row) if row is not None else None

    async def continue_watching(self, user_id: str, limit: int, cursor: str | None = None) -> Page[ResumePosition]:
        check_limit(limit)
        after = WatchingKey.from_cursor(cursor) if cursor is not None else None

        def page(connection: sqlite3.Connection) -> list[Row]:
            if after is None:
                return connection.execute(_WATCHING + _ORDER, (user_id, limit + 1)).fetchall()
            query = _WATCHING + " AND (recency, movie_id) < (?, ?)" + _ORDER
            return connection.execute(query, (user_id, after.recency, after.movie_id, limit + 1)).fetchall()

        rows = await self._database.run(page, schema=_SCHEMA)
        return page_of([_position(row) for row in rows], limit, watching_cursor)

    async def forget(self, user_id: str, movie_id: str) -> bool:
        def forget(connection: sqlite3.Connection) -> bool:
            query = "DELETE FROM resume_positions WHERE user_id = ? AND movie_id = ?"
            return connection.execute(query, (user_id, movie_id)).rowcount == 1

        return await self._database.run(forget, schema=_SCHEMA)


def _position(row: Row) -> ResumePosition:
    user_id, movie_id, position_ms, duration_ms, finished, client_ms, server_ms, report_id, device, _ = row
    return ResumePosition(
        user_id=user_id,
        movie_id=movie_id,
        position_ms=position_ms,
        client_time=from_millis(client_ms),
        server_time=from_millis(server_ms),
        report_id=report_id,
        duration_ms=duration_ms,
        finished=bool(finished),
        device=device,
    )
