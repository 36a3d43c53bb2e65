"""RecordPublisher on the embedded log: one transaction per call, headers kept beside each record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from meshkit.embedded_log import EmbeddedLog, Entry
from meshkit.errors import Unavailable
from meshkit.record_publisher import OutgoingRecord

# How long after SQLite's own lock timeout the loop stops waiting for an append.
_GUARD_SLACK_SECONDS = 1.0


class SqliteRecordPublisher:
    def __init__(self, log: EmbeddedLog, timeout: float) -> None:
        self._log = log
        self._timeout = timeout

    @classmethod
    async def open(cls, path: Path, *, ack_timeout: float) -> SqliteRecordPublisher:
        """The publisher on the log at `path` (created when missing); Unavailable when it cannot be opened."""
        log = await asyncio.to_thread(EmbeddedLog, path, busy_timeout=ack_timeout)
        return cls(log, ack_timeout)

    async def publish(self, topic: str, records: Sequence[OutgoingRecord]) -> None:
        if not records:
            return
        entries = [Entry(r.key, r.value, r.headers) for r in records]
        append = asyncio.to_thread(self._log.append_entries, topic, entries, time.time_ns() // 1_000_000)
        try:
            async with asyncio.timeout(self._timeout + _GUARD_SLACK_SECONDS):
                await append
        except TimeoutError:
            raise Unavailable(f"the event log {self._log.path} took longer than {self._timeout:g} s") from None

    async def close(self) -> None:
        await asyncio.to_thread(self._log.close)
