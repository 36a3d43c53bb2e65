"""How long a user watched, computed exactly from playback events (docs/viewing-time.md states the rules, with
the reasons). These functions are the reference: the analytics store's SQL gives the same numbers on both engines,
and the contract suite holds it to that.

In short: copies of one event_id count once (the first the service accepted); events of one viewing — same user,
movie and playback session — are put in order by (client_time, server_time, event_id); a play starts playing, a
pause or stop ends it, a seek keeps whatever was going on. While playing, every event closes the running interval
and, if still playing, opens the next one at its position. An interval is worth the position gained, never more
than the wall-clock time it lasted and never less than zero; one closed by a backward seek is worth its wall-clock
time (the point left is not reported). An interval nothing has closed yet is worth nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sink_svc.domain.playback_event import PlaybackEvent

PLAY = "play"
PAUSE = "pause"
STOP = "stop"
SEEK_FORWARD = "seek_forward"
SEEK_BACK = "seek_back"
# Types the rules read; any other type (the schema allows new ones) is stored but does not move the clock.
KNOWN_TYPES = frozenset({PLAY, PAUSE, STOP, SEEK_FORWARD, SEEK_BACK})
_SEEKS = frozenset({SEEK_FORWARD, SEEK_BACK})

ViewingKey = tuple[str, str, str]
"""One viewing: (user_id, movie_id, playback session, "" when none is named)."""


@dataclass(frozen=True, slots=True)
class WatchInterval:
    """A stretch of playing between two consecutive events of one viewing, credited to the instant it opened."""

    user_id: str
    movie_id: str
    session: str
    opened_ms: int
    watched_ms: int


@dataclass(frozen=True, slots=True)
class MovieWatchTime:
    movie_id: str
    watched_ms: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One movie in a user's history: time watched over all their viewings, and where the last event left it."""

    movie_id: str
    watched_ms: int
    last_position_ms: int
    last_seen_ms: int


@dataclass(frozen=True, slots=True)
class MovieTotals:
    """All-time figures of one movie: time watched and how many users watched some of it."""

    movie_id: str
    watched_ms: int
    viewers: int


def order_key(event: PlaybackEvent) -> tuple[int, int, str]:
    return (event.client_time_ms, event.server_time_ms, event.event_id)


def deduplicated(events: Iterable[PlaybackEvent]) -> list[PlaybackEvent]:
    """One copy per event_id: the one the service accepted first (lowest server time). A client retry is accepted
    again with a later server time; copies with the same server time are one delivery seen twice, hence equal."""
    kept: dict[str, PlaybackEvent] = {}
    for event in events:
        held = kept.get(event.event_id)
        if held is None or event.server_time_ms < held.server_time_ms:
            kept[event.event_id] = event
    return list(kept.values())


def viewings(events: Iterable[PlaybackEvent]) -> dict[ViewingKey, list[PlaybackEvent]]:
    """Distinct events of known types, by viewing, each viewing in order."""
    grouped: dict[ViewingKey, list[PlaybackEvent]] = defaultdict(list)
    for event in deduplicated(events):
        if event.type in KNOWN_TYPES:
            grouped[(event.user_id, event.movie_id, event.session)].append(event)
    for ordered in grouped.values():
        ordered.sort(key=order_key)
    return dict(grouped)


def interval_ms(opening: PlaybackEvent, closing: PlaybackEvent) -> int:
    """What playing from `opening` until `closing` is worth (events in order, so the clock never runs back)."""
    wall = closing.client_time_ms - opening.client_time_ms
    if closing.type == SEEK_BACK:
        # The position is where playback landed, behind the point left: only the clock bounds what was watched.
        return wall
    return max(0, min(closing.position_ms - opening.position_ms, wall))


def viewing_intervals(ordered: Sequence[PlaybackEvent]) -> list[WatchInterval]:
    """The intervals of one viewing, whose distinct events of known types are `ordered`."""
    found = []
    playing = False
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        if current.type == PLAY:
            playing = True
        elif current.type not in _SEEKS:
            playing = False
        if playing and following is not None:
            found.append(
                WatchInterval(
                    current.user_id,
                    current.movie_id,
                    current.session,
                    current.client_time_ms,
                    interval_ms(current, following),
                )
            )
    return found


def watch_intervals(events: Iterable[PlaybackEvent]) -> list[WatchInterval]:
    return [interval for ordered in viewings(events).values() for interval in viewing_intervals(ordered)]


def top_movies(events: Iterable[PlaybackEvent], from_ms: int, to_ms: int, limit: int) -> list[MovieWatchTime]:
    """Movies by time watched in intervals opened in [from_ms, to_ms), most first (ties by movie id); movies with
    no time watched there are left out."""
    totals: dict[str, int] = defaultdict(int)
    for interval in watch_intervals(events):
        if from_ms <= interval.opened_ms < to_ms:
            totals[interval.movie_id] += interval.watched_ms
    ranked = sorted(((-watched, movie) for movie, watched in totals.items() if watched > 0))
    return [MovieWatchTime(movie, -negated) for negated, movie in ranked[:limit]]


def watch_history(events: Iterable[PlaybackEvent], user_id: str, limit: int) -> list[HistoryEntry]:
    """Every movie the user has an event of a known type for, last seen first (ties by movie id)."""
    mine = [event for event in events if event.user_id == user_id]
    watched: dict[str, int] = defaultdict(int)
    last: dict[str, PlaybackEvent] = {}
    for ordered in viewings(mine).values():
        for interval in viewing_intervals(ordered):
            watched[interval.movie_id] += interval.watched_ms
        movie = ordered[-1].movie_id
        if movie not in last or order_key(ordered[-1]) > order_key(last[movie]):
            last[movie] = ordered[-1]
    entries = [
        HistoryEntry(movie, watched[movie], event.position_ms, event.client_time_ms) for movie, event in last.items()
    ]
    entries.sort(key=lambda entry: (-entry.last_seen_ms, entry.movie_id))
    return entries[:limit]


def movie_totals(events: Iterable[PlaybackEvent], movie_ids: Sequence[str]) -> list[MovieTotals]:
    """One entry per requested movie, in the order asked (zeros for a movie nobody watched)."""
    wanted = set(movie_ids)
    per_user: dict[tuple[str, str], int] = defaultdict(int)
    for interval in watch_intervals(event for event in events if event.movie_id in wanted):
        per_user[(interval.movie_id, interval.user_id)] += interval.watched_ms
    watched: dict[str, int] = defaultdict(int)
    viewers: dict[str, int] = defaultdict(int)
    for (movie, _user), total in per_user.items():
        watched[movie] += total
        viewers[movie] += total > 0
    return [MovieTotals(movie, watched[movie], viewers[movie]) for movie in movie_ids]
