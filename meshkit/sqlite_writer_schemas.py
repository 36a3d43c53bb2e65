"""WriterSchemas from the embedded profile's registry, which lives in the embedded log's SQLite file."""

from __future__ import annotations

import asyncio

from meshkit.avro_wire import AvroSchema
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from meshkit.errors import NotFound
from meshkit.writer_schemas import UnknownSchema


class SqliteWriterSchemas:
    def __init__(self, registry: EmbeddedSchemaRegistry) -> None:
        self._registry = registry
        self._known: dict[int, AvroSchema] = {}

    async def schema(self, schema_id: int) -> AvroSchema:
        known = self._known.get(schema_id)
        if known is not None:
            return known
        try:
            # The log raises Unavailable itself when its file cannot be read within its busy timeout.
            found = await asyncio.to_thread(self._registry.schema, schema_id)
        except NotFound:
            raise UnknownSchema(schema_id) from None
        self._known[schema_id] = found
        return found
