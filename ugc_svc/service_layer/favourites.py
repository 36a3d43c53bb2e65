"""Use cases: add, remove and list the signed-in user's favourite movies.

The user is always the caller's verified identity and the time of adding is the service's clock: neither comes
from what the client sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from meshkit.errors import Unavailable
from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import DEFAULT_PAGE_SIZE, Page
from ugc_svc.ports.favourites import Favourites

# Add, then read back the kept entry: a concurrent remove can slip between the two, and the add is tried again.
_ADD_ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


async def add_favourite(
    movie_id: str, *, user_id: str, favourites: Favourites, clock: Callable[[], datetime] = _now
) -> Favourite:
    """The user's entry for the movie: the new one, or, when the movie was a favourite already, the kept one with
    the time it was first added (a retried add changes nothing)."""
    for _ in range(_ADD_ATTEMPTS):
        favourite = Favourite(user_id, movie_id, clock())
        if await favourites.add(favourite):
            return favourite
        kept = await favourites.get(user_id, movie_id)
        if kept is not None:
            return kept
    # Only a store that loses entries between two calls gets here; the caller may retry the add as it is.
    raise Unavailable("the favourite kept changing while it was added; try again")


async def remove_favourite(movie_id: str, *, user_id: str, favourites: Favourites) -> bool:
    """Removes the movie from the user's favourites; True when it was one. Removing it again changes nothing."""
    check_id(movie_id, "movie_id")
    return await favourites.remove(user_id, movie_id)


async def list_favourites(
    *, user_id: str, favourites: Favourites, limit: int | None = None, cursor: str | None = None
) -> Page[Favourite]:
    """A page of the user's favourites, newest first; `cursor` is the `next_cursor` of the page before.

    InvalidArgument names `limit` or `cursor` for a page size out of range or a cursor this list did not return.
    """
    return await favourites.list(user_id, DEFAULT_PAGE_SIZE if limit is None else limit, cursor or None)
