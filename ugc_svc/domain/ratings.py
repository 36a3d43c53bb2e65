"""Ratings: one score 0..10 per user and movie, and per movie the count and sum of its scores.

A rating is set or removed by a change that the ratings log holds at an offset. A movie's changes all sit in one
partition of that log (the movie id is the key), so they have one order, and the offset is a movie's clock: the
store keeps, beside each rating and each movie's summary, the offset of the change that last wrote it, and a
change at or below that offset is already there. That is what makes re-applying the log after a crash exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from meshkit.errors import InvalidArgument
from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import decode_cursor, encode_cursor
from ugc_svc.domain.timestamps import to_millis, truncated

MIN_SCORE = 0
MAX_SCORE = 10
_CURSOR_KIND = "ratings"


def check_score(score: int, field: str = "score") -> int:
    # bool is an int to isinstance; a score of True is a caller's bug, not a 1.
    if type(score) is not int or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidArgument.of(field, f"must be a whole number from {MIN_SCORE} to {MAX_SCORE}")
    return score


@dataclass(frozen=True)
class Rating:
    user_id: str
    movie_id: str
    score: int
    updated_at: datetime
    """When the user set it (server time), UTC, to the millisecond."""

    def __post_init__(self) -> None:
        check_id(self.user_id, "user_id")
        check_id(self.movie_id, "movie_id")
        check_score(self.score)
        object.__setattr__(self, "updated_at", truncated(self.updated_at, "updated_at"))


@dataclass(frozen=True)
class RatingRequest:
    """A user asked to set (`score`) or remove (`score` None) their rating of a movie; not applied yet: the
    ratings log orders it among the movie's other changes, and the projection applies it in that order."""

    change_id: str
    user_id: str
    movie_id: str
    score: int | None
    changed_at: datetime

    def __post_init__(self) -> None:
        check_id(self.change_id, "change_id")
        check_id(self.user_id, "user_id")
        check_id(self.movie_id, "movie_id")
        if self.score is not None:
            check_score(self.score)
        object.__setattr__(self, "changed_at", truncated(self.changed_at, "changed_at"))

    def at(self, offset: int) -> RatingChange:
        """The change as the log holds it, at `offset` of the movie's partition."""
        return RatingChange(self.user_id, self.movie_id, self.score, self.changed_at, offset)


@dataclass(frozen=True)
class RatingChange:
    """A user set (`score`) or removed (`score` None) their rating of a movie; the log holds it at `offset`."""

    user_id: str
    movie_id: str
    score: int | None
    changed_at: datetime
    offset: int
    """Its offset in the movie's partition of the ratings log: greater for every later change of the movie."""

    def __post_init__(self) -> None:
        check_id(self.user_id, "user_id")
        check_id(self.movie_id, "movie_id")
        if self.score is not None:
            check_score(self.score)
        if self.offset < 0:
            raise InvalidArgument.of("offset", "must not be negative")
        object.__setattr__(self, "changed_at", truncated(self.changed_at, "changed_at"))

    def rating(self) -> Rating | None:
        """The rating this change leaves; None for a removal."""
        if self.score is None:
            return None
        return Rating(self.user_id, self.movie_id, self.score, self.changed_at)


@dataclass(frozen=True)
class MovieRating:
    """A movie's ratings summed up: read as one document, never by scanning the ratings."""

    movie_id: str
    count: int
    total: int
    """The sum of the scores: kept instead of the average, so that every change adjusts it exactly."""

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class SummaryChange:
    """What one rating change does to its movie's summary, given the rating it replaces."""

    count: int
    total: int

    @classmethod
    def between(cls, before: int | None, after: int | None) -> SummaryChange:
        return cls(
            count=(after is not None) - (before is not None),
            total=(after or 0) - (before or 0),
        )


@dataclass(frozen=True, order=True)
class RatingsKey:
    """Where a page of a user's ratings stopped: most recently set first, movie id (descending) on equal times."""

    updated_ms: int
    movie_id: str

    @classmethod
    def of(cls, rating: Rating) -> RatingsKey:
        return cls(to_millis(rating.updated_at, "updated_at"), rating.movie_id)

    def cursor(self) -> str:
        return encode_cursor(_CURSOR_KIND, (self.updated_ms, self.movie_id))

    @classmethod
    def from_cursor(cls, cursor: str, field: str = "cursor") -> RatingsKey:
        updated_ms, movie_id = decode_cursor(_CURSOR_KIND, cursor, (int, str), field)
        return cls(int(updated_ms), str(movie_id))


def ratings_cursor(rating: Rating) -> str:
    return RatingsKey.of(rating).cursor()
