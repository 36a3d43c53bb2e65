"""A playback event as the sink stores it: the decoded Avro record of `protos/avro/playback_event.avsc`, with its
instants as epoch milliseconds (the precision the record carries, and what both analytics engines compare)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; sub-millisecond digits are dropped. A naive datetime is refused: its zone is
    unknown, and guessing would move the event in the order viewing time is computed in."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a playback event time must carry its zone, got naive {moment.isoformat()}")
    return (moment - EPOCH) // _MS


@dataclass(frozen=True, slots=True)
class PlaybackEvent:
    """One event. `event_id` names it across redeliveries and client retries: copies of one event_id are one event.
    No session (`playback_session_id` None) and the empty session are the same: no session named."""

    event_id: str
    user_id: str
    movie_id: str
    type: str
    position_ms: int
    client_time_ms: int
    server_time_ms: int
    device: str | None = None
    playback_session_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("event_id", "user_id", "movie_id", "type"):
            if not getattr(self, name):
                raise ValueError(f"a playback event needs a non-empty {name}")
        if self.position_ms < 0:
            raise ValueError(f"position_ms must be >= 0, got {self.position_ms}")
        if self.client_time_ms < 0 or self.server_time_ms < 0:
            raise ValueError("a playback event time must not be before 1970-01-01T00:00:00Z")

    @property
    def session(self) -> str:
        return self.playback_session_id or ""

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PlaybackEvent:
        """From the record as the Avro decoder gives it (timestamp-millis fields as aware datetimes); a record
        missing a field or holding a wrong value raises ValueError."""
        try:
            return cls(
                event_id=str(record["event_id"]),
                user_id=str(record["user_id"]),
                movie_id=str(record["movie_id"]),
                type=str(record["type"]),
                position_ms=int(record["position_ms"]),
                client_time_ms=_millis(record["client_time"]),
                server_time_ms=_millis(record["server_time"]),
                device=record.get("device"),
                playback_session_id=record.get("playback_session_id"),
            )
        except KeyError as missing:
            raise ValueError(f"a playback event record needs {missing}") from None


def _millis(value: object) -> int:
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, int):
        return value
    raise ValueError(f"a playback event time must be a datetime or epoch milliseconds, got {value!r}")
