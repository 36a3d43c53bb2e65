"""RecordDecoder for any bundled Avro schema: the writer schema found by the id in the record's header (meshkit's
WriterSchemas, from whichever registry the profile has), the record read as the bundled schema, then built into
the domain's value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from meshkit.avro_wire import AvroSchema, WireFormatError, decode, schema_id_of
from meshkit.errors import InvalidArgument
from meshkit.writer_schemas import UnknownSchema, WriterSchemas
from ugc_svc.ports.record_decoder import Undecodable

T = TypeVar("T")


class AvroRecordDecoder(Generic[T]):
    def __init__(self, schemas: WriterSchemas, reader: AvroSchema, build: Callable[[Mapping[str, Any]], T]) -> None:
        self._schemas = schemas
        self._reader = reader
        self._build = build

    async def decode(self, value: bytes) -> T:
        try:
            writer = await self._schemas.schema(schema_id_of(value))
            return self._build(decode(value, writer, self._reader))
        except (WireFormatError, UnknownSchema, InvalidArgument, KeyError, ValueError, TypeError) as error:
            raise Undecodable(f"{type(error).__name__}: {error}") from error
