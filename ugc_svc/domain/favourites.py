"""Favourites: movies a user keeps, one entry per user and movie, listed newest first.

Adding twice keeps the first entry and its time: the list does not reorder when an app retries. Removing and
adding again is a new entry, at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import decode_cursor, encode_cursor
from ugc_svc.domain.timestamps import to_millis, truncated

_CURSOR_KIND = "favourites"


@dataclass(frozen=True)
class Favourite:
    user_id: str
    movie_id: str
    added_at: datetime
    """Server time, UTC, to the millisecond."""

    def __post_init__(self) -> None:
        check_id(self.user_id, "user_id")
        check_id(self.movie_id, "movie_id")
        object.__setattr__(self, "added_at", truncated(self.added_at, "added_at"))


@dataclass(frozen=True, order=True)
class FavouritesKey:
    """Where a page of favourites stopped: newest first, movie id (descending) on equal times."""

    added_ms: int
    movie_id: str

    @classmethod
    def of(cls, favourite: Favourite) -> FavouritesKey:
        return cls(to_millis(favourite.added_at, "added_at"), favourite.movie_id)

    def cursor(self) -> str:
        return encode_cursor(_CURSOR_KIND, (self.added_ms, self.movie_id))

    @classmethod
    def from_cursor(cls, cursor: str, field: str = "cursor") -> FavouritesKey:
        added_ms, movie_id = decode_cursor(_CURSOR_KIND, cursor, (int, str), field)
        return cls(int(added_ms), str(movie_id))


def favourites_cursor(favourite: Favourite) -> str:
    return FavouritesKey.of(favourite).cursor()
