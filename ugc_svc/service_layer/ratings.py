"""Use cases: the signed-in user sets, removes and lists their ratings; anyone reads a movie's average.

A set or a removal is appended to the ratings log and answered once the log acknowledged it; the ratings
projection applies it (docs/adr/0007). The user is the caller's verified identity and the time is the service's
clock; neither comes from what the client sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import DEFAULT_PAGE_SIZE, Page
from ugc_svc.domain.ratings import MovieRating, Rating, RatingRequest, check_score
from ugc_svc.ports.rating_log import RatingLog
from ugc_svc.ports.ratings import Ratings


def _now() -> datetime:
    return datetime.now(UTC)


def _new_change_id() -> str:
    return str(uuid.uuid4())


async def set_rating(
    movie_id: str,
    score: int,
    *,
    user_id: str,
    log: RatingLog,
    clock: Callable[[], datetime] = _now,
    new_change_id: Callable[[], str] = _new_change_id,
) -> Rating:
    """The rating as it will be applied; InvalidArgument for a score outside 0..10 or a bad movie id."""
    check_score(score)
    request = RatingRequest(new_change_id(), user_id, movie_id, score, clock())
    await log.append(request)
    return Rating(user_id, movie_id, score, request.changed_at)


async def remove_rating(
    movie_id: str,
    *,
    user_id: str,
    log: RatingLog,
    clock: Callable[[], datetime] = _now,
    new_change_id: Callable[[], str] = _new_change_id,
) -> None:
    """Asks for the user's rating of the movie to go; removing one that is not there changes nothing."""
    check_id(movie_id, "movie_id")
    await log.append(RatingRequest(new_change_id(), user_id, movie_id, None, clock()))


async def list_ratings(
    *, user_id: str, ratings: Ratings, limit: int | None = None, cursor: str | None = None
) -> Page[Rating]:
    """A page of the user's applied ratings, most recently set first."""
    return await ratings.list(user_id, DEFAULT_PAGE_SIZE if limit is None else limit, cursor or None)


async def movie_rating(movie_id: str, *, ratings: Ratings) -> MovieRating:
    check_id(movie_id, "movie_id")
    return await ratings.movie(movie_id)
