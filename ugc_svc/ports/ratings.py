"""Port: each user's ratings, and each movie's rating summary, written by the ratings projection alone."""

from __future__ import annotations

from typing import Protocol

from ugc_svc.domain.pages import Page
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange


class Ratings(Protocol):
    """One rating per (user, movie) and one summary (count, sum of scores) per movie, kept together exactly.

    Writer: changes come from the ratings log, keyed by movie, and are applied by the one consumer that owns the
    movie's partition, in offset order. So no two callers ever write one movie's summary at once: the design
    needs no atomic read-modify-write of a shared document, which FerretDB v1 does not give (it loses one of two
    concurrent updates of a document).

    Semantics every adapter keeps (tests/contract/test_ratings.py checks them on each):
    - apply: makes the change's outcome the user's rating (a removal leaves none) and adjusts the movie's summary
      by the difference from the rating it replaces. True when it wrote anything; False when the store already
      held the change, i.e. the rating or summary was written at this offset or a later one. So re-applying any
      stretch of the log, in its order, from any earlier offset, leaves the same state: count = number of
      ratings, total = sum of their scores, exactly.
    - apply survives a crash in the middle: a change that stopped after part of its writes is completed, exactly,
      by applying it again (the projection commits its log offset only after apply returned).
    - get / list: a user's ratings, list newest `updated_at` first, movie id descending on equal times, `limit`
      1..100 a page, cursor continuing strictly after the page that returned it. Scoped to one user.
    - movie: the movie's summary; count 0 and total 0 for a movie nobody rated. One document read.
    Raises meshkit.errors.InvalidArgument for a limit out of range or a cursor this list did not return (field
    "limit" or "cursor"), and meshkit.errors.Unavailable when the store cannot answer within the adapter's
    timeout — never a hang, never a guess.
    """

    async def prepare(self) -> None:
        """Creates what the store needs (tables, unique and query indexes); safe to repeat. Calls made before a
        successful prepare do it themselves first."""

    async def apply(self, change: RatingChange) -> bool: ...

    async def get(self, user_id: str, movie_id: str) -> Rating | None: ...

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Rating]: ...

    async def movie(self, movie_id: str) -> MovieRating: ...
