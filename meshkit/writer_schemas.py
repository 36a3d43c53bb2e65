"""Port: the Avro schema a record was written with, by the registry id in its Confluent header (the sink and
UGC's projections read records of any producer's schema version). Adapters: `meshkit.registry_writer_schemas`,
`meshkit.sqlite_writer_schemas`."""

from __future__ import annotations

from typing import Protocol

from meshkit.avro_wire import AvroSchema


class UnknownSchema(LookupError):
    """The registry answered and holds no schema with this id: the record cannot be read, ever. A poison record,
    not an outage."""

    def __init__(self, schema_id: int) -> None:
        super().__init__(f"no schema with id {schema_id} in the registry")
        self.schema_id = schema_id


class WriterSchemas(Protocol):
    """Writer schemas by id, as a consumer needs them to decode records of any producer's schema version.

    Semantics every adapter keeps (tests/contract/test_writer_schemas.py checks them on each):
    - schema(id): the schema registered under that id, exactly as registered (same canonical text).
    - an id's schema never changes in a registry, so an answer is kept for the life of the adapter: a schema
      read once is answered again without the registry (down or not).
    - an id the registry does not hold raises UnknownSchema (the record is poison; nothing will fix it later).
    - a registry that cannot answer (down, unreachable, failing) raises meshkit.errors.Unavailable within the
      adapter's timeout: the record is fine, the consumer waits and asks again.
    """

    async def schema(self, schema_id: int) -> AvroSchema: ...
