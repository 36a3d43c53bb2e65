"""Favourites in the embedded profile's SQLite file: one row per (user, movie), the primary key."""

from __future__ import annotations

import sqlite3

from ugc_svc.adapters.sqlite_database import SqliteDatabase
from ugc_svc.domain.favourites import Favourite, FavouritesKey, favourites_cursor
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.timestamps import from_millis, to_millis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS favourites (
    user_id TEXT NOT NULL,
    movie_id TEXT NOT NULL,
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS favourites_newest ON favourites (user_id, added_at_ms DESC, movie_id DESC);
"""
_LIST = "SELECT user_id, movie_id, added_at_ms FROM favourites WHERE user_id = ?"
_ORDER = " ORDER BY added_at_ms DESC, movie_id DESC LIMIT ?"

Row = tuple[str, str, int]


class SqliteFavourites:
    """`Favourites` on a `SqliteDatabase`, which its owner closes."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def prepare(self) -> None:
        await self._database.run(lambda _: None, schema=_SCHEMA)

    async def add(self, favourite: Favourite) -> bool:
        values = (favourite.user_id, favourite.movie_id, to_millis(favourite.added_at, "added_at"))

        def add(connection: sqlite3.Connection) -> bool:
            # An existing entry keeps its first time: nothing is written then, and no row is counted.
            query = "INSERT INTO favourites (user_id, movie_id, added_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
            return connection.execute(query, values).rowcount == 1

        return await self._database.run(add, schema=_SCHEMA)

    async def remove(self, user_id: str, movie_id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            query = "DELETE FROM favourites WHERE user_id = ? AND movie_id = ?"
            return connection.execute(query, (user_id, movie_id)).rowcount == 1

        return await self._database.run(remove, schema=_SCHEMA)

    async def contains(self, user_id: str, movie_id: str) -> bool:
        def contains(connection: sqlite3.Connection) -> bool:
            query = "SELECT 1 FROM favourites WHERE user_id = ? AND movie_id = ?"
            return connection.execute(query, (user_id, movie_id)).fetchone() is not None

        return await self._database.run(contains, schema=_SCHEMA)

    async def get(self, user_id: str, movie_id: str) -> Favourite | None:
        def get(connection: sqlite3.Connection) -> int | None:
            query = "SELECT added_at_ms FROM favourites WHERE user_id = ? AND movie_id = ?"
            row = connection.execute(query, (user_id, movie_id)).fetchone()
            return None if row is None else int(row[0])

        added_ms = await self._database.run(get, schema=_SCHEMA)
        return None if added_ms is None else Favourite(user_id, movie_id, from_millis(added_ms))

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Favourite]:
        check_limit(limit)
        after = FavouritesKey.from_cursor(cursor) if cursor is not None else None

        def page(connection: sqlite3.Connection) -> list[Row]:
            if after is None:
                return connection.execute(_LIST + _ORDER, (user_id, limit + 1)).fetchall()
            query = _LIST + " AND (added_at_ms, movie_id) < (?, ?)" + _ORDER
            return connection.execute(query, (user_id, after.added_ms, after.movie_id, limit + 1)).fetchall()

        rows = await self._database.run(page, schema=_SCHEMA)
        favourites = [Favourite(user_id, movie_id, from_millis(added_ms)) for user_id, movie_id, added_ms in rows]
        return page_of(favourites, limit, favourites_cursor)
