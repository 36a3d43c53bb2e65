"""Playback events: what a player reports while a movie plays (play, pause, stop, seek forward, seek back), and
progress reports (a position the user set, with the movie's length and whether it was watched to the end)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class EventType(StrEnum):
    PLAY = "play"
    PAUSE = "pause"
    STOP = "stop"
    SEEK_FORWARD = "seek_forward"
    SEEK_BACK = "seek_back"
    PROGRESS = "progress"


# What a player may send as playback events; `progress` comes only from SetProgress.
PLAYER_TYPES = (EventType.PLAY, EventType.PAUSE, EventType.STOP, EventType.SEEK_FORWARD, EventType.SEEK_BACK)


def to_millis(moment: datetime) -> datetime:
    """`moment` in UTC truncated to the millisecond: the precision the event bus keeps (Avro timestamp-millis).

    A naive datetime is refused rather than guessed: its zone is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a playback event time must carry its zone, got naive {moment.isoformat()}")
    # Every event passes here twice on the ingest path: the common case (UTC, whole milliseconds) costs nothing.
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    extra = utc.microsecond % 1000
    return utc.replace(microsecond=utc.microsecond - extra) if extra else utc


@dataclass(frozen=True, slots=True)
class PlaybackEvent:
    """One event as the bus carries it. `event_id` identifies it across retries: consumers keep one per id.

    Times are aware UTC datetimes at millisecond precision (other zones are converted, finer digits dropped), so
    an event read back from the bus equals the one published.
    """

    event_id: str
    user_id: str
    movie_id: str
    type: EventType
    position_ms: int
    client_time: datetime
    server_time: datetime
    device: str | None = None
    playback_session_id: str | None = None
    duration_ms: int | None = None
    finished: bool | None = None

    def __post_init__(self) -> None:
        for name in ("event_id", "user_id", "movie_id"):
            if not getattr(self, name):
                raise ValueError(f"a playback event needs a non-empty {name}")
        if self.position_ms < 0:
            raise ValueError(f"position_ms must be >= 0, got {self.position_ms}")
        if self.duration_ms is not None and self.duration_ms <= 0:
            raise ValueError(f"duration_ms must be > 0 when given, got {self.duration_ms}")
        if type(self.type) is not EventType:
            object.__setattr__(self, "type", EventType(self.type))
        object.__setattr__(self, "client_time", to_millis(self.client_time))
        object.__setattr__(self, "server_time", to_millis(self.server_time))
