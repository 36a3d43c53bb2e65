"""Favourites in MongoDB (FerretDB in the devstack): one document per (user, movie), `_id` made from both.

Add is a plain insert and remove a delete by `_id`: a duplicate insert fails with DuplicateKeyError and leaves
the first entry as it was, so no write reads and rewrites a document, and nothing here depends on the atomic
read-modify-write FerretDB v1 lacks.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from ugc_svc.adapters.mongodb_database import Document, MongoDatabase, document_id, one_document
from ugc_svc.adapters.mongodb_indexes import Indexes
from ugc_svc.domain.favourites import Favourite, FavouritesKey, favourites_cursor
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.timestamps import from_millis

COLLECTION = "favourites"
INDEXES = [
    IndexModel([("user_id", ASCENDING), ("movie_id", ASCENDING)], unique=True, name="user_movie_unique"),
    # The list: equality on the user, then the sort, so a page is a range scan of the index.
    IndexModel([("user_id", ASCENDING), ("added_at", DESCENDING), ("movie_id", DESCENDING)], name="user_newest_first"),
]
_SORT = [("added_at", DESCENDING), ("movie_id", DESCENDING)]


class MongoDbFavourites:
    """`Favourites` on a `MongoDatabase`, whose client its owner closes."""

    def __init__(self, database: MongoDatabase, collection: str = COLLECTION) -> None:
        self._database = database
        self._favourites = database.database[collection]
        self._indexes = Indexes(database, self._favourites, INDEXES)

    async def prepare(self) -> None:
        await self._indexes.ensure()

    async def add(self, favourite: Favourite) -> bool:
        await self._indexes.ensure()
        document = {
            "_id": document_id(favourite.user_id, favourite.movie_id),
            "user_id": favourite.user_id,
            "movie_id": favourite.movie_id,
            "added_at": favourite.added_at,
        }
        try:
            await self._database.answer(lambda: self._favourites.insert_one(document))
        except DuplicateKeyError:
            return False
        return True

    async def remove(self, user_id: str, movie_id: str) -> bool:
        await self._indexes.ensure()
        target = one_document(user_id, movie_id)
        result = await self._database.answer(lambda: self._favourites.delete_one(target))
        return result.deleted_count == 1

    async def contains(self, user_id: str, movie_id: str) -> bool:
        await self._indexes.ensure()
        target = one_document(user_id, movie_id)
        found = await self._database.answer(lambda: self._favourites.find_one(target, projection={"_id": 1}))
        return found is not None

    async def get(self, user_id: str, movie_id: str) -> Favourite | None:
        await self._indexes.ensure()
        target = one_document(user_id, movie_id)
        found = await self._database.answer(lambda: self._favourites.find_one(target, projection={"added_at": 1}))
        return None if found is None else Favourite(user_id, movie_id, found["added_at"])

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Favourite]:
        check_limit(limit)
        after = FavouritesKey.from_cursor(cursor) if cursor is not None else None
        await self._indexes.ensure()
        query: dict[str, Any] = {"user_id": user_id}
        if after is not None:
            added_at = from_millis(after.added_ms)
            # (added_at, movie_id) < (after's), spelled without $expr (FerretDB lacks it).
            query["$or"] = [
                {"added_at": {"$lt": added_at}},
                {"added_at": added_at, "movie_id": {"$lt": after.movie_id}},
            ]

        async def page() -> list[Document]:
            return await self._favourites.find(query).sort(_SORT).limit(limit + 1).to_list()

        documents = await self._database.answer(page)
        favourites = [Favourite(d["user_id"], d["movie_id"], d["added_at"]) for d in documents]
        return page_of(favourites, limit, favourites_cursor)
