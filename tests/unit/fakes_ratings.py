"""In-memory stand-ins for the ratings ports that keep their promises, for service-layer tests: a RatingLog that
keeps what was appended (and can refuse like a bus that is down), and a Ratings store applying changes by offset as
the real adapters do (a change at or below a document's offset is already there; the summary is exact)."""

from __future__ import annotations

from meshkit.errors import Unavailable
from ugc_svc.domain.pages import Page, check_limit, page_of
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange, RatingRequest, RatingsKey, ratings_cursor


class FakeRatingLog:
    def __init__(self) -> None:
        self.appended: list[RatingRequest] = []
        self.unavailable = False
        self.closed = False

    async def append(self, request: RatingRequest) -> None:
        if self.unavailable:
            raise Unavailable("the fake bus is down")
        self.appended.append(request)

    async def close(self) -> None:
        self.closed = True


class FakeRatings:
    def __init__(self) -> None:
        self.ratings: dict[tuple[str, str], tuple[Rating | None, int]] = {}
        self.summaries: dict[str, tuple[int, int, int]] = {}

    async def prepare(self) -> None:
        pass

    async def apply(self, change: RatingChange) -> bool:
        stored, rating_offset = self.ratings.get((change.user_id, change.movie_id), (None, -1))
        count, total, summary_offset = self.summaries.get(change.movie_id, (0, 0, -1))
        wrote = False
        if summary_offset < change.offset:
            before = None if stored is None else stored.score
            count += (change.score is not None) - (before is not None)
            total += (change.score or 0) - (before or 0)
            self.summaries[change.movie_id] = (count, total, change.offset)
            wrote = True
        if rating_offset < change.offset:
            self.ratings[(change.user_id, change.movie_id)] = (change.rating(), change.offset)
            wrote = True
        return wrote

    async def get(self, user_id: str, movie_id: str) -> Rating | None:
        return self.ratings.get((user_id, movie_id), (None, -1))[0]

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Rating]:
        check_limit(limit)
        after = RatingsKey.from_cursor(cursor) if cursor is not None else None
        mine = [r for (user, _), (r, _) in self.ratings.items() if user == user_id and r is not None]
        ordered = sorted(mine, key=RatingsKey.of, reverse=True)
        if after is not None:
            ordered = [r for r in ordered if RatingsKey.of(r) < after]
        return page_of(ordered[: limit + 1], limit, ratings_cursor)

    async def movie(self, movie_id: str) -> MovieRating:
        count, total, _ = self.summaries.get(movie_id, (0, 0, -1))
        return MovieRating(movie_id, count, total)
