"""Use cases: the signed-in user's resume positions: set one (through the event log, like every playback event), read
them (written by the projection from the log)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from meshkit.errors import NotFound
from ugc_svc.domain.event_batch import check_client_time
from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import DEFAULT_PAGE_SIZE, Page
from ugc_svc.domain.playback import EventType, PlaybackEvent
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.ports.event_publisher import EventPublisher
from ugc_svc.ports.resume_positions import ResumePositions


def _now() -> datetime:
    return datetime.now(UTC)


def _new_event_id() -> str:
    return str(uuid.uuid4())


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


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """A position the user sets, as the client sent it; a missing client time means "now" (the service's clock)."""

    movie_id: str
    position_ms: int
    duration_ms: int | None
    finished: bool
    client_time: datetime | None
    device: str | None


async def set_progress(
    report: ProgressReport,
    *,
    user_id: str,
    publisher: EventPublisher,
    positions: ResumePositions,
    clock: Callable[[], datetime] = _now,
    new_event_id: Callable[[], str] = _new_event_id,
) -> ResumePosition:
    """Publish the report as a `progress` event on the bus (the one path into the store: the projection writes
    it, as it writes every playback event), once the bus has acknowledged it. Answers the position the store
    holds once the projection got that far: this report, or a newer one stored already.

    InvalidArgument names the field a report cannot have; the bus's Unavailable passes through (retry)."""
    server_time = clock()
    client_time = server_time if report.client_time is None else report.client_time
    check_client_time(client_time, server_time)
    event_id = new_event_id()
    # Checked as the position it will become before anything is published.
    position = ResumePosition(
        user_id=user_id,
        movie_id=report.movie_id,
        position_ms=report.position_ms,
        client_time=client_time,
        server_time=server_time,
        report_id=event_id,
        duration_ms=report.duration_ms,
        finished=report.finished,
        device=report.device or "",
    )
    event = PlaybackEvent(
        event_id=event_id,
        user_id=user_id,
        movie_id=report.movie_id,
        type=EventType.PROGRESS,
        position_ms=report.position_ms,
        client_time=client_time,
        server_time=server_time,
        device=report.device,
        duration_ms=report.duration_ms,
        finished=report.finished,
    )
    await publisher.publish([event])
    stored = await positions.get(user_id, report.movie_id)
    return stored if stored is not None and stored.is_newer_than(position) else position
