"""Ratings in MongoDB (FerretDB in the devstack): `ratings`, a document per (user, movie), and `movie_ratings`,
a summary per movie.

Two documents change per rating and neither engine here gives a transaction across them (FerretDB v1 has none),
so the order of the two writes carries the guarantee, with the offset stored in each:
1. the summary first, only if its offset is below the change's: `$inc` by the difference between the change's
   score and the user's rating as stored now, and the offset set;
2. then the rating, only if its offset is below the change's.
A crash between them leaves the summary ahead; applying the change again skips step 1 (offset reached) and does
step 2. Step 1 reads the stored rating, which at that moment holds exactly every earlier change of this movie:
a rating is never written before its summary step, and the projection applies a movie's changes one at a time,
in order, retrying a failed one before going on. Each step is one conditional write of one document with no
concurrent writer, so FerretDB's lost concurrent updates cannot touch it.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from ugc_svc.adapters.mongodb_database import Document, MongoDatabase, one_document
from ugc_svc.adapters.mongodb_indexes import Indexes
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange, RatingsKey, SummaryChange, ratings_cursor
from ugc_svc.domain.timestamps import from_millis, to_millis

RATINGS = "ratings"
MOVIE_RATINGS = "movie_ratings"
RATING_INDEXES = [
    IndexModel([("user_id", ASCENDING), ("movie_id", ASCENDING)], unique=True, name="user_movie_unique"),
    # A user's list: equality on user and `rated` (a removed rating stays as a document without a score), then
    # the sort, so a page is a range scan of the index.
    IndexModel(
        [("user_id", ASCENDING), ("rated", ASCENDING), ("updated_at_ms", DESCENDING), ("movie_id", DESCENDING)],
        name="user_rated_newest",
    ),
]
_SORT = [("updated_at_ms", DESCENDING), ("movie_id", DESCENDING)]


class MongoDbRatings:
    """`Ratings` on a `MongoDatabase`, whose client its owner closes."""

    def __init__(self, database: MongoDatabase, ratings: str = RATINGS, movie_ratings: str = MOVIE_RATINGS) -> None:
        self._database = database
        self._ratings = database.database[ratings]
        # Keyed by movie id as `_id`: no index beyond `_id` is needed.
        self._summaries = database.database[movie_ratings]
        self._indexes = Indexes(database, self._ratings, RATING_INDEXES)

    async def prepare(self) -> None:
        await self._indexes.ensure()

    async def apply(self, change: RatingChange) -> bool:
        await self._indexes.ensure()
        target = one_document(change.user_id, change.movie_id)
        stored = await self._database.answer(lambda: self._ratings.find_one(target))
        before = None if stored is None else stored["score"]
        summary_written = await self._update_summary(change, SummaryChange.between(before, change.score))
        rating_written = await self._write_rating(change)
        return summary_written or rating_written

    async def _update_summary(self, change: RatingChange, delta: SummaryChange) -> bool:
        behind = {"_id": change.movie_id, "applied_offset": {"$lt": change.offset}}
        update = {"$inc": {"count": delta.count, "total": delta.total}, "$set": {"applied_offset": change.offset}}
        return await self._upsert_behind(self._summaries, behind, update)

    async def _write_rating(self, change: RatingChange) -> bool:
        behind = {**one_document(change.user_id, change.movie_id), "applied_offset": {"$lt": change.offset}}
        fields = {
            "score": change.score,
            "rated": change.score is not None,
            "updated_at_ms": to_millis(change.changed_at, "changed_at"),
            "applied_offset": change.offset,
        }
        return await self._upsert_behind(self._ratings, behind, {"$set": fields})

    async def _upsert_behind(self, collection: AsyncCollection[Document], behind: Document, update: Document) -> bool:
        """Updates the document if its offset is behind, creates it if missing; False when it is at or past the
        change (the upsert then meets the existing `_id`)."""
        try:
            result = await self._database.answer(lambda: collection.update_one(behind, update, upsert=True))
        except DuplicateKeyError:
            return False
        return bool(result.matched_count == 1 or result.upserted_id is not None)

    async def get(self, user_id: str, movie_id: str) -> Rating | None:
        await self._indexes.ensure()
        found = await self._database.answer(
            lambda: self._ratings.find_one({**one_document(user_id, movie_id), "rated": True})
        )
        return _rating(found) if found is not None else None

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Rating]:
        check_limit(limit)
        after = RatingsKey.from_cursor(cursor) if cursor is not None else None
        await self._indexes.ensure()
        query: dict[str, Any] = {"user_id": user_id, "rated": True}
        if after is not None:
            # (updated_at_ms, movie_id) < the cursor's, spelled without $expr (FerretDB lacks it).
            query["$or"] = [
                {"updated_at_ms": {"$lt": after.updated_ms}},
                {"updated_at_ms": after.updated_ms, "movie_id": {"$lt": after.movie_id}},
            ]

        async def page() -> list[Document]:
            return await self._ratings.find(query).sort(_SORT).limit(limit + 1).to_list()

        documents = await self._database.answer(page)
        return page_of([_rating(document) for document in documents], limit, ratings_cursor)

    async def movie(self, movie_id: str) -> MovieRating:
        found = await self._database.answer(lambda: self._summaries.find_one({"_id": movie_id}))
        if found is None:
            return MovieRating(movie_id, 0, 0)
        return MovieRating(movie_id, int(found["count"]), int(found["total"]))


def _rating(document: Document) -> Rating:
    return Rating(
        user_id=document["user_id"],
        movie_id=document["movie_id"],
        score=document["score"],
        updated_at=from_millis(document["updated_at_ms"]),
    )
