"""Ratings in the embedded profile's SQLite file: a row per (user, movie) and a summary row per movie.

A change is applied in one transaction, so the two rows never disagree; the offsets kept in both rows make
applying the same change again write nothing.
"""

from __future__ import annotations

import sqlite3

from ugc_svc.adapters.sqlite_database import SqliteDatabase
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange, RatingsKey, SummaryChange, ratings_cursor
from ugc_svc.domain.timestamps import from_millis, to_millis

# A removed rating stays as a row without a score: its offset keeps a replayed older change from bringing the
# rating back.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    user_id TEXT NOT NULL,
    movie_id TEXT NOT NULL,
    score INTEGER,
    updated_at_ms INTEGER NOT NULL,
    applied_offset INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ratings_newest
    ON ratings (user_id, updated_at_ms DESC, movie_id DESC) WHERE score IS NOT NULL;
CREATE TABLE IF NOT EXISTS movie_ratings (
    movie_id TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    applied_offset INTEGER NOT NULL
) WITHOUT ROWID;
"""
_LIST = "SELECT movie_id, score, updated_at_ms FROM ratings WHERE user_id = ? AND score IS NOT NULL"
_ORDER = " ORDER BY updated_at_ms DESC, movie_id DESC LIMIT ?"


class SqliteRatings:
    """`Ratings` on a `SqliteDatabase`, which its owner closes."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def prepare(self) -> None:
        await self._database.run(lambda _: None, schema=_SCHEMA)

    async def apply(self, change: RatingChange) -> bool:
        return await self._database.run(lambda connection: _apply(connection, change), schema=_SCHEMA)

    async def get(self, user_id: str, movie_id: str) -> Rating | None:
        def get(connection: sqlite3.Connection) -> tuple[int, int] | None:
            query = "SELECT score, updated_at_ms FROM ratings WHERE user_id = ? AND movie_id = ? AND score IS NOT NULL"
            row = connection.execute(query, (user_id, movie_id)).fetchone()
            return None if row is None else (int(row[0]), int(row[1]))

        found = await self._database.run(get, schema=_SCHEMA)
        return None if found is None else Rating(user_id, movie_id, found[0], from_millis(found[1]))

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Rating]:
        check_limit(limit)
        after = RatingsKey.from_cursor(cursor) if cursor is not None else None

        def page(connection: sqlite3.Connection) -> list[tuple[str, int, int]]:
            if after is None:
                return connection.execute(_LIST + _ORDER, (user_id, limit + 1)).fetchall()
            query = _LIST + " AND (updated_at_ms, movie_id) < (?, ?)" + _ORDER
            return connection.execute(query, (user_id, after.updated_ms, after.movie_id, limit + 1)).fetchall()

        rows = await self._database.run(page, schema=_SCHEMA)
        ratings = [Rating(user_id, movie_id, score, from_millis(ms)) for movie_id, score, ms in rows]
        return page_of(ratings, limit, ratings_cursor)

    async def movie(self, movie_id: str) -> MovieRating:
        def summary(connection: sqlite3.Connection) -> tuple[int, int] | None:
            row = connection.execute(
                "SELECT count, total FROM movie_ratings WHERE movie_id = ?", (movie_id,)
            ).fetchone()
            return None if row is None else (int(row[0]), int(row[1]))

        found = await self._database.run(summary, schema=_SCHEMA)
        return MovieRating(movie_id, *(found or (0, 0)))


def _apply(connection: sqlite3.Connection, change: RatingChange) -> bool:
    key = (change.user_id, change.movie_id)
    # BEGIN IMMEDIATE takes the write lock first, so the reads below see what the writes will replace.
    connection.execute("BEGIN IMMEDIATE")
    try:
        rating = connection.execute(
            "SELECT score, applied_offset FROM ratings WHERE user_id = ? AND movie_id = ?", key
        ).fetchone()
        summary = connection.execute(
            "SELECT applied_offset FROM movie_ratings WHERE movie_id = ?", (change.movie_id,)
        ).fetchone()
        wrote = False
        if summary is None or summary[0] < change.offset:
            delta = SummaryChange.between(None if rating is None else rating[0], change.score)
            connection.execute(
                """INSERT INTO movie_ratings (movie_id, count, total, applied_offset) VALUES (?, ?, ?, ?)
                ON CONFLICT (movie_id) DO UPDATE SET count = count + excluded.count,
                    total = total + excluded.total, applied_offset = excluded.applied_offset""",
                (change.movie_id, delta.count, delta.total, change.offset),
            )
            wrote = True
        if rating is None or rating[1] < change.offset:
            connection.execute(
                """INSERT INTO ratings (user_id, movie_id, score, updated_at_ms, applied_offset) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id, movie_id) DO UPDATE SET score = excluded.score,
                    updated_at_ms = excluded.updated_at_ms, applied_offset = excluded.applied_offset""",
                (*key, change.score, to_millis(change.changed_at, "changed_at"), change.offset),
            )
            wrote = True
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return wrote
