"""Port: what the loader reports about its work, for dashboards and alerts (Prometheus in the service)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from meshkit.event_consumer import TopicPartition
from sink_svc.domain.event_batch import EventBatch


class LoadMetrics(Protocol):
    def batch(
        self, batch: EventBatch, dead_letter_reasons: Sequence[str], insert_seconds: float, freshness: Sequence[float]
    ) -> None:
        """A batch committed: its events, the reason of each of its records sent to the dead-letter topic, how long
        the insert took, and for each event the seconds from its server time to now (the rows are visible)."""

    def lag(self, lag: Mapping[TopicPartition, int]) -> None:
        """Records on the bus beyond the consumer's position, per owned partition."""

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        """These partitions are not this member's any more: their lag is not reported by it."""
