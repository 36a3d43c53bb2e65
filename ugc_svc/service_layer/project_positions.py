"""Use case: project the playback events on the event log into resume positions, in the background.

One consumer group reads the topic; the bus gives each partition (so each user) to one member at a time, so one
writer per user updates the store, which FerretDB needs (its conditional updates are not atomic). For each batch:
poll → decode → `ResumePositions.record` for each event → commit the offsets after the writes. A crash between a
write and its commit loses nothing: the records come again and `record` is idempotent (an equal or older report
changes nothing). A record that can never decode is logged, counted and passed over.

While the store is down a batch is retried; past `max_retry_seconds` (kept below the consumer's session timeout,
so the partitions have not moved meanwhile) the projection leaves the group and joins again: what it had not
written is delivered again after the last commit, to it or to another member.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from meshkit.consumer_metrics import report_lag
from meshkit.errors import InvalidArgument, Unavailable
from meshkit.event_consumer import CommitRefused, ConsumedRecord, EventConsumer, TopicPartition
from ugc_svc.domain.resume import position_of
from ugc_svc.ports.event_decoder import EventDecoder, UndecodableEvent
from ugc_svc.ports.resume_positions import ResumePositions

log = logging.getLogger(__name__)

ConsumerFactory = Callable[[], Awaitable[EventConsumer]]


class _Abandoned(Exception):
    """The store stayed down past the retry bound: the batch is left for the next owner."""


class PositionProjection:
    def __init__(
        self,
        open_consumer: ConsumerFactory,
        decoder: EventDecoder,
        positions: ResumePositions,
        *,
        topic: str,
        group: str = "",
        lag_every_seconds: float = 5.0,
        max_records: int = 500,
        max_wait: float = 0.5,
        retry_seconds: float = 0.5,
        max_retry_seconds: float = 5.0,
    ) -> None:
        self._open_consumer = open_consumer
        self._decoder = decoder
        self._positions = positions
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
        # Offsets written to the store and not yet committed (the next offset to read, per partition).
        self._pending: dict[TopicPartition, int] = {}
        self.projected = 0
        self.skipped = 0
        self.rejoined = 0

    async def run(self) -> None:
        """Project until cancelled; leaves the group on the way out (committing what was written)."""
        try:
            while True:
                try:
                    await self.step()
                except _Abandoned:
                    self.rejoined += 1
                    await self._leave()
                    await asyncio.sleep(self._retry_seconds)
        finally:
            await self._leave()

    async def step(self) -> None:
        """One batch: join if not a member, poll, write each event, commit what was written."""
        consumer = await self._joined()
        records = await consumer.poll(self._max_records, self._max_wait)
        for record in records:
            await self._project(record)
            self._pending[record.topic_partition] = record.offset + 1
        await self._commit(consumer, self._pending)
        await self._report_lag(consumer)

    # --- the listener the consumer calls inside poll ------------------------------------------------------------

    async def assigned(self, partitions: Collection[TopicPartition]) -> None:
        log.info("resume positions: projecting %s", _named(partitions))

    async def revoked(self, partitions: Collection[TopicPartition]) -> None:
        # Every record read from them is written already (a batch is written before the next poll): commit it.
        if self._consumer is not None:
            await self._commit(self._consumer, {tp: o for tp, o in self._pending.items() if tp in partitions})
        for tp in partitions:
            self._pending.pop(tp, None)

    async def lost(self, partitions: Collection[TopicPartition]) -> None:
        log.warning("resume positions: lost %s; the next owner reads them after the last commit", _named(partitions))
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
            # close() runs `revoked`, which commits what was written; self._consumer is unset by then, so the
            # commit goes here instead.
            await self._commit(consumer, self._pending)
            self._pending.clear()
            await consumer.close()

    async def _report_lag(self, consumer: EventConsumer) -> None:
        if time.monotonic() - self._lag_reported_at < self._lag_every:
            return
        self._lag_reported_at = time.monotonic()
        try:
            lags = await consumer.lag()
        except Unavailable as exc:
            log.warning("resume positions: no lag from the bus: %s", exc)
            return
        self._lag_partitions = report_lag(self._group, lags, self._lag_partitions)

    async def _project(self, record: ConsumedRecord) -> None:
        started = time.monotonic()
        while True:
            try:
                event = await self._decoder.decode(record.value)
                await self._positions.record(position_of(event))
            except (UndecodableEvent, InvalidArgument) as exc:
                self.skipped += 1
                log.error(
                    "resume positions: passing over %s[%d]@%d: %s", record.topic, record.partition, record.offset, exc
                )
                return
            except Unavailable as exc:
                if time.monotonic() - started > self._max_retry_seconds:
                    log.warning("resume positions: the store stays down (%s); leaving the group to rejoin", exc)
                    raise _Abandoned from exc
                await asyncio.sleep(self._retry_seconds)
                continue
            self.projected += 1
            return

    async def _commit(self, consumer: EventConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except CommitRefused as exc:
            # Moved to another member, which reads them again after the last commit: the writes were idempotent.
            log.warning("resume positions: %s", exc)
            for tp in offsets:
                self._pending.pop(tp, None)
            return
        except Unavailable as exc:
            log.warning("resume positions: commit failed, kept for the next batch: %s", exc)
            return
        for tp, offset in list(offsets.items()):
            if self._pending.get(tp) == offset:
                del self._pending[tp]


def _named(partitions: Collection[TopicPartition]) -> str:
    return ", ".join(f"{topic}[{partition}]" for topic, partition in sorted(partitions)) or "nothing"
