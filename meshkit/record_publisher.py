"""Port: publishing records that are bytes already (key, value, headers) to any topic of the bus.

For what forwards records rather than making them: the sink's dead-letter topic (the record as it came, the reason
in headers), and tests. Adapters: `meshkit.kafka_record_publisher`, `meshkit.sqlite_record_publisher`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from meshkit.event_consumer import Headers


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    key: bytes
    """Picks the partition (Kafka's murmur2, `meshkit.partitioner`), the same on both buses."""
    value: bytes
    headers: Headers = ()


class RecordPublisher(Protocol):
    """Publishes records to a topic that exists (FailedPrecondition on the embedded log when it does not; Kafka
    times out as below).

    The promises of ugc_svc/ports/event_publisher.py hold here too: durable before `publish` returns (Kafka
    acks=all, idempotent producer; the embedded log synced to disk), Unavailable once the adapter's timeout has
    passed without an acknowledgement (and then some, all or none of the call may be on the bus), at least once,
    one key's records in order in the partition of their key, a call whole on the embedded log.
    """

    async def publish(self, topic: str, records: Sequence[OutgoingRecord]) -> None: ...

    async def close(self) -> None:
        """Wait for what is in flight (bounded by the same timeout), then release the bus."""
