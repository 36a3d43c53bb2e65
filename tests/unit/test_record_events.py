"""Recording playback events: checked whole, published through the bus port, answered only after the bus
acknowledged; a refused batch publishes nothing; a bus that is down is Unavailable, not a lost batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meshkit.errors import InvalidArgument, Unavailable
from tests.unit.fakes_event_publisher import FakeEventPublisher
from ugc_svc.domain.event_batch import SubmittedEvent
from ugc_svc.service_layer.record_events import record_playback_events

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def event(event_id: str = "", position_ms: int = 0, movie_id: str = "tt1") -> SubmittedEvent:
    return SubmittedEvent(event_id, movie_id, "pause", position_ms, NOW - timedelta(seconds=1))


async def record(publisher: FakeEventPublisher, *events: SubmittedEvent, user_id: str = "u-1") -> list[str]:
    generated = iter(["g-1", "g-2", "g-3"])
    return await record_playback_events(
        events, user_id=user_id, publisher=publisher, clock=lambda: NOW, new_event_id=lambda: next(generated)
    )


async def test_a_batch_is_published_for_the_user_and_its_ids_returned_in_order() -> None:
    bus = FakeEventPublisher()
    ids = await record(bus, event("client-1", 10), event("", 20), event("client-3", 30))
    assert ids == ["client-1", "g-1", "client-3"]
    assert bus.calls == [3]
    published = bus.of_user("u-1")
    assert [(e.event_id, e.position_ms, e.user_id, e.server_time) for e in published] == [
        ("client-1", 10, "u-1", NOW),
        ("g-1", 20, "u-1", NOW),
        ("client-3", 30, "u-1", NOW),
    ]


async def test_a_batch_with_one_bad_event_publishes_nothing() -> None:
    bus = FakeEventPublisher()
    with pytest.raises(InvalidArgument) as refused:
        await record(bus, event("a"), event("b", -5), event("c", movie_id=""))
    assert [v.field for v in refused.value.violations] == ["events[1].position_ms", "events[2].movie_id"]
    assert bus.calls == []
    assert bus.events == []


async def test_a_bus_that_is_down_is_unavailable_and_a_retry_with_the_same_ids_succeeds() -> None:
    bus = FakeEventPublisher()
    bus.unavailable = True
    with pytest.raises(Unavailable):
        await record(bus, event("r-1"), event("r-2"))
    assert bus.events == []
    bus.unavailable = False
    assert await record(bus, event("r-1"), event("r-2")) == ["r-1", "r-2"]
    assert [e.event_id for e in bus.events] == ["r-1", "r-2"]
