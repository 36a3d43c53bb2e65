"""Resume positions: where a user stopped in a movie, so any device can carry on from there.

Reports arrive late, twice or out of order (retries, several devices, a replayed log), so which one holds is
decided by a total order, never by arrival: the later client time wins; on equal client times the later server
time; then the larger report id. Any two different reports compare, so a store that keeps "the greatest report
seen" ends in the same state whatever order the reports came in, and a duplicate changes nothing.

Finished: a report may say so, and a position within the end credits counts too: at or past 95 % of a known
duration (most films' credits take their last 3-8 %; nobody resumes into them). Without a duration, only an
explicit "finished" ends a movie. A finished movie leaves "continue watching" until a newer unfinished report
(a rewatch) brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from meshkit.errors import InvalidArgument
from ugc_svc.domain.identifiers import check_id
from ugc_svc.domain.pages import decode_cursor, encode_cursor
from ugc_svc.domain.playback import PlaybackEvent
from ugc_svc.domain.timestamps import to_millis, truncated

FINISHED_AT_PERCENT = 95
MAX_DEVICE_LENGTH = 128
# Wide enough for any datetime's epoch milliseconds (year 9999 is 253402300799999), so the key compares as text.
_MILLIS_DIGITS = 15
_CURSOR_KIND = "continue_watching"


def reaches_the_credits(position_ms: int, duration_ms: int | None) -> bool:
    return duration_ms is not None and position_ms * 100 >= duration_ms * FINISHED_AT_PERCENT


@dataclass(frozen=True)
class ResumePosition:
    """The latest known position of one user in one movie; times are kept to the millisecond, in UTC."""

    user_id: str
    movie_id: str
    position_ms: int
    client_time: datetime
    """When the player took the position (the device's clock)."""
    server_time: datetime
    """When the report reached the service."""
    report_id: str
    """The report's own id (an event id): the last tie-breaker of the order."""
    duration_ms: int | None = None
    finished: bool = False
    """As given, or set because the position reaches the credits (`reaches_the_credits`)."""
    device: str = ""
    recency: str = field(init=False, repr=False, compare=False)
    """The order as one string (client ms, server ms, report id): a store compares it with one operator."""

    def __post_init__(self) -> None:
        check_id(self.user_id, "user_id")
        check_id(self.movie_id, "movie_id")
        check_id(self.report_id, "report_id")
        if self.position_ms < 0:
            raise InvalidArgument.of("position_ms", "must not be negative")
        if self.duration_ms is not None and self.duration_ms <= 0:
            raise InvalidArgument.of("duration_ms", "must be positive when given")
        if len(self.device) > MAX_DEVICE_LENGTH:
            raise InvalidArgument.of("device", f"must be at most {MAX_DEVICE_LENGTH} characters")
        client_time = truncated(self.client_time, "client_time")
        server_time = truncated(self.server_time, "server_time")
        # Frozen for callers; normalised once here, so that equal reports compare equal after a store round trip.
        object.__setattr__(self, "client_time", client_time)
        object.__setattr__(self, "server_time", server_time)
        object.__setattr__(self, "finished", self.finished or reaches_the_credits(self.position_ms, self.duration_ms))
        object.__setattr__(self, "recency", recency_key(client_time, server_time, self.report_id))

    def is_newer_than(self, other: ResumePosition) -> bool:
        return self.recency > other.recency


def recency_key(client_time: datetime, server_time: datetime, report_id: str) -> str:
    """Fixed-width milliseconds, then the id: comparing the strings (by code point or by UTF-8 bytes, as SQLite
    and MongoDB do) compares (client time, server time, report id)."""
    client_ms = to_millis(client_time, "client_time")
    server_ms = to_millis(server_time, "server_time")
    return f"{client_ms:0{_MILLIS_DIGITS}d}{server_ms:0{_MILLIS_DIGITS}d}{report_id}"


@dataclass(frozen=True, order=True)
class WatchingKey:
    """Where a "continue watching" page stopped: most recently watched first, movie id (descending) on ties."""

    recency: str
    movie_id: str

    @classmethod
    def of(cls, position: ResumePosition) -> WatchingKey:
        return cls(position.recency, position.movie_id)

    def cursor(self) -> str:
        return encode_cursor(_CURSOR_KIND, (self.recency, self.movie_id))

    @classmethod
    def from_cursor(cls, cursor: str, field: str = "cursor") -> WatchingKey:
        recency, movie_id = decode_cursor(_CURSOR_KIND, cursor, (str, str), field)
        return cls(str(recency), str(movie_id))


def watching_cursor(position: ResumePosition) -> str:
    return WatchingKey.of(position).cursor()


def position_of(event: PlaybackEvent) -> ResumePosition:
    """Where a playback event says the user is in the movie: every type carries the position the player was at,
    reported at the event's client time, the event id as the report id (InvalidArgument for values a position
    cannot hold)."""
    return ResumePosition(
        user_id=event.user_id,
        movie_id=event.movie_id,
        position_ms=event.position_ms,
        client_time=event.client_time,
        server_time=event.server_time,
        report_id=event.event_id,
        duration_ms=event.duration_ms,
        finished=bool(event.finished),
        device=event.device or "",
    )
