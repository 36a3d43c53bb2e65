"""Playback events as the bus carries them: UTC at millisecond precision, checked at construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ugc_svc.domain.playback import EventType, PlaybackEvent

MOSCOW = timezone(timedelta(hours=3))


def make(**overrides: object) -> PlaybackEvent:
    fields: dict[str, object] = {
        "event_id": "e1",
        "user_id": "u1",
        "movie_id": "tt0000001",
        "type": EventType.PLAY,
        "position_ms": 0,
        "client_time": datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=MOSCOW),
        "server_time": datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC),
    }
    fields.update(overrides)
    return PlaybackEvent(**fields)  # type: ignore[arg-type]


def test_times_are_kept_in_utc_at_millisecond_precision() -> None:
    event = make()
    assert event.client_time == datetime(2026, 12, 1, 9, 0, 0, 123000, tzinfo=UTC)
    assert event.client_time.tzinfo is UTC


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        make(client_time=datetime(2026, 12, 1, 12, 0))


@pytest.mark.parametrize("field", ["event_id", "user_id", "movie_id"])
def test_ids_must_not_be_empty(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make(**{field: ""})


def test_a_negative_position_is_refused() -> None:
    with pytest.raises(ValueError, match="position_ms"):
        make(position_ms=-1)


def test_the_type_is_one_of_the_five() -> None:
    assert make(type="seek_back").type is EventType.SEEK_BACK
    assert [t.value for t in EventType] == ["play", "pause", "stop", "seek_forward", "seek_back", "progress"]
    with pytest.raises(ValueError, match="rewind"):
        make(type="rewind")


def test_events_are_frozen() -> None:
    with pytest.raises(AttributeError):
        make().position_ms = 5  # type: ignore[misc]
