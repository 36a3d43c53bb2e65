"""EventPublisher on the embedded log (`meshkit.embedded_log`): a SQLite file in WAL mode that the sink reads too.

Records hold the bytes Kafka would: the event's Avro body framed with the id the embedded registry gave the
bundled schema, which `open` registers under the topic's value subject (registering again returns the same id).
A batch is appended in one transaction, so it is on the log whole or not at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from meshkit.avro_wire import AvroSchema, encode
from meshkit.bundled_schemas import value_subject
from meshkit.embedded_log import EmbeddedLog
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from meshkit.errors import Unavailable
from ugc_svc.adapters.playback_event_avro import message_key, playback_schema, to_record
from ugc_svc.domain.playback import PlaybackEvent

# How long after SQLite's own lock timeout the loop stops waiting for an append.
_GUARD_SLACK_SECONDS = 1.0


class SqliteEventPublisher:
    def __init__(self, log: EmbeddedLog, topic: str, schema: AvroSchema, schema_id: int, timeout: float) -> None:
        """Use `open`: it creates the topic and registers the schema first."""
        self._log = log
        self._topic = topic
        self._schema = schema
        self._schema_id = schema_id
        self._timeout = timeout

    @classmethod
    async def open(cls, path: Path, *, topic: str, partitions: int, ack_timeout: float) -> SqliteEventPublisher:
        """The publisher on the log at `path` (created when missing); Unavailable when it cannot be written."""

        def start() -> SqliteEventPublisher:
            log = EmbeddedLog(path, busy_timeout=ack_timeout)
            try:
                log.ensure_topic(topic, partitions)
                schema = playback_schema()
                schema_id = EmbeddedSchemaRegistry(log).register(value_subject(topic), schema)
            except BaseException:
                log.close()
                raise
            return cls(log, topic, schema, schema_id, ack_timeout)

        return await asyncio.to_thread(start)

    @property
    def log(self) -> EmbeddedLog:
        return self._log

    async def publish(self, events: Sequence[PlaybackEvent]) -> None:
        if not events:
            return
        records = [(message_key(e), encode(self._schema_id, self._schema, to_record(e))) for e in events]
        append = asyncio.to_thread(self._log.append, self._topic, records, time.time_ns() // 1_000_000)
        try:
            # SQLite gives up waiting for another writer's lock after `timeout`, and then nothing of the batch
            # is written. This guard, a little later, also bounds a wait behind this process's own earlier
            # appends; an append it gives up on may still commit, whole (at least once).
            async with asyncio.timeout(self._timeout + _GUARD_SLACK_SECONDS):
                await append
        except TimeoutError:
            raise Unavailable(f"the event log {self._log.path} took longer than {self._timeout:g} s") from None

    async def close(self) -> None:
        await asyncio.to_thread(self._log.close)
