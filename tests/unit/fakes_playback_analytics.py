"""A PlaybackAnalytics in memory: the events inserted, answered by the domain's own rules (what every adapter must
answer, per the port's contract)."""

from __future__ import annotations

from collections.abc import Sequence

from sink_svc.domain import viewing_time
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.domain.viewing_time import HistoryEntry, MovieTotals, MovieWatchTime


class FakePlaybackAnalytics:
    def __init__(self) -> None:
        self.events: list[PlaybackEvent] = []
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    async def prepare(self) -> None:
        return None

    async def insert(self, batch: EventBatch) -> None:
        self.events.extend(batch.events)

    async def top_movies(self, from_ms: int, to_ms: int, limit: int) -> list[MovieWatchTime]:
        self.calls.append(("top_movies", (from_ms, to_ms, limit)))
        return viewing_time.top_movies(self.events, from_ms, to_ms, limit)

    async def watch_history(self, user_id: str, limit: int) -> list[HistoryEntry]:
        self.calls.append(("watch_history", (user_id, limit)))
        return viewing_time.watch_history(self.events, user_id, limit)

    async def movie_totals(self, movie_ids: Sequence[str]) -> list[MovieTotals]:
        self.calls.append(("movie_totals", (tuple(movie_ids),)))
        return viewing_time.movie_totals(self.events, movie_ids)

    async def close(self) -> None:
        return None
