"""WriterSchemas from a Confluent-compatible schema registry (Apicurio's ccompat API in the devstack).

`GET /schemas/ids/{id}` through confluent-kafka's registry client. Answers are kept here for good (an id's schema
never changes), and concurrent first lookups of one id share one request.
"""

from __future__ import annotations

import asyncio

from confluent_kafka.schema_registry import SchemaRegistryClient

# The HTTP library the registry client itself chose (httpx2 when installed, else httpx): its errors are what a
# registry that cannot be reached raises.
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from meshkit.avro_wire import AvroSchema
from meshkit.errors import Unavailable
from meshkit.writer_schemas import UnknownSchema

# Confluent's error code for "schema not found", which Apicurio keeps.
_SCHEMA_NOT_FOUND = 40403
# Beyond the client's own per-request timeout: its retries must not add up past the bound.
_DEADLINE_SLACK = 1.0


class RegistryWriterSchemas:
    def __init__(self, registry_url: str, timeout: float) -> None:
        # No retries inside the client: the consumer decides when to ask again.
        self._client = SchemaRegistryClient({"url": registry_url, "timeout": timeout, "max.retries": 0})
        self._url = registry_url
        self._timeout = timeout
        self._known: dict[int, asyncio.Future[AvroSchema]] = {}

    async def schema(self, schema_id: int) -> AvroSchema:
        pending = self._known.get(schema_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(schema_id))
            self._known[schema_id] = pending
        try:
            return await asyncio.shield(pending)
        except (Unavailable, UnknownSchema):
            # Neither is kept: the registry may answer next time, and an id a producer just got may not have
            # reached every registry node yet.
            if self._known.get(schema_id) is pending:
                del self._known[schema_id]
            raise

    async def _fetch(self, schema_id: int) -> AvroSchema:
        try:
            async with asyncio.timeout(self._timeout + _DEADLINE_SLACK):
                found = await asyncio.to_thread(self._client.get_schema, schema_id)
        except TimeoutError:
            raise Unavailable(f"the schema registry did not answer within {self._timeout:g} s") from None
        except SchemaRegistryError as exc:
            if exc.error_code == _SCHEMA_NOT_FOUND or exc.http_status_code == 404:
                raise UnknownSchema(schema_id) from None
            raise Unavailable(f"the schema registry at {self._url} failed: {exc}") from exc
        except httpx.HTTPError as exc:
            raise Unavailable(f"the schema registry at {self._url} cannot be reached: {exc}") from exc
        if found.schema_str is None:
            raise Unavailable(f"the schema registry answered schema id {schema_id} without a schema")
        return AvroSchema.parse(found.schema_str)
