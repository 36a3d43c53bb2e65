"""Indexes a collection needs, created once per adapter before its first call (or by `prepare` at start)."""

from __future__ import annotations

import asyncio
import functools

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from ugc_svc.adapters.mongodb_database import Document, MongoDatabase


class Indexes:
    def __init__(self, database: MongoDatabase, collection: AsyncCollection[Document], models: list[IndexModel]):
        self._database = database
        self._collection = collection
        self._models = models
        self._lock = asyncio.Lock()
        self._made = False

    async def ensure(self) -> None:
        """Creates the indexes unless done; an Unavailable store leaves them to the next call. Creating an index
        that exists with the same keys and options is a no-op for MongoDB and FerretDB."""
        if self._made:
            return
        async with self._lock:
            if not self._made:
                # One index a command: FerretDB v1.24.2 drops the connection (a panic in its handler) when one
                # createIndexes names several indexes that all exist already, i.e. at every restart.
                for model in self._models:
                    await self._database.answer(functools.partial(self._collection.create_indexes, [model]))
                self._made = True
