"""Port: each user's favourite movies."""

from __future__ import annotations

from typing import Protocol

from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.pages import Page


class Favourites(Protocol):
    """At most one entry per (user, movie), kept by a unique key in the store.

    Semantics every adapter keeps (tests/contract/test_favourites.py checks them on each):
    - add: True when the movie was not a favourite; False when it was, and then the entry keeps its first
      `added_at` (a retried add never moves a movie to the top). Idempotent.
    - remove: True when there was an entry. Idempotent. Adding again later is a new entry with the new time.
    - list: newest `added_at` first, movie id descending on equal times, `limit` 1..100 a page. A cursor
      continues strictly after the last item of the page that returned it: a walk shows every entry that stayed
      during it exactly once, never one twice; entries added mid-walk are newer than the cursor, so they appear
      on a new first page, not later in this walk.
    - every read and write is scoped to one user: no call returns or changes another user's favourites.
    Raises meshkit.errors.InvalidArgument for a limit out of range or a cursor this list did not return (field
    "limit" or "cursor"), and meshkit.errors.Unavailable when the store cannot answer within the adapter's
    timeout (down, unreachable, locked) — never a hang, never a guess.

    Every write is a single insert or delete of one document by its unique key: correct under concurrent callers
    on MongoDB and on FerretDB alike (no read-modify-write).
    """

    async def prepare(self) -> None:
        """Creates what the store needs (tables, unique and query indexes); safe to repeat. Calls made before a
        successful prepare do it themselves first."""

    async def add(self, favourite: Favourite) -> bool: ...

    async def remove(self, user_id: str, movie_id: str) -> bool: ...

    async def contains(self, user_id: str, movie_id: str) -> bool: ...

    async def get(self, user_id: str, movie_id: str) -> Favourite | None:
        """The user's entry for the movie, with the time it was first added; None when there is none."""

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Favourite]: ...
