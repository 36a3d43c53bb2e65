"""A batch of playback events as a player submits it, and the rules that make it acceptable: every event is checked
and every broken rule reported at once, each named by its place in the batch (`events[3].position_ms`); a batch with
any broken rule is refused whole.

The contract declares the same rules (protos/cinemesh/ugc/v1/ugc.proto) and the server checks them before this code
runs; these checks hold for any caller, and tests/unit/test_event_batch.py keeps the two in agreement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from meshkit.errors import FieldViolation, InvalidArgument
from ugc_svc.domain.playback import PLAYER_TYPES, EventType, PlaybackEvent

MAX_BATCH = 500
MAX_ID_CHARS = 64
MAX_DEVICE_CHARS = 128
# Players that were offline send what they kept when they reconnect, up to a week later; a player's clock may run
# a little ahead of ours. Anything outside is a broken clock or a replay, and would mislead every consumer that
# orders by client time.
MAX_CLIENT_TIME_AGE = timedelta(days=7)
MAX_CLIENT_TIME_AHEAD = timedelta(minutes=5)
# Ids travel in URLs, logs and keys: letters, digits and a little punctuation, never blank.
_ID = re.compile(r"[A-Za-z0-9._:-]+")


@dataclass(frozen=True, slots=True)
class SubmittedEvent:
    """One event as the player sent it, nothing checked yet. An empty `event_id` asks the service for one."""

    event_id: str
    movie_id: str
    type: str
    position_ms: int
    client_time: datetime | None
    device: str | None = None
    session_id: str | None = None


def accept_batch(
    submitted: Sequence[SubmittedEvent],
    *,
    user_id: str,
    server_time: datetime,
    new_event_id: Callable[[], str],
) -> list[PlaybackEvent]:
    """The events to publish for `user_id`, received at `server_time`, in the order given; InvalidArgument naming
    every broken rule of the batch otherwise."""
    violations: list[FieldViolation] = []
    if not submitted:
        violations.append(FieldViolation("events", "must hold at least one event", "required"))
    if len(submitted) > MAX_BATCH:
        violations.append(FieldViolation("events", f"must hold at most {MAX_BATCH} events", "repeated.max_items"))
    for index, event in enumerate(submitted):
        violations.extend(_violations(f"events[{index}]", event, server_time))
    if violations:
        raise InvalidArgument(*violations)
    return [
        PlaybackEvent(
            event_id=event.event_id or new_event_id(),
            user_id=user_id,
            movie_id=event.movie_id,
            type=EventType(event.type),
            position_ms=event.position_ms,
            client_time=event.client_time,  # type: ignore[arg-type]  # checked above: never None here
            server_time=server_time,
            device=event.device,
            playback_session_id=event.session_id,
        )
        for event in submitted
    ]


def _violations(at: str, event: SubmittedEvent, server_time: datetime) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if event.event_id and not _is_id(event.event_id):
        found.append(FieldViolation(f"{at}.event_id", _ID_RULE, "string.pattern"))
    if not event.movie_id:
        found.append(FieldViolation(f"{at}.movie_id", _REQUIRED, "required"))
    elif not _is_id(event.movie_id):
        found.append(FieldViolation(f"{at}.movie_id", _ID_RULE, "string.pattern"))
    if not event.type:
        found.append(FieldViolation(f"{at}.type", _REQUIRED, "required"))
    elif event.type not in _TYPES:
        found.append(FieldViolation(f"{at}.type", f"must be one of {', '.join(_TYPES)}", "string.in"))
    if event.position_ms < 0:
        found.append(FieldViolation(f"{at}.position_ms", "must be greater than or equal to 0", "int32.gte"))
    found.extend(_client_time_violations(f"{at}.client_time", event.client_time, server_time))
    if event.device is not None and len(event.device) > MAX_DEVICE_CHARS:
        found.append(FieldViolation(f"{at}.device", f"must be at most {MAX_DEVICE_CHARS} characters", "string.max_len"))
    if event.session_id and not _is_id(event.session_id):
        found.append(FieldViolation(f"{at}.session_id", _ID_RULE, "string.pattern"))
    return found


def check_client_time(moment: datetime, server_time: datetime, field: str = "client_time") -> None:
    """InvalidArgument unless `moment` lies in the window a report's client time may (7 days back, 5 minutes on)."""
    violations = _client_time_violations(field, moment, server_time)
    if violations:
        raise InvalidArgument(*violations)


def _client_time_violations(at: str, moment: datetime | None, server_time: datetime) -> list[FieldViolation]:
    if moment is None:
        return [FieldViolation(at, _REQUIRED, "required")]
    if moment.tzinfo is None or moment.utcoffset() is None:
        return [FieldViolation(at, "must carry its time zone", "client_time.within_bounds")]
    if not server_time - MAX_CLIENT_TIME_AGE <= moment <= server_time + MAX_CLIENT_TIME_AHEAD:
        return [FieldViolation(at, CLIENT_TIME_RULE, "client_time.within_bounds")]
    return []


def _is_id(text: str) -> bool:
    return len(text) <= MAX_ID_CHARS and _ID.fullmatch(text) is not None


_TYPES = tuple(t.value for t in PLAYER_TYPES)
_REQUIRED = "value is required"
_ID_RULE = f"must be 1 to {MAX_ID_CHARS} letters, digits or ._:-"
CLIENT_TIME_RULE = "client_time must be at most 7 days in the past and 5 minutes in the future"
