"""The fake event bus keeps the port's promises, so service-layer tests built on it mean something."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshkit.errors import Unavailable
from tests.unit.fakes_event_publisher import FakeEventPublisher
from ugc_svc.domain.playback import EventType, PlaybackEvent
from ugc_svc.ports.event_publisher import EventPublisher

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def event(user: str, n: int) -> PlaybackEvent:
    return PlaybackEvent(f"{user}-{n}", user, "tt1", EventType.PLAY, n, NOW, NOW)


async def test_one_users_events_stay_in_order_across_calls() -> None:
    fake = FakeEventPublisher()
    bus: EventPublisher = fake  # mypy checks that the fake has the port's shape
    await bus.publish([event("a", 1), event("b", 1), event("a", 2)])
    await bus.publish([event("a", 3)])
    assert [e.event_id for e in fake.of_user("a")] == ["a-1", "a-2", "a-3"]
    assert len(fake.events) == 4


async def test_a_refused_call_publishes_nothing_and_a_retry_publishes_it_whole() -> None:
    fake = FakeEventPublisher()
    batch = [event("a", 1), event("b", 2)]
    fake.unavailable = True
    with pytest.raises(Unavailable):
        await fake.publish(batch)
    assert fake.events == []
    fake.unavailable = False
    await fake.publish(batch)
    await fake.publish(batch[:1])  # a client's retry: at least once, the bus keeps both
    assert sorted(e.event_id for e in fake.events) == ["a-1", "a-1", "b-2"]
    assert fake.calls == [2, 2, 1]
