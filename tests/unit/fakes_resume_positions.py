"""An in-memory ResumePositions keeping the port's write promise (the greatest report wins, whatever the arrival
order; an equal or older one changes nothing); when told to fail, a call raises Unavailable and changes nothing."""

from __future__ import annotations

from meshkit.errors import Unavailable
from ugc_svc.domain.pages import Page
from ugc_svc.domain.resume import ResumePosition


class FakeResumePositions:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], ResumePosition] = {}
        self.writes = 0
        # How many of the next calls raise Unavailable (the store is down for a while); -1: until told otherwise.
        self.failures = 0

    def _answer(self) -> None:
        if self.failures:
            self.failures -= 1 if self.failures > 0 else 0
            raise Unavailable("the fake store is down")

    async def prepare(self) -> None:
        self._answer()

    async def record(self, position: ResumePosition) -> bool:
        self._answer()
        self.writes += 1
        key = (position.user_id, position.movie_id)
        current = self.stored.get(key)
        if current is not None and not position.is_newer_than(current):
            return False
        self.stored[key] = position
        return True

    async def get(self, user_id: str, movie_id: str) -> ResumePosition | None:
        self._answer()
        return self.stored.get((user_id, movie_id))

    async def continue_watching(self, user_id: str, limit: int, cursor: str | None = None) -> Page[ResumePosition]:
        raise NotImplementedError

    async def forget(self, user_id: str, movie_id: str) -> bool:
        self._answer()
        return self.stored.pop((user_id, movie_id), None) is not None
