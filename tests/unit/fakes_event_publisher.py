"""An in-memory EventPublisher that keeps the port's promises, for service-layer tests: events are kept per
partition of their user (Kafka's partitioner), in order; a call is taken whole or, when told to fail, not at all;
a republished event is kept again (at least once)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.partitioner import partition_for
from ugc_svc.domain.playback import PlaybackEvent


class FakeEventPublisher:
    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self.topic: dict[int, list[PlaybackEvent]] = defaultdict(list)
        self.calls: list[int] = []
        # While set, every call raises Unavailable and publishes nothing (the bus is down).
        self.unavailable = False
        self.closed = False

    async def publish(self, events: Sequence[PlaybackEvent]) -> None:
        if self.closed:
            raise FailedPrecondition("publish after close")
        self.calls.append(len(events))
        if self.unavailable:
            raise Unavailable("the fake bus is down")
        for event in events:
            self.topic[partition_for(event.user_id.encode(), self.partitions)].append(event)

    async def close(self) -> None:
        self.closed = True

    @property
    def events(self) -> list[PlaybackEvent]:
        """Everything on the bus, partition by partition."""
        return [event for partition in sorted(self.topic) for event in self.topic[partition]]

    def of_user(self, user_id: str) -> list[PlaybackEvent]:
        return [e for e in self.topic[partition_for(user_id.encode(), self.partitions)] if e.user_id == user_id]
