"""EventConsumer on Kafka through confluent-kafka: a consumer group with the cooperative-sticky assignor, offsets
committed only when the caller says (`enable.auto.commit=false`), a new group starting at the earliest record,
and only committed transactions' records (`isolation.level=read_committed`).

librdkafka blocks, so poll and close run in one thread of ours. The rebalance callbacks run there, inside poll or
close: each hands the listener's coroutine to the caller's event loop and, while it waits for it, runs the
consumer calls the listener makes (a commit): a synchronous commit from any other thread while the callback runs
never completes (seen with librdkafka 2.16: the reply waits for the callback to return). Outside callbacks,
commit and lag run on the loop's executor, so a commit stuck on a coordinator that is down never delays a poll.
Sessions: both `session.timeout.ms` (a dead process) and `max.poll.interval.ms` (a live one that stopped polling) are
the session timeout the port speaks of; Kafka's broker refuses less than its `group.min.session.timeout.ms` (6 s by
default). Health comes from librdkafka's statistics (the group coordinator's connection state, every second)
and its error callback (all brokers down).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import queue
import time
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Message

from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.event_consumer import (
    CommitRefused,
    ConsumedRecord,
    ConsumerHealth,
    Headers,
    RebalanceListener,
    TopicPartition,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# What the coordinator says when this member's generation is over: it was fenced out of the group.
_FENCED = {
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.FENCED_INSTANCE_ID,
    KafkaError.STALE_MEMBER_EPOCH,
    KafkaError.FENCED_MEMBER_EPOCH,
}
_SLACK_SECONDS = 1.5


class KafkaEventConsumer:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        group: str,
        session_timeout: float,
        timeout: float,
        client_id: str = "cinemesh",
    ) -> None:
        """A member of `group` (it joins at `subscribe`). `timeout` bounds commit and lag. Nothing blocks here."""
        self._timeout = timeout
        self._group = group
        session_ms = int(session_timeout * 1000)
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": group,
                "client.id": client_id,
                "partition.assignment.strategy": "cooperative-sticky",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "session.timeout.ms": session_ms,
                "max.poll.interval.ms": session_ms,
                # A third of Kafka's default ratio (3 s of 45 s would be 1/15): rebalances start sooner after a join.
                "heartbeat.interval.ms": max(100, min(3000, session_ms // 6)),
                "socket.timeout.ms": max(1000, int(timeout * 1000)),
                "statistics.interval.ms": 1000,
                # A subscribed topic that does not exist yet (created by its first producer) is looked for again
                # this often, not after librdkafka's default 5 minutes.
                "topic.metadata.refresh.interval.ms": 5000,
                "stats_cb": self._on_stats,
                "error_cb": self._on_error,
                "logger": log,
            }
        )
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-event-consumer")
        self._inflight: concurrent.futures.Future[Any] | None = None
        # Consumer calls a listener makes while the consumer's thread waits for it; None wakes the thread up.
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._in_callback = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: RebalanceListener | None = None
        self._subscribed = False
        self._closed = False
        self._assigned: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._health = ConsumerHealth(False, f"connecting to {bootstrap_servers}")
        self._fatal: KafkaError | None = None
        # Set when librdkafka left the group because poll came too late: a revoke it then still delivers is for
        # partitions other members may own already (seen with librdkafka 2.16), so the listener hears `lost`.
        self._left_group = False
        self._max_poll_interval = session_timeout
        self._last_poll_end: float | None = None

    async def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self._subscribed:
            raise FailedPrecondition("this consumer has subscribed already")
        self._loop = asyncio.get_running_loop()
        self._listener = listener
        self._consumer.subscribe(
            list(topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        self._subscribed = True

    async def poll(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        if not self._subscribed:
            raise FailedPrecondition("subscribe first")
        self._loop = asyncio.get_running_loop()
        records: list[ConsumedRecord] = await self._in_own_thread(self._poll, max_records, max_wait)
        return records

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not offsets:
            return
        foreign = [tp for tp in offsets if tp not in self._assigned]
        if foreign:
            raise CommitRefused(f"this member of group {self._group!r} does not own {_named(foreign)}")
        partitions = [confluent_kafka.TopicPartition(t, p, offset) for (t, p), offset in offsets.items()]
        try:
            async with asyncio.timeout(self._timeout + _SLACK_SECONDS):
                results = await self._on_consumer_thread(self._commit, partitions)
        except TimeoutError:
            raise Unavailable(f"Kafka did not confirm the commit within {self._timeout:g} s") from None
        for result in results or []:
            if result.error is not None:
                self._raise_for(result.error, f"the commit of {result.topic}[{result.partition}]")

    def assignment(self) -> frozenset[TopicPartition]:
        return frozenset(self._assigned)

    async def lag(self) -> dict[TopicPartition, int]:
        owned = sorted(self._assigned)
        positions = dict(self._positions)
        try:
            async with asyncio.timeout(self._timeout + _SLACK_SECONDS):
                return await self._on_consumer_thread(self._lag, owned, positions)
        except TimeoutError:
            raise Unavailable(f"Kafka did not give the watermarks within {self._timeout:g} s") from None

    def health(self) -> ConsumerHealth:
        if self._fatal is not None:
            return ConsumerHealth(False, f"failed for good: {self._fatal.str()}")
        return self._health

    async def close(self) -> None:
        if self._closed:
            return
        self._loop = asyncio.get_running_loop()
        try:
            owned = frozenset(self._assigned)
            if owned and self._listener is not None:
                # The listener hears `revoked` before the member leaves: librdkafka's own revoke during close()
                # refuses commits (the handle is terminating), and until close() nobody else owns the partitions.
                await self._listener.revoked(owned)
        finally:
            self._closed = True
            try:
                await self._in_own_thread(self._consumer.close)
            finally:
                self._executor.shutdown(wait=False)

    # --- in the consumer's thread -------------------------------------------------------------------------------

    def _poll(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        try:
            return self._poll_once(max_records, max_wait)
        finally:
            self._last_poll_end = time.monotonic()

    def _poll_once(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        started = time.monotonic()
        if self._last_poll_end is not None and started - self._last_poll_end > 0.9 * self._max_poll_interval:
            # librdkafka leaves the group when the gap between polls passes max.poll.interval.ms, but tells so
            # only after the rebalance callbacks this poll runs: the rule is applied here first (a little early,
            # the safe side: work handed over as lost is redone by the next owner).
            self._left_group = True
        deadline = started + max_wait
        records: list[ConsumedRecord] = []
        # The first record as soon as it is there, then whatever else is already fetched, without waiting.
        while not records:
            remaining = deadline - time.monotonic()
            message = self._consumer.poll(max(0.0, remaining))
            if message is not None:
                self._take(message, records)
            if self._fatal is not None:
                raise Unavailable(f"the Kafka consumer failed for good: {self._fatal.str()}")
            if message is None or remaining <= 0:
                break
        if records and max_records > 1:
            for message in self._consumer.consume(max_records - 1, 0):
                self._take(message, records)
        return records

    def _take(self, message: Message, records: list[ConsumedRecord]) -> None:
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._MAX_POLL_EXCEEDED:
                self._left_group = True
            if error.fatal():
                self._fatal = error
            log.warning("Kafka consumer: %s", error.str())
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is None or partition is None or offset is None:
            return
        tp = TopicPartition(topic, partition)
        _, timestamp = message.timestamp()
        records.append(
            ConsumedRecord(
                topic,
                partition,
                offset,
                message.key(),
                message.value() or b"",
                timestamp,
                _headers(message),
            )
        )
        self._positions[tp] = offset + 1

    def _on_assign(self, _: Consumer, partitions: list[confluent_kafka.TopicPartition]) -> None:
        self._left_group = False
        tps = _tps(partitions)
        self._assigned |= tps
        if tps and self._listener is not None:
            self._run_on_loop(self._listener.assigned(frozenset(tps)))

    def _on_revoke(self, consumer: Consumer, partitions: list[confluent_kafka.TopicPartition]) -> None:
        if self._left_group:
            self._on_lost(consumer, partitions)
            return
        tps = _tps(partitions)
        try:
            if tps and self._listener is not None and not self._closed:
                # Still assigned while the listener runs: its commits for them go through.
                self._run_on_loop(self._listener.revoked(frozenset(tps)))
        finally:
            self._forget(tps)

    def _on_lost(self, _: Consumer, partitions: list[confluent_kafka.TopicPartition]) -> None:
        tps = _tps(partitions)
        self._forget(tps)
        if tps and self._listener is not None and not self._closed:
            self._run_on_loop(self._listener.lost(frozenset(tps)))

    def _forget(self, tps: Collection[TopicPartition]) -> None:
        for tp in tps:
            self._assigned.discard(tp)
            self._positions.pop(tp, None)

    def _run_on_loop(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run the listener's coroutine on the caller's loop (free: it awaits this thread) and wait for it, running
        the consumer calls it makes meanwhile."""
        assert self._loop is not None
        self._in_callback = True
        try:
            done = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
            done.add_done_callback(lambda _: self._jobs.put(None))
            while not done.done():
                job = self._jobs.get()
                if job is not None:
                    job()
        finally:
            self._in_callback = False
        done.result()

    def _on_stats(self, text: str) -> None:
        group = json.loads(text).get("cgrp") or {}
        state = group.get("state", "unknown")
        up = state == "up"
        detail = f"group coordinator {state}, join state {group.get('join_state', 'unknown')}"
        if up != self._health.healthy:
            log.info("Kafka consumer health: %s", detail)
        self._health = ConsumerHealth(up, detail)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error
            log.error("Kafka consumer failed for good: %s", error.str())
            return
        log.warning("Kafka consumer: %s", error.str())
        if error.code() == KafkaError._MAX_POLL_EXCEEDED:
            self._left_group = True
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._health = ConsumerHealth(False, error.str())

    # --- elsewhere ----------------------------------------------------------------------------------------------

    def _commit(self, partitions: list[confluent_kafka.TopicPartition]) -> list[confluent_kafka.TopicPartition] | None:
        try:
            return self._consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:
            self._raise_for(exc.args[0], f"the commit of {_named(_tps(partitions))}")
            raise  # unreachable: _raise_for always raises

    def _lag(self, owned: list[TopicPartition], positions: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        lags = {}
        try:
            for tp in owned:
                low, high = self._consumer.get_watermark_offsets(
                    confluent_kafka.TopicPartition(tp.topic, tp.partition), timeout=self._timeout
                )
                position = positions.get(tp)
                if position is None:
                    # Nothing read yet since it was assigned: the next read starts at the commit, else the start.
                    (committed,) = self._consumer.committed(
                        [confluent_kafka.TopicPartition(tp.topic, tp.partition)], timeout=self._timeout
                    )
                    position = committed.offset if committed.offset >= 0 else low
                lags[tp] = max(0, high - position)
        except KafkaException as exc:
            raise Unavailable(f"Kafka did not give the watermarks: {exc.args[0]}") from exc
        return lags

    def _raise_for(self, error: KafkaError, what: str) -> None:
        if error.code() in _FENCED:
            raise CommitRefused(
                f"{what} was refused: this member of group {self._group!r} was fenced out ({error.str()}); "
                f"its partitions belong to other members"
            )
        raise Unavailable(f"{what} failed: {error.str()}")

    async def _on_consumer_thread(self, call: Callable[..., T], *args: Any) -> T:
        """Run a commit or a lag query: on the consumer's thread as a job while a listener runs there (the only
        thread a commit then completes on), else on a thread of the loop's executor, so that one librdkafka
        does not answer in time (a commit waits for a coordinator that is down past any timeout we set: seen
        6 s with a 2 s socket timeout) never holds up the next poll."""
        if not self._in_callback:
            return await asyncio.to_thread(call, *args)
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

        def job() -> None:
            try:
                outcome.set_result(call(*args))
            except BaseException as exc:  # handed to the awaiting task
                outcome.set_exception(exc)

        self._jobs.put(job)
        return await asyncio.wrap_future(outcome)

    async def _in_own_thread(self, call: Any, *args: Any) -> Any:
        previous = self._inflight
        if previous is not None and not previous.done():
            # A poll whose caller was cancelled may still be running in the thread: the next call waits for it.
            await asyncio.wait([asyncio.wrap_future(previous)])
        self._inflight = self._executor.submit(call, *args)
        return await asyncio.wrap_future(self._inflight)


def _headers(message: Message) -> Headers:
    """Headers as written; a null value (Kafka allows one) reads as empty bytes."""
    headers = message.headers()
    if not headers:
        return ()
    pairs = headers.items() if isinstance(headers, dict) else headers
    return tuple((name, value.encode() if isinstance(value, str) else value or b"") for name, value in pairs)


def _tps(partitions: Collection[confluent_kafka.TopicPartition]) -> set[TopicPartition]:
    return {TopicPartition(p.topic, p.partition) for p in partitions}


def _named(partitions: Collection[TopicPartition]) -> str:
    return ", ".join(f"{topic}[{partition}]" for topic, partition in sorted(partitions))
