"""An in-memory Favourites that keeps the port's promises, for service-layer tests: one entry per (user, movie)
keeping its first time, newest first with the movie id descending on ties, keyset cursors the real adapters make
(so a cursor from elsewhere is refused the same way), each call scoped to one user; when told to fail, a call
raises Unavailable and changes nothing."""

from __future__ import annotations

from meshkit.errors import Unavailable
from ugc_svc.domain.favourites import Favourite, FavouritesKey, favourites_cursor
from ugc_svc.domain.pages import Page, check_limit, page_of


class FakeFavourites:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Favourite] = {}
        # While set, every call raises Unavailable (the store is down).
        self.unavailable = False
        # How many of the next `get` calls find the entry gone, as if another caller removed it just before.
        self.removed_before_get = 0

    def _answer(self) -> None:
        if self.unavailable:
            raise Unavailable("the fake store is down")

    async def prepare(self) -> None:
        self._answer()

    async def add(self, favourite: Favourite) -> bool:
        self._answer()
        key = (favourite.user_id, favourite.movie_id)
        if key in self.entries:
            return False
        self.entries[key] = favourite
        return True

    async def remove(self, user_id: str, movie_id: str) -> bool:
        self._answer()
        return self.entries.pop((user_id, movie_id), None) is not None

    async def contains(self, user_id: str, movie_id: str) -> bool:
        self._answer()
        return (user_id, movie_id) in self.entries

    async def get(self, user_id: str, movie_id: str) -> Favourite | None:
        self._answer()
        if self.removed_before_get > 0:
            self.removed_before_get -= 1
            self.entries.pop((user_id, movie_id), None)
        return self.entries.get((user_id, movie_id))

    async def list(self, user_id: str, limit: int, cursor: str | None = None) -> Page[Favourite]:
        check_limit(limit)
        after = FavouritesKey.from_cursor(cursor) if cursor is not None else None
        self._answer()
        mine = sorted(
            (f for (owner, _), f in self.entries.items() if owner == user_id), key=FavouritesKey.of, reverse=True
        )
        if after is not None:
            mine = [f for f in mine if FavouritesKey.of(f) < after]
        return page_of(mine[: limit + 1], limit, favourites_cursor)
