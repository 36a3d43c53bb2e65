"""Use case: record a batch of playback events for the signed-in user."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ugc_svc.domain.event_batch import SubmittedEvent, accept_batch
from ugc_svc.ports.event_publisher import EventPublisher


def _now() -> datetime:
    return datetime.now(UTC)


def _new_event_id() -> str:
    return str(uuid.uuid4())


async def record_playback_events(
    submitted: Sequence[SubmittedEvent],
    *,
    user_id: str,
    publisher: EventPublisher,
    clock: Callable[[], datetime] = _now,
    new_event_id: Callable[[], str] = _new_event_id,
) -> list[str]:
    """Check the whole batch (InvalidArgument naming every broken rule, nothing published), publish it, and return
    the events' ids in the order given once the bus has acknowledged every one of them.

    The bus's Unavailable passes through: the caller retries the whole batch with the same ids, and consumers keep
    one event per id.
    """
    events = accept_batch(submitted, user_id=user_id, server_time=clock(), new_event_id=new_event_id)
    await publisher.publish(events)
    return [event.event_id for event in events]
