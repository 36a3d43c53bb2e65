"""The viewing-time rules of docs/viewing-time.md on hand-computed cases (every figure below is worked out in the
comment beside it, not taken from the code)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.domain.viewing_time import (
    HistoryEntry,
    MovieTotals,
    MovieWatchTime,
    movie_totals,
    top_movies,
    watch_history,
    watch_intervals,
)

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
S = 1000


def ev(
    event_id: str,
    kind: str,
    position_s: float,
    at_s: float,
    *,
    user: str = "u1",
    movie: str = "m1",
    session: str | None = None,
    server_s: float | None = None,
) -> PlaybackEvent:
    return PlaybackEvent(
        event_id=event_id,
        user_id=user,
        movie_id=movie,
        type=kind,
        position_ms=int(position_s * S),
        client_time_ms=T0 + int(at_s * S),
        server_time_ms=T0 + int((at_s if server_s is None else server_s) * S),
        playback_session_id=session,
    )


def watched(events: list[PlaybackEvent]) -> int:
    return sum(interval.watched_ms for interval in watch_intervals(events))


@pytest.mark.parametrize(
    ("events", "expected_ms"),
    [
        # play at 0 s, pause 60 s later at 60 s: one minute.
        ([ev("a", "play", 0, 0), ev("b", "pause", 60, 60)], 60_000),
        # The position ran ahead of the clock (a 2× speed or a bad report): the 30 s of wall clock bound it.
        ([ev("a", "play", 100, 0), ev("b", "stop", 200, 30)], 30_000),
        # The position went back without a seek: never negative.
        ([ev("a", "play", 500, 0), ev("b", "pause", 400, 50)], 0),
        # No close yet: the running interval is worth nothing.
        ([ev("a", "play", 0, 0)], 0),
        # Pause without a play, then a play that nothing closed: nothing.
        ([ev("a", "pause", 10, 0), ev("b", "play", 10, 5)], 0),
        # play 0→ seek_forward landing at 900 after 40 s: min(900, 40) = 40 s; playing on from 900,
        # pause at 920 20 s later: 20 s. Total 60 s.
        ([ev("a", "play", 0, 0), ev("b", "seek_forward", 900, 40), ev("c", "pause", 920, 60)], 60_000),
        # play at 600, seek_back landing at 100 after 50 s: the clock's 50 s; then 100 → 130 in 30 s: 30 s.
        ([ev("a", "play", 600, 0), ev("b", "seek_back", 100, 50), ev("c", "stop", 130, 80)], 80_000),
        # A seek while paused opens nothing: play 0→pause 10 (10 s), seek to 500, play at 500, stop at 520 20 s
        # later (20 s); the 100 s between the seek and the play count nothing. Total 30 s.
        (
            [
                ev("a", "play", 0, 0),
                ev("b", "pause", 10, 10),
                ev("c", "seek_forward", 500, 20),
                ev("d", "play", 500, 120),
                ev("e", "stop", 520, 140),
            ],
            30_000,
        ),
        # A play while playing closes the running interval at its position and reopens there:
        # 0→50 in 50 s (50 s), 50→70 in 20 s (20 s). Total 70 s.
        ([ev("a", "play", 0, 0), ev("b", "play", 50, 50), ev("c", "pause", 70, 70)], 70_000),
        # An event type the rules do not know is stored but moves nothing: still 0→60 in 60 s.
        ([ev("a", "play", 0, 0), ev("x", "buffering", 30, 30), ev("b", "pause", 60, 60)], 60_000),
    ],
    ids=[
        "play-pause",
        "clock-bounds-position",
        "never-negative",
        "missing-close",
        "play-never-closed",
        "seek-forward-closes-and-reopens",
        "seek-back-counts-the-clock",
        "seek-while-paused-opens-nothing",
        "play-while-playing",
        "unknown-type-ignored",
    ],
)
def test_one_viewing(events: list[PlaybackEvent], expected_ms: int) -> None:
    assert watched(events) == expected_ms


def test_a_duplicate_event_counts_once() -> None:
    # The pause delivered twice, and a client retry of it accepted again 5 s later: still 0→60 in 60 s.
    events = [
        ev("a", "play", 0, 0),
        ev("b", "pause", 60, 60),
        ev("b", "pause", 60, 60),
        ev("b", "pause", 60, 60, server_s=65),
    ]
    assert watched(events) == 60_000


def test_a_duplicate_play_does_not_split_the_interval() -> None:
    # Were the second copy of "a" a separate play, 0→0 then 0→60 would still be 60 s, but its intervals would be
    # two; the interval list shows the copy is gone.
    events = [ev("a", "play", 0, 0), ev("a", "play", 0, 0), ev("b", "pause", 60, 60)]
    assert [i.watched_ms for i in watch_intervals(events)] == [60_000]


def test_a_late_event_lands_in_its_place() -> None:
    # play 0 at 0 s, pause at 100 s / 100 s, and a pause at 40 s / 40 s that reached the service last (server time
    # 500 s). In client order: play→pause(40) = 40 s, then paused; the pause at 100 closes nothing. 40 s, not 100.
    on_time = [ev("a", "play", 0, 0), ev("c", "pause", 100, 100)]
    late = ev("b", "pause", 40, 40, server_s=500)
    assert watched(on_time) == 100_000
    assert watched([*on_time, late]) == 40_000
    assert watched([late, *on_time]) == 40_000


def test_equal_client_times_are_ordered_by_server_time_then_event_id() -> None:
    # pause and play at the same client instant: the pause reached the service first, so pause→play, and the play
    # runs to the stop: 10→40 in 30 s = 30 s. Swap their server times and play comes first: paused at 10 s, 0 s.
    pause_first = [ev("p", "pause", 10, 10, server_s=10), ev("q", "play", 10, 10, server_s=11), ev("s", "stop", 40, 40)]
    play_first = [ev("p", "pause", 10, 10, server_s=11), ev("q", "play", 10, 10, server_s=10), ev("s", "stop", 40, 40)]
    assert watched(pause_first) == 30_000
    assert watched(play_first) == 0
    # Same client and server time: event id decides ("p" < "q": pause first).
    same = [ev("p", "pause", 10, 10), ev("q", "play", 10, 10), ev("s", "stop", 40, 40)]
    assert watched(same) == 30_000


def test_sessions_are_separate_viewings() -> None:
    # Two devices interleaved: without sessions, the play in session 2 would close session 1's interval.
    # Session 1: 0→100 in 100 s; session 2: 0→30 in 30 s (opened at 50, closed at 80). 130 s.
    events = [
        ev("a", "play", 0, 0, session="s1"),
        ev("b", "play", 0, 50, session="s2"),
        ev("c", "pause", 30, 80, session="s2"),
        ev("d", "pause", 100, 100, session="s1"),
    ]
    assert watched(events) == 130_000


def test_top_movies_credit_an_interval_to_the_instant_it_opened() -> None:
    events = [
        # m1: opened at 0 s (60 s watched), and at 3600 s (30 s watched).
        ev("a", "play", 0, 0, movie="m1"),
        ev("b", "pause", 60, 60, movie="m1"),
        ev("c", "play", 60, 3600, movie="m1"),
        ev("d", "stop", 90, 3630, movie="m1"),
        # m2: opened at 10 s, closed after the range ends: all 120 s count in [0, 3600).
        ev("e", "play", 0, 10, movie="m2", user="u2"),
        ev("f", "pause", 120, 130, movie="m2", user="u2"),
        # m3: one interval worth nothing is not listed.
        ev("g", "play", 5, 20, movie="m3"),
        ev("h", "pause", 5, 25, movie="m3"),
    ]
    assert top_movies(events, T0, T0 + 3600 * S, 10) == [MovieWatchTime("m2", 120_000), MovieWatchTime("m1", 60_000)]
    assert top_movies(events, T0 + 3600 * S, T0 + 7200 * S, 10) == [MovieWatchTime("m1", 30_000)]
    assert top_movies(events, T0, T0 + 7200 * S, 1) == [MovieWatchTime("m2", 120_000)]
    # A tie goes to the smaller id.
    tie = [ev("x", "play", 0, 0, movie="mb"), ev("y", "stop", 5, 5, movie="mb")]
    tie += [ev("z", "play", 0, 0, movie="ma", user="u2"), ev("w", "stop", 5, 5, movie="ma", user="u2")]
    assert top_movies(tie, T0, T0 + S * 10, 10) == [MovieWatchTime("ma", 5000), MovieWatchTime("mb", 5000)]


def test_history_sums_viewings_and_shows_where_the_last_event_left_it() -> None:
    events = [
        # m1 in two sessions: 0→40 (40 s) and 40→100 (60 s); last event: pause at 100 s position, 1100 s.
        ev("a", "play", 0, 0, session="s1"),
        ev("b", "pause", 40, 40, session="s1"),
        ev("c", "play", 40, 1000, session="s2"),
        ev("d", "pause", 100, 1060, session="s2"),
        ev("e", "seek_back", 10, 1100, session="s2"),
        # m2: a play only — in the history with nothing watched.
        ev("f", "play", 300, 500, movie="m2"),
        # Another user's events are not in this history.
        ev("g", "play", 0, 2000, user="u2"),
        ev("h", "stop", 10, 2010, user="u2"),
    ]
    assert watch_history(events, "u1", 10) == [
        HistoryEntry("m1", 100_000, 10_000, T0 + 1100 * S),
        HistoryEntry("m2", 0, 300_000, T0 + 500 * S),
    ]
    assert watch_history(events, "u1", 1) == [HistoryEntry("m1", 100_000, 10_000, T0 + 1100 * S)]
    assert watch_history(events, "nobody", 10) == []


def test_movie_totals_count_time_and_the_users_who_watched_some() -> None:
    events = [
        ev("a", "play", 0, 0, user="u1"),
        ev("b", "stop", 30, 30, user="u1"),
        ev("c", "play", 0, 0, user="u2"),
        ev("d", "stop", 45, 45, user="u2"),
        # u3 pressed play and nothing followed: no time, not a viewer.
        ev("e", "play", 0, 0, user="u3"),
    ]
    assert movie_totals(events, ["m1", "unseen"]) == [MovieTotals("m1", 75_000, 2), MovieTotals("unseen", 0, 0)]


def test_a_record_from_the_avro_decoder_becomes_an_event() -> None:
    record = {
        "event_id": "e1",
        "user_id": "u1",
        "movie_id": "m1",
        "type": "play",
        "position_ms": 1500,
        "client_time": datetime(2026, 1, 1, 0, 0, 1, 250_999, tzinfo=UTC),
        "server_time": datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
        "device": None,
        "playback_session_id": "s",
    }
    event = PlaybackEvent.from_record(record)
    assert (event.client_time_ms, event.server_time_ms, event.session) == (T0 + 1250, T0 + 2000, "s")
    with pytest.raises(ValueError, match="naive"):
        PlaybackEvent.from_record({**record, "client_time": datetime(2026, 1, 1)})
    with pytest.raises(ValueError, match="position_ms"):
        PlaybackEvent.from_record({**record, "position_ms": -1})
