"""From a record of the bus to a playback event, or to the reason it can never be one.

A record is poison when nothing will ever make it load: bytes that are not Confluent-framed Avro, a schema id the
registry does not hold, a body that does not decode with its writer schema, or a decoded event that breaks the
event's rules. Poison goes to the dead-letter topic and the records after it load. A registry that cannot answer
is not poison: Unavailable passes through and the record is read again later.

Records are read with the bundled schema as the reader's: a writer schema that added an optional field (a
compatible change) decodes without a restart, the field dropped until the sink knows it.
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


async def decode_record(record: ConsumedRecord, schemas: WriterSchemas, reader: AvroSchema) -> PlaybackEvent | Poison:
    try:
        schema_id = schema_id_of(record.value)
    except WireFormatError as error:
        return Poison(record, PoisonReason.NOT_AVRO, str(error))
    try:
        writer = await schemas.schema(schema_id)
    except UnknownSchema as error:
        return Poison(record, PoisonReason.UNKNOWN_SCHEMA, str(error))
    try:
        fields = decode(record.value, writer, reader)
    except WireFormatError as error:
        return Poison(record, PoisonReason.UNREADABLE, str(error))
    except Exception as error:
        return Poison(record, PoisonReason.UNREADABLE, f"{type(error).__name__}: {error}")
    try:
        return PlaybackEvent.from_record(fields)
    except (ValueError, TypeError) as error:
        return Poison(record, PoisonReason.INVALID_EVENT, str(error))
