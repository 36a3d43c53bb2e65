"""From a record of the bus to a playback event, or to the reason it can never be one.

A record is poison when nothing will ever make it load: bytes that are not Confluent-framed Avro, a schema id the
registry does not hold, a body that does not decode with its writer schema, or a decoded event that breaks the
event's rules. Poison goes to the dead-letter topic and the records after it load. A registry that cannot answer
is not poison: Unavailable passes through and the record is read again later.

Records are read with the bundled schema as the reader's: a writer schema that added an optional field (a
compatible change) decodes without a restart, the field dropped until the sink knows it. Both are read without
their logical types (times stay the epoch milliseconds the store keeps), and a writer schema equal to the reader's
skips Avro's schema resolution: the common case costs one plain decode a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from meshkit.avro_wire import AvroSchema, WireFormatError, decode, schema_id_of
from meshkit.event_consumer import ConsumedRecord
from meshkit.writer_schemas import UnknownSchema, WriterSchemas
from sink_svc.domain.playback_event import PlaybackEvent


class PoisonReason(StrEnum):
    NOT_AVRO = "not-avro"
    UNKNOWN_SCHEMA = "unknown-schema"
    UNREADABLE = "unreadable"
    INVALID_EVENT = "invalid-event"


@dataclass(frozen=True, slots=True)
class Poison:
    record: ConsumedRecord
    reason: PoisonReason
    detail: str


class RecordDecoder:
    """Decodes records as above, keeping for each writer schema id how its records are read."""

    def __init__(self, schemas: WriterSchemas, reader: AvroSchema) -> None:
        self._schemas = schemas
        self._reader = reader
        self._raw_reader = reader.without_logical_types()
        self._plans: dict[int, tuple[AvroSchema, AvroSchema | None]] = {}

    async def decode_all(self, records: list[ConsumedRecord]) -> list[PlaybackEvent | Poison]:
        """Each record's event or poison, in order; Unavailable (nothing decoded) when the registry cannot say
        what an id in them is."""
        unknown: dict[int, str] = {}
        ids = {schema_id for record in records if (schema_id := _schema_id(record)) is not None}
        for schema_id in ids - set(self._plans):
            try:
                writer = await self._schemas.schema(schema_id)
            except UnknownSchema as error:
                unknown[schema_id] = str(error)
                continue
            same = writer.text == self._reader.text
            self._plans[schema_id] = (writer.without_logical_types(), None if same else self._raw_reader)
        return [self._decode(record, unknown) for record in records]

    def _decode(self, record: ConsumedRecord, unknown: dict[int, str]) -> PlaybackEvent | Poison:
        schema_id = _schema_id(record)
        if schema_id is None:
            return Poison(record, PoisonReason.NOT_AVRO, f"not Confluent-framed Avro: {record.value[:5].hex()!r}")
        if schema_id in unknown:
            return Poison(record, PoisonReason.UNKNOWN_SCHEMA, unknown[schema_id])
        writer, reader = self._plans[schema_id]
        return _decoded(record, writer, reader)


def _schema_id(record: ConsumedRecord) -> int | None:
    try:
        return schema_id_of(record.value)
    except WireFormatError:
        return None


def _decoded(record: ConsumedRecord, writer: AvroSchema, reader: AvroSchema | None) -> PlaybackEvent | Poison:
    try:
        fields = decode(record.value, writer, reader)
    except WireFormatError as error:
        return Poison(record, PoisonReason.UNREADABLE, str(error))
    except Exception as error:  # fastavro's schema resolution raises several kinds; each means poison
        return Poison(record, PoisonReason.UNREADABLE, f"{type(error).__name__}: {error}")
    try:
        return PlaybackEvent.from_record(fields)
    except (ValueError, TypeError) as error:
        return Poison(record, PoisonReason.INVALID_EVENT, str(error))
