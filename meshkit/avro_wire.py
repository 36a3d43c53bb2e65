"""Avro records in Confluent's wire format: magic byte 0, the writer schema's registry id (4 bytes, big-endian),
then the Avro binary body. Kafka messages and the embedded log's records carry exactly these bytes, so a consumer
decodes both the same way: read the id, fetch that schema, decode the body with it."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")


class WireFormatError(ValueError):
    """The bytes are not a Confluent-framed Avro record (or not one this schema can read)."""


@dataclass(frozen=True)
class AvroSchema:
    """An Avro schema as registries compare it: `text` is its JSON, compact, so that the same schema written with
    other whitespace registers (and is looked up) as the same one."""

    text: str
    parsed: Any = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> AvroSchema:
        document = json.loads(text)
        return cls(json.dumps(document, separators=(",", ":"), ensure_ascii=False), parse_schema(document))

    def without_logical_types(self) -> AvroSchema:
        """The same schema with every logical type dropped: a timestamp-millis decodes as the long it is on the
        wire. Avro resolves such a reader against the annotated writer, and a consumer that wants epoch
        milliseconds saves two datetime conversions a field."""
        return AvroSchema.parse(json.dumps(_strip_logical(json.loads(self.text))))

    @property
    def full_name(self) -> str:
        return str(self.parsed["name"]) if isinstance(self.parsed, dict) else str(self.parsed)


def _strip_logical(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip_logical(item) for item in node]
    if not isinstance(node, dict):
        return node
    stripped = {key: _strip_logical(value) for key, value in node.items() if key != "logicalType"}
    # {"type": "long", "logicalType": ...} becomes plain "long"; anything with more keys keeps its object form.
    return stripped["type"] if "logicalType" in node and set(stripped) == {"type"} else stripped


def encode(schema_id: int, schema: AvroSchema, record: Mapping[str, Any]) -> bytes:
    """`record` framed with `schema_id`; ValueError when the record does not fit the schema."""
    out = io.BytesIO()
    out.write(_HEADER.pack(MAGIC_BYTE, schema_id))
    # Strict about names (a misspelt or unknown field is an error); a field left out takes its default, if it has one.
    schemaless_writer(out, schema.parsed, dict(record), strict_allow_default=True)
    return out.getvalue()


def schema_id_of(message: bytes) -> int:
    """The writer schema's registry id in a framed message."""
    if len(message) < _HEADER.size or message[0] != MAGIC_BYTE:
        raise WireFormatError(f"not Confluent-framed Avro (first bytes {message[: _HEADER.size].hex()!r})")
    return int(_HEADER.unpack_from(message)[1])


def decode(message: bytes, writer: AvroSchema, reader: AvroSchema | None = None) -> dict[str, Any]:
    """The record in a framed message, written with `writer` (the schema its id names), read as `reader`."""
    schema_id_of(message)
    body = io.BytesIO(message[_HEADER.size :])
    try:
        record = schemaless_reader(body, writer.parsed, reader.parsed if reader else None)
    except (EOFError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise WireFormatError(f"the body does not decode as {writer.full_name}: {exc}") from exc
    if body.tell() != len(message) - _HEADER.size:
        raise WireFormatError(f"{len(message) - _HEADER.size - body.tell()} bytes left after a {writer.full_name}")
    if not isinstance(record, dict):
        raise WireFormatError(f"{writer.full_name} is not a record schema")
    return record
