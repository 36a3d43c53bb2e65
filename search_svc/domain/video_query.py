"""A request for a page of the catalogue, validated into a value the search engines can trust."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from meshkit.errors import FieldViolation, InvalidArgument

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SEARCH_CHARS = 256


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

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def video_query(
    *,
    limit: int | None,
    page: int | None,
    search: str,
    sort: str,
    sort_order: str,
) -> VideoQuery:
    """Validate every parameter and report all mistakes at once, each naming its parameter."""
    violations: list[FieldViolation] = []
    if limit is None:
        limit = DEFAULT_LIMIT
    elif not 1 <= limit <= MAX_LIMIT:
        violations.append(FieldViolation("limit", f"must be between 1 and {MAX_LIMIT}, got {limit}"))
    if page is None:
        page = 1
    elif page < 1:
        violations.append(FieldViolation("page", f"must be 1 or more, got {page}"))
    text = " ".join(search.split())
    if len(text) > MAX_SEARCH_CHARS:
        violations.append(FieldViolation("search", f"must be at most {MAX_SEARCH_CHARS} characters"))
    sort_field: SortField | None = None
    if sort:
        try:
            sort_field = SortField(sort)
        except ValueError:
            allowed = ", ".join(f.value for f in SortField)
            violations.append(FieldViolation("sort", f"must be one of {allowed}, got {sort!r}"))
    order = SortOrder.ASC
    if sort_order:
        try:
            order = SortOrder(sort_order)
        except ValueError:
            violations.append(FieldViolation("sort_order", f"must be asc or desc, got {sort_order!r}"))
    if violations:
        raise InvalidArgument(*violations)
    return VideoQuery(text=text, limit=limit, page=page, sort=sort_field, order=order)
