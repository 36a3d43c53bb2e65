"""Port: the latest resume position of each user in each movie, and the user's "continue watching" list."""

from __future__ import annotations

from typing import Protocol

from ugc_svc.domain.pages import Page
from ugc_svc.domain.resume import ResumePosition


class ResumePositions(Protocol):
    """One position per (user, movie): the greatest report by `ResumePosition`'s order (client time, server time,
    report id), whatever order the reports arrive in.

    Semantics every adapter keeps (tests/contract/test_resume_positions.py checks them on each):
    - record: True when the report became the stored position; False when the stored one is newer or is this
      very report. So a retry, a replay or a late report changes nothing, and any arrival order of the same
      reports ends in the same stored position.
    - continue_watching: the user's unfinished positions, most recently watched first (the same order; movie id
      descending on equal keys), `limit` 1..100 a page. A cursor continues strictly after the last item of the
      page that returned it; a walk shows every position that stayed unchanged during it exactly once and never
      shows a movie twice (a position updated mid-walk moves ahead of the cursor: shown on a new first page, not
      again). A finished position leaves the list; a newer unfinished one brings the movie back.
    - every read and write is scoped to one user: no call returns or changes another user's positions.
    - forget: removes the position; True when there was one. Idempotent.
    Raises meshkit.errors.InvalidArgument for a limit out of range or a cursor this list did not return (field
    "limit" or "cursor"), and meshkit.errors.Unavailable when the store cannot answer within the adapter's
    timeout (down, unreachable, locked) — never a hang, never a guess.

    Concurrency: the store applies "newer wins" as one conditional write. MongoDB makes it atomic per document;
    FerretDB v1 does not (an update is read, check, write without a lock), so two writers racing on ONE
    (user, movie) can leave the older report stored there. The design relies on one writer per user at a time:
    positions are projected from the event log, partitioned by user, by a single consumer per partition.
    """

    async def prepare(self) -> None:
        """Creates what the store needs (tables, unique and query indexes); safe to repeat. Calls made before a
        successful prepare do it themselves first."""

    async def record(self, position: ResumePosition) -> bool: ...

    async def get(self, user_id: str, movie_id: str) -> ResumePosition | None: ...

    async def continue_watching(self, user_id: str, limit: int, cursor: str | None = None) -> Page[ResumePosition]: ...

    async def forget(self, user_id: str, movie_id: str) -> bool: ...
