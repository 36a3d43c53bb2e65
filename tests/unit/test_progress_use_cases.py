"""Setting and reading progress over fakes that keep the ports' promises: a set report goes to the bus as a
`progress` event carrying everything the position needs (the projection writes it); reads come from the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meshkit.errors import InvalidArgument, NotFound, Unavailable
from tests.unit.fakes_event_publisher import FakeEventPublisher
from tests.unit.fakes_resume_positions import FakeResumePositions
from ugc_svc.domain.playback import EventType
from ugc_svc.domain.resume import ResumePosition, position_of
from ugc_svc.service_layer.progress import ProgressReport, get_progress, set_progress

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def report(**overrides: object) -> ProgressReport:
    fields: dict[str, object] = {
        "movie_id": "tt1",
        "position_ms": 60_000,
        "duration_ms": 100_000,
        "finished": False,
        "client_time": NOW - timedelta(seconds=5),
        "device": "tv",
    }
    fields.update(overrides)
    return ProgressReport(**fields)  # type: ignore[arg-type]


async def test_a_report_is_published_as_a_progress_event_that_projects_to_the_same_position() -> None:
    bus, store = FakeEventPublisher(), FakeResumePositions()
    answered = await set_progress(
        report(), user_id="ann", publisher=bus, positions=store, clock=lambda: NOW, new_event_id=lambda: "r-1"
    )

    (event,) = bus.events
    assert (event.type, event.user_id, event.movie_id, event.position_ms) == (EventType.PROGRESS, "ann", "tt1", 60_000)
    assert (event.duration_ms, event.finished, event.device, event.event_id) == (100_000, False, "tv", "r-1")
    assert event.server_time == NOW
    # What the projection will store is what the call answered.
    assert position_of(event) == answered
    assert store.stored == {}


async def test_without_a_client_time_the_report_is_at_the_services_clock_and_the_credits_finish_it() -> None:
    bus = FakeEventPublisher()
    answered = await set_progress(
        report(client_time=None, position_ms=96_000),
        user_id="ann",
        publisher=bus,
        positions=FakeResumePositions(),
        clock=lambda: NOW,
    )
    assert answered.client_time == NOW
    assert answered.finished  # 96 % of the duration: in the credits


async def test_a_newer_stored_position_is_the_answer() -> None:
    store = FakeResumePositions()
    newer = ResumePosition("ann", "tt1", 90_000, NOW, NOW, "r-0", device="phone")
    await store.record(newer)
    answered = await set_progress(report(), user_id="ann", publisher=FakeEventPublisher(), positions=store)
    assert answered == newer


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"client_time": NOW - timedelta(days=8)}, "client_time"),
        ({"client_time": NOW + timedelta(minutes=6)}, "client_time"),
        ({"device": "x" * 129}, "device"),
        ({"movie_id": ""}, "movie_id"),
    ],
)
async def test_a_report_the_position_cannot_hold_is_refused_and_nothing_published(
    overrides: dict[str, object], field: str
) -> None:
    bus = FakeEventPublisher()
    with pytest.raises(InvalidArgument) as refused:
        await set_progress(
            report(**overrides), user_id="ann", publisher=bus, positions=FakeResumePositions(), clock=lambda: NOW
        )
    assert [v.field for v in refused.value.violations] == [field]
    assert bus.events == []


async def test_a_bus_that_cannot_take_it_is_unavailable() -> None:
    bus = FakeEventPublisher()
    bus.unavailable = True
    with pytest.raises(Unavailable):
        await set_progress(report(), user_id="ann", publisher=bus, positions=FakeResumePositions())


async def test_get_is_not_found_until_a_position_is_stored() -> None:
    store = FakeResumePositions()
    with pytest.raises(NotFound):
        await get_progress("tt1", user_id="ann", positions=store)
    stored = ResumePosition("ann", "tt1", 1_000, NOW, NOW, "r-1")
    await store.record(stored)
    assert await get_progress("tt1", user_id="ann", positions=store) == stored
    with pytest.raises(NotFound):
        await get_progress("tt1", user_id="bob", positions=store)
