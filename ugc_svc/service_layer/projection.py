"""Use case: keep a store in step with a topic of the event log, in the background (a projection).

One consumer group reads the topic; the bus gives each partition to one member at a time, so the store has one
writer per key (per user for positions, per movie for ratings), which FerretDB needs. For each poll: apply every
record in offset order, then commit the offsets after the last one applied. A crash between an apply and its
commit loses nothing: the records come again and every `apply` is idempotent by construction (an older report or
an applied offset changes nothing). A record that can never decode is logged, counted and passed over.

While the store is down a record is retried; past `max_retry_seconds` (kept below the consumer's session timeout,
so the partitions have not moved meanwhile) the projection leaves the group and joins again: what it had not
applied is delivered again after the last commit, to it or to another member. Records of one partition are never
applied out of order, nor one skipped because the store was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from meshkit.consumer_metrics import report_lag
from meshkit.errors import InvalidArgument, Unavailable
from meshkit.event_consumer import CommitRefused, ConsumedRecord, EventConsumer, TopicPartition
from ugc_svc.ports.record_decoder import Undecodable

log = logging.getLogger(__name__)

ConsumerFactory = Callable[[], Awaitable[EventConsumer]]
Apply = Callable[[ConsumedRecord], Awaitable[None]]


class _Abandoned(Exception):
    """The store stayed down past the retry bound: the batch is left for the next owner."""


class LogProjection:
    def __init__(
        self,
        name: str,
        open_consumer: ConsumerFactory,
        apply: Apply,
        *,
        topic: str,
        group: str = "",
        lag_every_seconds: float = 5.0,
        max_records: int = 500,
        max_wait: float = 0.5,
        retry_seconds: float = 0.5,
        max_retry_seconds: float = 5.0,
    ) -> None:
        self.name = name
        self._open_consumer = open_consumer
        self._apply = apply
        self._topic = topic
        self._group = group
        self._lag_every = lag_every_seconds
        self._lag_reported_at = float("-inf")
        self._lag_partitions: set[TopicPartition] = set()
        self._max_records = max_records
        self._max_wait = max_wait
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._consumer: EventConsumer | None = None
        # Offsets applied to the store and not yet committed (the next offset to read, per partition).
        self._pending: dict[TopicPartition, int] = {}
        self._trouble: str | None = None
        self.applied = 0
        self.skipped = 0
        self.rejoined = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Project until `stop` is set; leaves the group on the way out (committing what was applied)."""
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except _Abandoned:
                    self.rejoined += 1
                    await self._leave()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._retry_seconds):
                            await stop.wait()
        finally:
            await self._leave()

    def problem(self) -> str | None:
        """Why the projection is not well now (its store or bus unreachable), for the service's health."""
        if self._trouble is not None:
            return self._trouble
        if self._consumer is not None:
            health = self._consumer.health()
            if not health.healthy:
                return f"the event bus: {health.detail}"
        return None

    async def step(self) -> None:
        """One poll: join if not a member, apply each record, commit what was applied."""
        consumer = await self._joined()
        records = await consumer.poll(self._max_records, self._max_wait)
        for record in records:
            await self._applied(record)
            self._pending[record.topic_partition] = record.offset + 1
        await self._commit(consumer, self._pending)
        await self._report_lag(consumer)

    # --- the listener the consumer calls inside poll ------------------------------------------------------------

    async def assigned(self, partitions: Collection[TopicPartition]) -> None:
        log.info("%s: projecting %s", self.name, _named(partitions))

    async def revoked(self, partitions: Collection[TopicPartition]) -> None:
        # Every record read from them is applied already (a poll's records are applied before the next): commit.
        if self._consumer is not None:
            await self._commit(self._consumer, {tp: o for tp, o in self._pending.items() if tp in partitions})
        for tp in partitions:
            self._pending.pop(tp, None)

    async def lost(self, partitions: Collection[TopicPartition]) -> None:
        log.warning("%s: lost %s; the next owner reads them after the last commit", self.name, _named(partitions))
        for tp in partitions:
            self._pending.pop(tp, None)

    # --- steps --------------------------------------------------------------------------------------------------

    async def _joined(self) -> EventConsumer:
        if self._consumer is None:
            consumer = await self._open_consumer()
            await consumer.subscribe([self._topic], self)
            self._consumer = consumer
        return self._consumer

    async def _leave(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            # close() runs `revoked`, which commits through self._consumer; it is unset by then, so commit here.
            await self._commit(consumer, self._pending)
            self._pending.clear()
            await consumer.close()

    async def _report_lag(self, consumer: EventConsumer) -> None:
        if time.monotonic() - self._lag_reported_at < self._lag_every:
            return
        self._lag_reported_at = time.monotonic()
        try:
            lags = await consumer.lag()
        except Unavailable as error:
            log.warning("%s: no lag from the bus: %s", self.name, error)
            return
        self._lag_partitions = report_lag(self._group, lags, self._lag_partitions)

    async def _applied(self, record: ConsumedRecord) -> None:
        started = time.monotonic()
        while True:
            try:
                await self._apply(record)
            except (Undecodable, InvalidArgument) as error:
                self.skipped += 1
                log.error(
                    "%s: passing over %s[%d]@%d: %s", self.name, record.topic, record.partition, record.offset, error
                )
                return
            except Unavailable as error:
                self._trouble = f"the store cannot be written: {error}"
                if time.monotonic() - started > self._max_retry_seconds:
                    log.warning("%s: the store stays down (%s); leaving the group to rejoin", self.name, error)
                    raise _Abandoned from error
                await asyncio.sleep(self._retry_seconds)
                continue
            self._trouble = None
            self.applied += 1
            return

    async def _commit(self, consumer: EventConsumer, offsets: dict[TopicPartition, int]) -> None:
        # A copy: `offsets` may be the pending map itself, which this empties.
        offsets = dict(offsets)
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except CommitRefused as refused:
            # Moved to another member, which reads them again after the last commit: the applies were idempotent.
            log.warning("%s: %s", self.name, refused)
            for tp in offsets:
                self._pending.pop(tp, None)
            return
        except Unavailable as error:
            log.warning("%s: commit failed, kept for the next batch: %s", self.name, error)
            return
        for tp, offset in offsets.items():
            if self._pending.get(tp) == offset:
                del self._pending[tp]


def _named(partitions: Collection[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(partitions)) or "nothing"
