"""The analytics servicer: request fields to the store's arguments (defaults included), the store's answers to
messages, and the history for the header's user only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cinemesh.analytics.v1 import analytics_pb2

from meshkit.errors import Unauthenticated
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.entrypoints.grpc_servicer import AnalyticsServicer
from sink_svc.ports.playback_analytics import PlaybackAnalytics
from tests.unit.fakes_playback_analytics import FakePlaybackAnalytics
from tests.unit.test_caller import Metadata

T0 = 1_767_225_600_000
EVENTS = [
    PlaybackEvent("a", "alice", "tt1", "play", 0, T0, T0),
    PlaybackEvent("b", "alice", "tt1", "pause", 60_000, T0 + 60_000, T0 + 60_000),
    PlaybackEvent("c", "bob", "tt2", "play", 0, T0 + 1, T0 + 1),
    PlaybackEvent("d", "bob", "tt2", "stop", 5_000, T0 + 5_001, T0 + 5_001),
]
NOBODY = Metadata()


async def servicer() -> tuple[AnalyticsServicer, FakePlaybackAnalytics]:
    store = FakePlaybackAnalytics()
    port: PlaybackAnalytics = store
    await port.insert(EventBatch("t", 0, 0, len(EVENTS) - 1, EVENTS))
    return AnalyticsServicer(port), store


async def test_top_movies_pass_the_range_and_the_default_limit() -> None:
    service, store = await servicer()
    request = analytics_pb2.ListTopMoviesRequest(**{"from": T0, "to": T0 + 3_600_000})

    reply = await service.ListTopMovies(request, NOBODY)  # type: ignore[arg-type]

    assert [(item.movie_id, item.watched_ms) for item in reply.items] == [("tt1", 60_000), ("tt2", 5_000)]
    assert store.calls == [("top_movies", (T0, T0 + 3_600_000, 10))]


async def test_a_limit_sent_is_the_limit_asked() -> None:
    service, store = await servicer()
    request = analytics_pb2.ListTopMoviesRequest(**{"from": T0, "to": T0 + 1}, limit=1)

    reply = await service.ListTopMovies(request, NOBODY)  # type: ignore[arg-type]

    assert [item.movie_id for item in reply.items] == ["tt1"]
    assert store.calls == [("top_movies", (T0, T0 + 1, 1))]


async def test_history_is_the_callers_own_with_its_last_event() -> None:
    service, store = await servicer()

    as_alice = Metadata(("x-user-id", "alice"))
    reply = await service.ListWatchHistory(analytics_pb2.ListWatchHistoryRequest(), as_alice)  # type: ignore[arg-type]

    (item,) = reply.items
    assert (item.movie_id, item.watched_ms, item.last_position_ms) == ("tt1", 60_000, 60_000)
    assert item.last_seen.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert store.calls == [("watch_history", ("alice", 20))]


async def test_history_without_a_user_is_unauthenticated() -> None:
    service, store = await servicer()
    with pytest.raises(Unauthenticated):
        await service.ListWatchHistory(analytics_pb2.ListWatchHistoryRequest(), NOBODY)  # type: ignore[arg-type]
    assert store.calls == []


async def test_totals_of_one_movie() -> None:
    service, _ = await servicer()
    request = analytics_pb2.GetMovieWatchTotalsRequest(movie_id="tt2")
    reply = await service.GetMovieWatchTotals(request, NOBODY)  # type: ignore[arg-type]
    assert (reply.movie_id, reply.watched_ms, reply.viewers) == ("tt2", 5_000, 1)
