"""Port: the event bus playback events are published to (Kafka in production, the embedded log otherwise)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ugc_svc.domain.playback import PlaybackEvent


class EventPublisher(Protocol):
    """Publishes playback events to the playback topic, Avro in Confluent's wire format with the bundled schema
    (`protos/avro/playback_event.avsc`), so any consumer decodes them by the schema id in each record.

    Semantics every adapter keeps (tests/contract/test_event_publisher.py checks them on both):
    - durable before it returns: `publish` returns only once the bus has acknowledged every event of the call
      (Kafka: acks=all from the in-sync replicas; the embedded log: committed and synced to disk).
    - bounded: when the bus cannot take them (down, unreachable, locked, full), `publish` raises
      meshkit.errors.Unavailable once the adapter's configured timeout has passed without an acknowledgement
      (give or take the engine's timer, a second or two); it never hangs. After Unavailable
      some, all or none of the events may be on the bus: the caller retries the whole call.
    - at least once: a retried call (or a client resending an event) may put an event on the bus twice.
      Consumers deduplicate by `event_id`; nothing on the bus is ever silently dropped.
    - keyed by user: the message key is the user id (UTF-8) and picks the partition (Kafka's murmur2), so one
      user's events stay in one partition, in the order they were given (within a call and across calls that
      do not overlap).
    - whole batches: the embedded log appends a call's events in one transaction, all or none. Kafka, without
      transactions, cannot make a batch atomic: each partition takes its part on its own, so a failed call may
      leave part of the batch on the topic; a successful call has put all of it there. Retrying until success
      (with dedup by event_id downstream) gives the whole batch, once per event id.
    """

    async def publish(self, events: Sequence[PlaybackEvent]) -> None: ...

    async def close(self) -> None:
        """Wait for what is in flight (bounded by the same timeout), then release the connection."""
