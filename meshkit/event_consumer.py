"""Port: reading an event bus in a consumer group (Kafka in production, the embedded log otherwise).

The sink and UGC's projections read the bus through it; `meshkit.kafka_event_consumer` and
`meshkit.sqlite_event_consumer` are its adapters, `tests/contract/test_event_consumer.py` checks both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from meshkit.errors import FailedPrecondition

Headers = tuple[tuple[str, bytes], ...]
"""A record's headers in the order they were written; a name may repeat (as in Kafka)."""


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int
    """When the bus took the record (Kafka: the producer's create time unless the topic says otherwise)."""
    headers: Headers = ()

    @property
    def topic_partition(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


@dataclass(frozen=True, slots=True)
class ConsumerHealth:
    healthy: bool
    detail: str
    """Why it is not healthy (or what it is connected to): for logs and readiness, not for code."""


class CommitRefused(FailedPrecondition):
    """The member does not own a partition it tried to commit: a rebalance or its expired session gave it to
    another member, which starts after the last commit that was accepted. Nothing of the refused call was committed;
    the work behind it will be done again by the new owner (consumers are idempotent), so drop it."""


class RebalanceListener(Protocol):
    """What a member is told when the group moves partitions. Each call runs inside `poll` (or `close`), on the
    caller's event loop, and `poll` waits for it: no other member reads those partitions before it returns."""

    async def assigned(self, partitions: Collection[TopicPartition]) -> None:
        """These partitions are now this member's; reading them starts after the group's last commit."""

    async def revoked(self, partitions: Collection[TopicPartition]) -> None:
        """These partitions are about to go to another member. They are still owned while this runs: flush the
        work done on them and commit it, or drop it (the next owner reads it again after the last commit)."""

    async def lost(self, partitions: Collection[TopicPartition]) -> None:
        """These partitions were taken away already (the session expired: the member did not poll within its
        session timeout): another member may be reading them, and a commit for them is refused. Drop the work."""


class EventConsumer(Protocol):
    """One member of a consumer group reading topics of the bus, at least once.

    Semantics every adapter keeps (tests/contract/test_event_consumer.py checks them on both):
    - groups: members of one group (same group id, same bus) split the partitions of the topics they subscribe
      to; each partition has at most one owner at a time. When a member joins or leaves, partitions move: the
      owner hears `revoked` inside its own `poll` before the next owner can read them, the new owner hears
      `assigned`. Members of different groups read independently.
    - order: records of one partition come in offset order, each once per ownership, starting at the group's
      committed offset (a new group: the earliest record on the bus).
    - commit: only `commit` moves the group's offset (nothing is committed automatically), to exactly the
      offsets given: the next offset to read, i.e. the last processed record's offset + 1. Commit only what is
      durable. What was read but not committed is delivered again to whoever owns the partition next (this
      member after a restart, or another one). A commit for a partition the member does not own (any more) raises
      CommitRefused and commits nothing of the call.
    - sessions: a member that does not poll for its session timeout (stopped, stuck, killed) loses its
      partitions; the others take them over. The member itself hears `lost` at its next poll and rejoins.
    - bounded: `poll` returns at most `max_records` records, as soon as some are there, or an empty list once
      `max_wait` has passed; it never waits longer than `max_wait` plus what the listener's calls take (and, on
      the embedded log, its lock timeout; on Kafka, the first poll after a commit failed with the bus down may
      also wait out that commit's request, up to the request timeout).
    - the bus down: like Kafka's own clients, a consumer never gives up on the bus: `poll` keeps returning
      (empty) within its bound and retries in the background, `health()` reports not healthy with the reason
      until the bus answers again. `commit` and `lag`, which must answer now, raise meshkit.errors.Unavailable
      within the adapter's request timeout (give or take a second or two).
    - not thread-safe: one task drives a consumer, calling poll, commit and lag one at a time; the listener may
      call `commit` (and `assignment`) while `poll` waits for it.
    """

    async def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        """Join the group for these topics (once, before the first poll); the topics must exist."""

    async def poll(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        """The next records of the owned partitions, running the listener's calls a rebalance needs."""

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Record, durably, that the group has processed each partition up to the offset (exclusive)."""

    def assignment(self) -> frozenset[TopicPartition]:
        """The partitions this member owns now."""

    async def lag(self) -> dict[TopicPartition, int]:
        """For each owned partition, how many records are on the bus beyond this member's position (the next
        record `poll` would return): the high watermark minus the position."""

    def health(self) -> ConsumerHealth:
        """Whether the bus answered the last time the consumer needed it."""

    async def close(self) -> None:
        """Leave the group (the listener hears `revoked` for what the member owns), then release the bus."""
