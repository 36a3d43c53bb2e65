"""EventConsumer on the embedded log (`meshkit.embedded_log`), groups kept in the same file
(`meshkit.embedded_group`).

Each poll runs one group step (renew the session, give up and take partitions), then reads the owned partitions
from this member's positions; with nothing there it looks again every `poll_interval` until `max_wait` has passed.
SQLite calls run in a thread; the log's lock wait (`timeout`) bounds each of them. A log that cannot be used makes
poll return empty and health() report it, as Kafka's consumer does with brokers down; commit and lag raise
Unavailable.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from meshkit import embedded_group
from meshkit.embedded_group import Member, Plan
from meshkit.embedded_log import EmbeddedLog
from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.event_consumer import (
    CommitRefused,
    ConsumedRecord,
    ConsumerHealth,
    RebalanceListener,
    TopicPartition,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_GUARD_SLACK_SECONDS = 1.0


class SqliteEventConsumer:
    def __init__(
        self, log_: EmbeddedLog, *, group: str, session_timeout: float, timeout: float, poll_interval: float = 0.05
    ) -> None:
        """Use `open`. `session_timeout`: a member silent this long loses its partitions; `timeout`: the most one
        SQLite call waits for another process's write lock."""
        self._log = log_
        self._group = group
        self._session_timeout_ms = int(session_timeout * 1000)
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._member: Member | None = None
        self._listener: RebalanceListener | None = None
        self._owned: dict[TopicPartition, int] = {}
        self._positions: dict[TopicPartition, int] = {}
        self._last_renewal_ms = 0
        self._next_first = 0
        self._health = ConsumerHealth(True, f"event log {log_.path}")

    @classmethod
    async def open(
        cls, path: Path, *, group: str, session_timeout: float, lock_timeout: float, poll_interval: float = 0.05
    ) -> SqliteEventConsumer:
        """A member of `group` on the log at `path`; Unavailable when the file cannot be opened."""
        opened = await asyncio.to_thread(EmbeddedLog, path, busy_timeout=lock_timeout)
        return cls(
            opened, group=group, session_timeout=session_timeout, timeout=lock_timeout, poll_interval=poll_interval
        )

    @property
    def member_id(self) -> str | None:
        return None if self._member is None else self._member.member_id

    async def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self._member is not None:
            raise FailedPrecondition("this consumer has subscribed already")
        member = Member(self._group, uuid.uuid4().hex, tuple(topics), self._session_timeout_ms)
        now = _now_ms()
        await self._run(lambda: self._log.call(lambda db: embedded_group.join(db, member, now)))
        self._member, self._listener, self._last_renewal_ms = member, listener, now

    async def poll(self, max_records: int, max_wait: float) -> list[ConsumedRecord]:
        member = self._require_member()
        deadline = time.monotonic() + max_wait
        while True:
            try:
                now = _now_ms()
                owned = dict(self._owned)
                step = functools.partial(
                    embedded_group.step, member=member, owned=owned, now_ms=now, last_renewal_ms=self._last_renewal_ms
                )
                plan, renewed = await self._run(functools.partial(self._log.call, step))
                if renewed:
                    self._last_renewal_ms = now
                await self._apply(member, plan)
                records = await self._run(lambda: self._read(max_records))
                self._health = ConsumerHealth(True, f"event log {self._log.path}")
            except Unavailable as exc:
                # As Kafka's consumer does with its brokers down: keep trying, say so in health().
                if self._health.healthy:
                    log.warning("event log unavailable: %s", exc)
                self._health = ConsumerHealth(False, str(exc))
                records = []
            if records:
                return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await asyncio.sleep(min(self._poll_interval, remaining))

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        member = self._require_member()
        if not offsets:
            return
        foreign = [tp for tp in offsets if tp not in self._owned]
        if foreign:
            raise CommitRefused(
                f"member {member.member_id} of group {self._group!r} does not own "
                f"{embedded_group.partitions_of(foreign)}"
            )
        owned = dict(self._owned)
        now = _now_ms()
        await self._run(lambda: self._log.call(lambda db: embedded_group.commit(db, member, owned, offsets, now)))

    def assignment(self) -> frozenset[TopicPartition]:
        return frozenset(self._owned)

    async def lag(self) -> dict[TopicPartition, int]:
        positions = dict(self._positions)
        ends = await self._run(lambda: {tp: self._log.end_offset(tp.topic, tp.partition) for tp in positions})
        return {tp: max(0, ends[tp] - position) for tp, position in positions.items()}

    def health(self) -> ConsumerHealth:
        return self._health

    async def close(self) -> None:
        member = self._member
        try:
            if member is not None and self._owned:
                await self._revoke(member, dict(self._owned))
            if member is not None:
                await self._run(lambda: self._log.call(lambda db: embedded_group.leave(db, member)))
        except Unavailable as exc:
            # The others take the partitions over once this member's session has expired.
            log.warning("event log unavailable while leaving group %r: %s", self._group, exc)
        finally:
            self._member = None
            await asyncio.to_thread(self._log.close)

    # --- steps --------------------------------------------------------------------------------------------------

    async def _apply(self, member: Member, plan: Plan) -> None:
        if plan.lost:
            for tp in plan.lost:
                self._owned.pop(tp, None)
                self._positions.pop(tp, None)
            if self._listener is not None:
                await self._listener.lost(frozenset(plan.lost))
        if plan.revoke:
            await self._revoke(member, plan.revoke)
        if plan.acquired:
            for tp, (generation, committed) in plan.acquired.items():
                self._owned[tp] = generation
                # A group's first read starts at the earliest record (Kafka's auto.offset.reset=earliest).
                self._positions[tp] = 0 if committed is None else committed
            if self._listener is not None:
                await self._listener.assigned(frozenset(plan.acquired))

    async def _revoke(self, member: Member, partitions: Mapping[TopicPartition, int]) -> None:
        try:
            if self._listener is not None:
                # Still owned while the listener runs: it may commit them.
                await self._listener.revoked(frozenset(partitions))
        finally:
            for tp in partitions:
                self._owned.pop(tp, None)
                self._positions.pop(tp, None)
            await self._run(lambda: self._log.call(lambda db: embedded_group.release(db, member, partitions)))

    def _read(self, max_records: int) -> list[ConsumedRecord]:
        """Up to `max_records` from the owned partitions, starting with a different one each time (fairness)."""
        partitions = sorted(self._positions)
        if not partitions:
            return []
        first = self._next_first % len(partitions)
        self._next_first += 1
        records: list[ConsumedRecord] = []
        for tp in partitions[first:] + partitions[:first]:
            if len(records) >= max_records:
                break
            for row in self._log.read(tp.topic, tp.partition, self._positions[tp], limit=max_records - len(records)):
                records.append(
                    ConsumedRecord(
                        row.topic, row.partition, row.offset, row.key, row.value, row.timestamp_ms, row.headers
                    )
                )
                self._positions[tp] = row.offset + 1
        return records

    async def _run(self, call: Callable[[], T]) -> T:
        work = asyncio.to_thread(call)
        try:
            # SQLite gives up on another writer's lock after `timeout`; this guard also bounds a wait behind this
            # process's own calls on the shared connection.
            async with asyncio.timeout(self._timeout + _GUARD_SLACK_SECONDS):
                return await work
        except TimeoutError:
            raise Unavailable(f"the event log {self._log.path} took longer than {self._timeout:g} s") from None

    def _require_member(self) -> Member:
        if self._member is None:
            raise FailedPrecondition("subscribe first")
        return self._member


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
