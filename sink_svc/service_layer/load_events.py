"""Use case: load the playback topic into the analytics store, every event once in every answer, none lost.

The loop: poll records into per-partition buffers; a batch closes when the buffers hold `max_events` records or
the oldest has waited `max_seconds`. Closing it, for each partition: decode every record (poison → the
dead-letter topic, acknowledged first), insert the events as one batch named by its offsets, and only then
commit the offsets after the last record. A crash anywhere before the commit means the records are read again
and inserted again, which the analytics store makes harmless (its reads count each event id once); nothing
after a commit is ever needed again.

Rebalances: partitions being revoked are flushed (decoded, inserted, committed) inside the revoke, while this
member still owns them; partitions lost (the session expired) are dropped from the buffers, since their new
owner reads them again after the last commit.

The store or the registry down: the batch is retried with growing pauses until it goes in or the service stops
(then it is abandoned, not committed). No poll happens meanwhile, so records wait on the bus, not in memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from meshkit.avro_wire import AvroSchema
from meshkit.errors import Unavailable
from meshkit.event_consumer import CommitRefused, ConsumedRecord, EventConsumer, TopicPartition
from meshkit.record_publisher import OutgoingRecord, RecordPublisher
from meshkit.writer_schemas import WriterSchemas
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.ports.load_metrics import LoadMetrics
from sink_svc.ports.playback_analytics import PlaybackAnalytics
from sink_svc.service_layer.decoding import Poison, RecordDecoder

log = logging.getLogger("sink.load")
T = TypeVar("T")


class _Abandoned(Exception):
    """The service is stopping while an engine cannot take the batch: it is left uncommitted, read again later."""


@dataclass(frozen=True)
class LoadSettings:
    topic: str
    dead_letter_topic: str
    max_events: int = 5000
    max_seconds: float = 0.5
    """How long the oldest buffered record may wait for its batch: the floor of freshness."""
    first_retry_seconds: float = 0.2
    max_retry_seconds: float = 5.0
    stuck_seconds: float = 60.0
    """No poll for this long while not retrying a batch: the loop is stuck, the service reports NOT_SERVING."""
    lag_every_seconds: float = 5.0


@dataclass
class _Buffers:
    records: dict[TopicPartition, list[ConsumedRecord]] = field(default_factory=dict)
    count: int = 0
    oldest: float | None = None

    def add(self, records: Sequence[ConsumedRecord], now: float) -> None:
        for record in records:
            self.records.setdefault(record.topic_partition, []).append(record)
        self.count += len(records)
        if records and self.oldest is None:
            self.oldest = now

    def take(self, partitions: Collection[TopicPartition] | None = None) -> dict[TopicPartition, list[ConsumedRecord]]:
        wanted = set(self.records) if partitions is None else set(partitions) & set(self.records)
        taken = {tp: self.records.pop(tp) for tp in sorted(wanted)}
        self.count -= sum(len(records) for records in taken.values())
        if not self.records:
            self.oldest = None
        return taken


class EventLoader:
    """The sink's consume → insert → commit loop, and the consumer group's rebalance listener."""

    def __init__(
        self,
        *,
        consumer: EventConsumer,
        analytics: PlaybackAnalytics,
        schemas: WriterSchemas,
        dead_letters: RecordPublisher,
        reader: AvroSchema,
        settings: LoadSettings,
        metrics: LoadMetrics,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._consumer = consumer
        self._analytics = analytics
        self._decoder = RecordDecoder(schemas, reader)
        self._dead_letters = dead_letters
        self._settings = settings
        self._metrics = metrics
        self._clock = clock
        self._wall_clock_ms = wall_clock_ms
        self._buffers = _Buffers()
        self._stop = asyncio.Event()
        self._last_poll = clock()
        self._retrying: str | None = None
        self._next_lag = 0.0

    # --- the loop ------------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        await self._consumer.subscribe([self._settings.topic], listener=self)
        try:
            while not stop.is_set():
                room = max(1, self._settings.max_events - self._buffers.count)
                records = await self._consumer.poll(room, self._wait())
                now = self._clock()
                self._last_poll = now
                self._buffers.add(records, now)
                if self._buffers.count >= self._settings.max_events or self._due(now):
                    await self._flush()
                if now >= self._next_lag:
                    self._next_lag = now + self._settings.lag_every_seconds
                    await self._observe_lag()
            # Stopping: what is buffered goes in (within the grace the server gives), then the group is left.
            await self._flush()
        finally:
            await self._consumer.close()

    def _wait(self) -> float:
        if self._buffers.oldest is None:
            return self._settings.max_seconds
        return max(0.0, self._buffers.oldest + self._settings.max_seconds - self._clock())

    def _due(self, now: float) -> bool:
        return self._buffers.oldest is not None and now - self._buffers.oldest >= self._settings.max_seconds

    def problem(self) -> str | None:
        """Why the loader is not well now, for the service's health; None when it is."""
        health = self._consumer.health()
        if not health.healthy:
            return f"the event bus: {health.detail}"
        if self._retrying is not None:
            return self._retrying
        silent = self._clock() - self._last_poll
        if silent > self._settings.stuck_seconds:
            return f"no poll for {silent:.0f} s"
        return None

    # --- the rebalance listener ----------------------------------------------------------------------------------

    async def assigned(self, partitions: Collection[TopicPartition]) -> None:
        log.info("partitions assigned: %s", _names(partitions), extra={"partitions": _names(partitions)})

    async def revoked(self, partitions: Collection[TopicPartition]) -> None:
        log.info("partitions revoked: %s; flushing them", _names(partitions), extra={"partitions": _names(partitions)})
        await self._flush(partitions)
        self._metrics.forget(partitions)

    async def lost(self, partitions: Collection[TopicPartition]) -> None:
        dropped = self._buffers.take(partitions)
        log.warning(
            "partitions lost: %s; %d buffered records dropped (their next owner reads them again)",
            _names(partitions),
            sum(len(records) for records in dropped.values()),
            extra={"partitions": _names(partitions)},
        )
        self._metrics.forget(partitions)

    # --- one batch -----------------------------------------------------------------------------------------------

    async def _flush(self, partitions: Collection[TopicPartition] | None = None) -> None:
        for tp, records in self._buffers.take(partitions).items():
            if not await self._load(tp, records):
                return  # stopping with the store down: nothing committed, everything read again next time

    async def _load(self, tp: TopicPartition, records: list[ConsumedRecord]) -> bool:
        """Decode, dead-letter, insert and commit one partition's records; False when abandoned by a stop."""
        try:
            decoded = await self._retrying_call("the schema registry", lambda: self._decode(records))
            events = [item for item in decoded if isinstance(item, PlaybackEvent)]
            poison = [item for item in decoded if isinstance(item, Poison)]
            if poison:
                await self._retrying_call("the dead-letter topic", lambda: self._dead_letter(poison))
            batch = EventBatch(tp.topic, tp.partition, records[0].offset, records[-1].offset, events)
            started = self._clock()
            if events:
                await self._retrying_call("the analytics store", lambda: self._analytics.insert(batch))
            insert_seconds = self._clock() - started
        except _Abandoned:
            return False
        try:
            await self._consumer.commit({tp: records[-1].offset + 1})
        except CommitRefused as refused:
            log.warning("commit refused, the batch will be loaded again by the partition's owner: %s", refused)
            return True
        except Unavailable as error:
            # The rows are in; the next owner (maybe this member) loads them again, which changes no answer.
            log.warning("commit failed, the batch will be loaded again: %s", error)
            return True
        freshness = [(self._wall_clock_ms() - event.server_time_ms) / 1000 for event in events]
        self._metrics.batch(batch, [item.reason.value for item in poison], insert_seconds, freshness)
        log.info(
            "batch loaded: %s/%d offsets %d-%d, %d events, %d dead-lettered, insert %.0f ms",
            tp.topic,
            tp.partition,
            batch.first_offset,
            batch.last_offset,
            len(events),
            len(poison),
            insert_seconds * 1000,
            extra={
                "topic": tp.topic,
                "partition": tp.partition,
                "first_offset": batch.first_offset,
                "last_offset": batch.last_offset,
                "events": len(events),
                "dead_lettered": len(poison),
                "insert_ms": round(insert_seconds * 1000, 1),
                "freshness_max_s": round(max(freshness), 3) if freshness else None,
            },
        )
        return True

    async def _decode(self, records: list[ConsumedRecord]) -> list[PlaybackEvent | Poison]:
        return await self._decoder.decode_all(records)

    async def _dead_letter(self, poison: list[Poison]) -> None:
        records = [
            OutgoingRecord(
                item.record.key or b"",
                item.record.value,
                (
                    *item.record.headers,
                    ("dlq.reason", item.reason.value.encode()),
                    ("dlq.detail", item.detail[:1000].encode()),
                    ("dlq.topic", item.record.topic.encode()),
                    ("dlq.partition", str(item.record.partition).encode()),
                    ("dlq.offset", str(item.record.offset).encode()),
                ),
            )
            for item in poison
        ]
        await self._dead_letters.publish(self._settings.dead_letter_topic, records)
        for item in poison:
            log.warning(
                "dead-lettered %s/%d@%d: %s (%s)",
                item.record.topic,
                item.record.partition,
                item.record.offset,
                item.reason.value,
                item.detail,
                extra={"reason": item.reason.value, "offset": item.record.offset},
            )

    async def _retrying_call(self, what: str, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """`call()` until it does not raise Unavailable, pausing longer each time; _Abandoned when the service stops
        meanwhile."""
        pause = self._settings.first_retry_seconds
        while True:
            try:
                result = await call()
            except Unavailable as error:
                if self._retrying is None:
                    log.error("%s cannot take the batch; retrying until it does: %s", what, error)
                self._retrying = f"{what} unavailable: {error}"
                if self._stop.is_set():
                    raise _Abandoned from error
                try:
                    async with asyncio.timeout(pause):
                        await self._stop.wait()
                except TimeoutError:
                    pass
                pause = min(pause * 2, self._settings.max_retry_seconds)
                continue
            if self._retrying is not None:
                log.info("%s took the batch again", what)
                self._retrying = None
            return result

    async def _observe_lag(self) -> None:
        try:
            lag = await self._consumer.lag()
        except Unavailable as error:
            log.warning("consumer lag unknown: %s", error)
            return
        self._metrics.lag(lag)


def _names(partitions: Collection[TopicPartition]) -> list[str]:
    return [f"{tp.topic}/{tp.partition}" for tp in sorted(partitions)]
