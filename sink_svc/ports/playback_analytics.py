"""Port: the analytics store of playback events, and the viewing-time reads computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.viewing_time import HistoryEntry, MovieTotals, MovieWatchTime


class PlaybackAnalytics(Protocol):
    """Every playback event the sink loaded, and time watched computed from them by docs/viewing-time.md.

    Semantics every adapter keeps (tests/contract/test_playback_analytics.py checks them on both engines, against
    sink_svc.domain.viewing_time on generated event streams):
    - insert() is idempotent: a batch inserted again, a batch overlapping an earlier one, or one event in many
      batches never changes an answer. Each read counts one copy per event_id (the one accepted first), whatever
      the engine has merged yet; an engine that can also drop a redelivered batch on insert (by its identity,
      topic/partition/offsets, and its events' ids) does, which saves space but is not what correctness rests on;
      a batch with the offsets of an earlier one but other events (the topic made again) is stored.
    - insert() returns once the engine acknowledged every row; an exception means some rows may be stored and the
      batch must be inserted again (which is safe, above).
    - reads answer exactly what viewing_time's functions answer for every event inserted before the read began.
    Raises meshkit.errors.Unavailable when the engine cannot answer (down, timed out, its data held by another
    process); never returns a partial answer as a whole one.
    """

    async def prepare(self) -> None:
        """Create what the store needs if it is missing (idempotent; concurrent callers are safe)."""

    async def insert(self, batch: EventBatch) -> None: ...

    async def top_movies(self, from_ms: int, to_ms: int, limit: int) -> list[MovieWatchTime]:
        """Movies by time watched in intervals opened in [from_ms, to_ms) (epoch ms), most first, ties by movie id,
        at most `limit`; movies with no time there are left out."""

    async def watch_history(self, user_id: str, limit: int) -> list[HistoryEntry]:
        """The user's movies, last seen first (ties by movie id), at most `limit`."""

    async def movie_totals(self, movie_ids: Sequence[str]) -> list[MovieTotals]:
        """All-time figures of each movie asked for, in the order asked (zeros for a movie nobody watched)."""

    async def close(self) -> None: ...
