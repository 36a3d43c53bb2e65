"""ResumePositions in MongoDB (FerretDB in the devstack): one document per (user, movie), `_id` made from both.

"Newer wins" is one conditional update: `{_id, recency: {$lt: new}}` → `$set` the report. When it matches
nothing, either no document exists (insert it) or the stored report is newer or the same (leave it). An insert
that meets DuplicateKeyError lost a race with another writer who created the document; the conditional update
is then tried once more, and whatever it finds decides. On MongoDB each step is atomic on its document, so the
greatest report always ends stored. FerretDB v1 runs an update as an unlocked read-check-write, so concurrent
writers of ONE document can still lose the newer report there: see the port's docstring (one writer per user).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from ugc_svc.adapters.mongodb_database import Document, MongoDatabase, document_id, one_document
from ugc_svc.adapters.mongodb_indexes import Indexes
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.resume import ResumePosition, WatchingKey, watching_cursor

COLLECTION = "resume_positions"
INDEXES = [
    # The unique key of the data; `_id` is derived from the same pair, this says so to the store and to readers.
    IndexModel([("user_id", ASCENDING), ("movie_id", ASCENDING)], unique=True, name="user_movie_unique"),
    # Continue watching: equality on user and finished, then the sort, so a page is a range scan of the index.
    IndexModel(
        [("user_id", ASCENDING), ("finished", ASCENDING), ("recency", DESCENDING), ("movie_id", DESCENDING)],
        name="user_watching_newest",
    ),
]
_SORT = [("recency", DESCENDING), ("movie_id", DESCENDING)]
_KEY_FIELDS = frozenset({"_id", "user_id", "movie_id"})


class MongoDbResumePositions:
    """`ResumePositions` on a `MongoDatabase`, whose client its owner closes."""

    def __init__(self, database: MongoDatabase, collection: str = COLLECTION) -> None:
        self._database = database
        self._positions = database.database[collection]
        self._indexes = Indexes(database, self._positions, INDEXES)

    async def prepare(self) -> None:
        await self._indexes.ensure()

    async def record(self, position: ResumePosition) -> bool:
        await self._indexes.ensure()
        document = _document(position)
        if await self._replace_older(document):
            return True
        try:
            await self._database.answer(lambda: self._positions.insert_one(document))
        except DuplicateKeyError:
            # Someone created it between our update and insert: compare with what they stored.
            return await self._replace_older(document)
        return True

    async def _replace_older(self, document: Document) -> bool:
        # The key fields never change (a shard key may not be rewritten): only the report is set.
        fields = {key: value for key, value in document.items() if key not in _KEY_FIELDS}
        older = {**one_document(document["user_id"], document["movie_id"]), "recency": {"$lt": document["recency"]}}
        result = await self._database.answer(lambda: self._positions.update_one(older, {"$set": fields}))
        return result.matched_count == 1

    async def get(self, user_id: str, movie_id: str) -> ResumePosition | None:
        await self._indexes.ensure()
        found = await self._database.answer(lambda: self._positions.find_one(one_document(user_id, movie_id)))
        return _position(found) if found is not None else None

    async def continue_watching(self, user_id: str, limit: int, cursor: str | None = None) -> Page[ResumePosition]:
        check_limit(limit)
        after = WatchingKey.from_cursor(cursor) if cursor is not None else None
        await self._indexes.ensure()
        query: dict[str, Any] = {"user_id": user_id, "finished": False}
        if after is not None:
            # (recency, movie_id) < (after.recency, after.movie_id), spelled without $expr (FerretDB lacks it).
            query["$or"] = [
                {"recency": {"$lt": after.recency}},
                {"recency": after.recency, "movie_id": {"$lt": after.movie_id}},
            ]

        async def page() -> list[Document]:
            return await self._positions.find(query).sort(_SORT).limit(limit + 1).to_list()

        documents = await self._database.answer(page)
        return page_of([_position(document) for document in documents], limit, watching_cursor)

    async def forget(self, user_id: str, movie_id: str) -> bool:
        await self._indexes.ensure()
        target = one_document(user_id, movie_id)
        result = await self._database.answer(lambda: self._positions.delete_one(target))
        return result.deleted_count == 1


def _document(position: ResumePosition) -> Document:
    return {
        "_id": document_id(position.user_id, position.movie_id),
        "user_id": position.user_id,
        "movie_id": position.movie_id,
        "position_ms": position.position_ms,
        "duration_ms": position.duration_ms,
        "finished": position.finished,
        "client_time": position.client_time,
        "server_time": position.server_time,
        "report_id": position.report_id,
        "device": position.device,
        "recency": position.recency,
    }


def _position(document: Document) -> ResumePosition:
    return ResumePosition(
        user_id=document["user_id"],
        movie_id=document["movie_id"],
        position_ms=document["position_ms"],
        client_time=document["client_time"],
        server_time=document["server_time"],
        report_id=document["report_id"],
        duration_ms=document["duration_ms"],
        finished=document["finished"],
        device=document["device"],
    )
