"""A request for a page of the catalogue, validated into a value the search engines can trust."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from meshkit.errors import FieldViolation, InvalidArgument

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SEARCH_CHARS = 256
# The deepest result an engine pages to (OpenSearch's index.max_result_window); deeper needs a cursor, not a page.
MAX_RESULT_WINDOW = 10_000
MAX_GENRES = 20
DEFAULT_SUGGESTIONS = 10
MAX_SUGGESTIONS = 20
# IMDb's scale.
MIN_RATING = 0.0
MAX_RATING = 10.0


class SortField(StrEnum):
    ID = "id"
    TITLE = "title"
    IMDB_RATING = "imdb_rating"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class VideoQuery:
    text: str
    limit: int
    page: int
    # None means relevance when `text` is set, catalogue id order otherwise.
    sort: SortField | None
    order: SortOrder
    genres: tuple[str, ...] = ()
    min_rating: float | None = None
    max_rating: float | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class SuggestQuery:
    text: str
    limit: int


def video_query(
    *,
    limit: int | None,
    page: int | None,
    search: str,
    sort: str,
    sort_order: str,
    genres: Sequence[str] = (),
    min_rating: float | None = None,
    max_rating: float | None = None,
) -> VideoQuery:
    """Validate every parameter and report all mistakes at once, each naming its parameter."""
    violations: list[FieldViolation] = []
    limit = _bounded(violations, "limit", limit, DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    page = _bounded(violations, "page", page, 1, low=1, high=None)
    text = " ".join(search.split())
    if len(text) > MAX_SEARCH_CHARS:
        violations.append(FieldViolation("search", f"must be at most {MAX_SEARCH_CHARS} characters"))
    sort_field = _choice(violations, "sort", sort, SortField) if sort else None
    order = _choice(violations, "sort_order", sort_order, SortOrder) if sort_order else SortOrder.ASC
    if not violations and page * limit > MAX_RESULT_WINDOW:
        violations.append(
            FieldViolation(
                "page",
                f"page {page} of {limit} reaches past result {MAX_RESULT_WINDOW}, the deepest served; "
                "narrow the search or sort the other way",
            )
        )
    wanted = tuple(dict.fromkeys(g.strip() for g in genres if g.strip()))
    if len(wanted) > MAX_GENRES:
        violations.append(FieldViolation("genre", f"at most {MAX_GENRES} genres"))
    violations += _rating_violations(min_rating, max_rating)
    if violations:
        raise InvalidArgument(*violations)
    return VideoQuery(
        text=text,
        limit=limit,
        page=page,
        sort=sort_field,
        order=order or SortOrder.ASC,
        genres=wanted,
        min_rating=min_rating,
        max_rating=max_rating,
    )


def _bounded(
    violations: list[FieldViolation], name: str, value: int | None, default: int, *, low: int, high: int | None
) -> int:
    if value is None:
        return default
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"{low} or more"
        violations.append(FieldViolation(name, f"must be {bound}, got {value}"))
    return value


E = TypeVar("E", bound=StrEnum)


def _choice(violations: list[FieldViolation], name: str, value: str, choices: type[E]) -> E | None:
    try:
        return choices(value)
    except ValueError:
        allowed = " or ".join(c.value for c in choices) if len(choices) == 2 else ", ".join(c.value for c in choices)
        violations.append(
            FieldViolation(name, f"must be {'one of ' if len(choices) > 2 else ''}{allowed}, got {value!r}")
        )
        return None


def _rating_violations(min_rating: float | None, max_rating: float | None) -> list[FieldViolation]:
    found = [
        FieldViolation(name, f"must be between {MIN_RATING:g} and {MAX_RATING:g}, got {value}")
        for name, value in (("min_rating", min_rating), ("max_rating", max_rating))
        if value is not None and not MIN_RATING <= value <= MAX_RATING  # also refuses NaN
    ]
    if not found and min_rating is not None and max_rating is not None and min_rating > max_rating:
        found.append(FieldViolation("min_rating", f"must not exceed max_rating ({min_rating} > {max_rating})"))
    return found


def suggest_query(*, query: str, limit: int | None) -> SuggestQuery:
    violations: list[FieldViolation] = []
    text = " ".join(query.split())
    if not text:
        violations.append(FieldViolation("query", "must not be empty"))
    elif len(text) > MAX_SEARCH_CHARS:
        violations.append(FieldViolation("query", f"must be at most {MAX_SEARCH_CHARS} characters"))
    if limit is None:
        limit = DEFAULT_SUGGESTIONS
    elif not 1 <= limit <= MAX_SUGGESTIONS:
        violations.append(FieldViolation("limit", f"must be between 1 and {MAX_SUGGESTIONS}, got {limit}"))
    if violations:
        raise InvalidArgument(*violations)
    return SuggestQuery(text=text, limit=limit)
