"""EventDecoder for Confluent-framed Avro: the writer schema from the bus's registry (the embedded one in the log
file, or the Confluent-compatible registry over HTTP), looked up once per id and kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from meshkit.avro_wire import AvroSchema, WireFormatError, decode, schema_id_of
from meshkit.errors import DomainError, NotFound, Unavailable
from ugc_svc.adapters.playback_event_avro import from_record, playback_schema
from ugc_svc.domain.playback import PlaybackEvent
from ugc_svc.ports.event_decoder import UndecodableEvent

SchemaLookup = Callable[[int], AvroSchema]
"""The registry's schema for an id, blocking: NotFound when it has none, Unavailable when it cannot answer."""


class AvroEventDecoder:
    def __init__(self, lookup: SchemaLookup) -> None:
        self._lookup = lookup
        self._reader = playback_schema()
        self._schemas: dict[int, AvroSchema] = {}

    async def decode(self, value: bytes) -> PlaybackEvent:
        try:
            schema_id = schema_id_of(value)
        except WireFormatError as exc:
            raise UndecodableEvent(str(exc)) from exc
        writer = self._schemas.get(schema_id)
        if writer is None:
            try:
                writer = await asyncio.to_thread(self._lookup, schema_id)
            except NotFound as exc:
                raise UndecodableEvent(f"the registry has no schema {schema_id}") from exc
            self._schemas[schema_id] = writer
        try:
            return from_record(decode(value, writer, self._reader))
        except (WireFormatError, ValueError, KeyError, TypeError) as exc:
            raise UndecodableEvent(f"not a playback event: {exc}") from exc
        except DomainError as exc:
            if isinstance(exc, Unavailable):
                raise
            raise UndecodableEvent(f"not a playback event: {exc}") from exc
