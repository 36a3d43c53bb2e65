"""Use cases: read the signed-in user's resume positions (written by the projection from the event log)."""

from __future__ import annotations

from meshkit.errors import NotFound
from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import DEFAULT_PAGE_SIZE, Page
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.ports.resume_positions import ResumePositions


async def get_progress(movie_id: str, *, user_id: str, positions: ResumePositions) -> ResumePosition:
    """Where the user stopped in the movie; NotFound when no event of theirs for it has been projected yet."""
    check_id(movie_id, "movie_id")
    found = await positions.get(user_id, movie_id)
    if found is None:
        raise NotFound(f"no progress in movie {movie_id!r}")
    return found


async def list_progress(
    *, user_id: str, positions: ResumePositions, limit: int | None = None, cursor: str | None = None
) -> Page[ResumePosition]:
    """A page of "continue watching": unfinished positions, most recently watched first; `cursor` is the
    `next_cursor` of the page before. InvalidArgument names `limit` or `cursor` when they are refused."""
    return await positions.continue_watching(user_id, DEFAULT_PAGE_SIZE if limit is None else limit, cursor or None)
