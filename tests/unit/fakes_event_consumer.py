"""An in-memory event bus with one-member consumer groups that keeps the EventConsumer port's promises a
single member sees: records per partition in offset order from the group's commit, commits only of owned
partitions (CommitRefused otherwise), nothing committed unless asked, a new member resuming after the last
commit, revoke on close; `take_away` plays a rebalance that moves partitions to another member (revoked inside
the next poll) and `expire` a lapsed session (lost at the next poll)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from meshkit.errors import Unavailable
from meshkit.event_consumer import (
    CommitRefused,
    ConsumedRecord,
    ConsumerHealth,
    RebalanceListener,
    TopicPartition,
)


class FakeBus:
    def __init__(self, topic: str, partitions: int = 2) -> None:
        self.topic = topic
        self.partitions = partitions
        self.records: dict[int, list[ConsumedRecord]] = defaultdict(list)
        self.committed: dict[TopicPartition, int] = {}
        self.commits = 0
        # While set, commit and lag raise Unavailable and poll returns nothing.
        self.down = False

    def append(self, partition: int, value: bytes, key: bytes = b"k") -> ConsumedRecord:
        offset = len(self.records[partition])
        record = ConsumedRecord(self.topic, partition, offset, key, value, 1_700_000_000_000 + offset)
        self.records[partition].append(record)
        return record


class FakeEventConsumer:
    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.listener: RebalanceListener | None = None
        self.owned: set[TopicPartition] = set()
        self.positions: dict[TopicPartition, int] = {}
        self.to_revoke: set[TopicPartition] = set()
        self.to_lose: set[TopicPartition] = set()
        self.closed = False
        self.subscribed = False

    async def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        assert topics == [self.bus.topic]
        self.listener = listener
        self.subscribed = True

    def take_away(self, partitions: Collection[TopicPartition]) -> None:
        self.to_revoke |= set(partitions)

    def expire(self) -> None:
        self.to_lose |= self.owned

    async def poll(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        assert self.subscribed
        assert not self.closed
        if self.bus.down:
            await asyncio.sleep(max_wait)
            return []
        if self.to_lose:
            lost, self.to_lose = self.to_lose & self.owned, set()
            self.owned -= lost
            if self.listener:
                await self.listener.lost(frozenset(lost))
        if self.to_revoke:
            revoked, self.to_revoke = self.to_revoke & self.owned, set()
            if self.listener:
                await self.listener.revoked(frozenset(revoked))
            self.owned -= revoked
        if not self.owned and not self.positions:
            self.owned = {TopicPartition(self.bus.topic, p) for p in range(self.bus.partitions)}
            for tp in self.owned:
                self.positions[tp] = self.bus.committed.get(tp, 0)
            if self.listener:
                await self.listener.assigned(frozenset(self.owned))
        got: list[ConsumedRecord] = []
        for tp in sorted(self.owned):
            fresh = self.bus.records[tp.partition][self.positions[tp] :][: max_records - len(got)]
            got += fresh
            self.positions[tp] += len(fresh)
        if not got:
            await asyncio.sleep(max_wait)  # nothing came within the wait
        return got

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not set(offsets) <= self.owned:
            raise CommitRefused(f"not owned: {set(offsets) - self.owned}")
        if self.bus.down:
            raise Unavailable("the fake bus is down")
        self.bus.committed.update(offsets)
        self.bus.commits += 1

    def assignment(self) -> frozenset[TopicPartition]:
        return frozenset(self.owned)

    async def lag(self) -> dict[TopicPartition, int]:
        return {tp: len(self.bus.records[tp.partition]) - self.positions[tp] for tp in self.owned}

    def health(self) -> ConsumerHealth:
        return ConsumerHealth(not self.bus.down, "fake")

    async def close(self) -> None:
        if self.owned and self.listener:
            await self.listener.revoked(frozenset(self.owned))
        self.owned.clear()
        self.closed = True
