"""The WriterSchemas port, one suite over both adapters: the embedded registry in the event log's SQLite
file, and the devstack's Apicurio through its Confluent-compatible API (reached through a relay the test cuts).

The cases are the promises of meshkit/writer_schemas.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from devstack.engines.apicurio import Apicurio
from devstack.schemas import register
from meshkit.avro_wire import AvroSchema
from meshkit.embedded_log import EmbeddedLog
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from meshkit.errors import Unavailable
from meshkit.registry_writer_schemas import RegistryWriterSchemas
from meshkit.sqlite_writer_schemas import SqliteWriterSchemas
from meshkit.writer_schemas import UnknownSchema, WriterSchemas
from tests.tcp_relay import TcpRelay

ADAPTERS = ["sqlite", pytest.param("registry", marks=pytest.mark.apicurio)]
TIMEOUT = 1.0
# Far above any id this suite's registries hand out (Apicurio's content ids count up from 1).
NEVER_GIVEN = 2_000_000_000


@dataclass
class Registry:
    schemas: WriterSchemas
    register: Callable[[AvroSchema], int]
    """Registers a schema under a subject of its own; its id."""
    go_down: Callable[[], None]


def a_schema() -> AvroSchema:
    """A record schema no other test registers (registries give one id per distinct schema text)."""
    name = f"Probe{uuid.uuid4().hex[:10]}"
    fields = [{"name": "id", "type": "string"}, {"name": "note", "type": ["null", "string"], "default": None}]
    return AvroSchema.parse(
        json.dumps({"type": "record", "name": name, "namespace": "cinemesh.test", "fields": fields})
    )


@pytest.fixture(params=ADAPTERS)
async def registry(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Registry]:
    if request.param == "sqlite":
        log = EmbeddedLog(tmp_path / "events.sqlite3", busy_timeout=TIMEOUT)
        embedded = EmbeddedSchemaRegistry(log)
        try:
            # The file going away under the consumer: every later read of it fails.
            yield Registry(
                SqliteWriterSchemas(embedded), lambda s: embedded.register(f"s-{uuid.uuid4().hex}", s), log.close
            )
        finally:
            log.close()
        return
    apicurio: Apicurio = request.getfixturevalue("apicurio")
    relay = TcpRelay("127.0.0.1", apicurio.settings.port)
    relay.restore()
    url = apicurio.endpoints()["url"]
    client = SchemaRegistryClient({"url": url, "timeout": 10})
    try:
        yield Registry(
            RegistryWriterSchemas(url.replace(f":{apicurio.settings.port}/", f":{relay.port}/"), TIMEOUT),
            lambda s: register(client, f"contract-{uuid.uuid4().hex}-value", s),
            relay.cut,
        )
    finally:
        relay.close()


async def test_an_id_gives_the_schema_registered_under_it(registry: Registry) -> None:
    first, second = a_schema(), a_schema()
    first_id, second_id = registry.register(first), registry.register(second)

    assert await registry.schemas.schema(first_id) == first
    assert (await registry.schemas.schema(second_id)).text == second.text


async def test_an_id_the_registry_never_gave_is_unknown(registry: Registry) -> None:
    with pytest.raises(UnknownSchema) as raised:
        await registry.schemas.schema(NEVER_GIVEN)
    assert raised.value.schema_id == NEVER_GIVEN


async def test_an_unknown_id_is_asked_again_and_found_once_registered(registry: Registry) -> None:
    schema = a_schema()
    with pytest.raises(UnknownSchema):
        await registry.schemas.schema(NEVER_GIVEN)
    schema_id = registry.register(schema)

    assert await registry.schemas.schema(schema_id) == schema


async def test_a_schema_read_once_is_answered_with_the_registry_down(registry: Registry) -> None:
    schema = a_schema()
    schema_id = registry.register(schema)
    await asyncio.gather(*(registry.schemas.schema(schema_id) for _ in range(5)))

    registry.go_down()

    assert await registry.schemas.schema(schema_id) == schema


async def test_a_registry_that_cannot_answer_is_unavailable_within_the_bound(registry: Registry) -> None:
    schema_id = registry.register(a_schema())
    registry.go_down()

    started = time.monotonic()
    with pytest.raises(Unavailable):
        await registry.schemas.schema(schema_id)
    # Not a speed target: the port promises an answer, not a hang (the bound plus the client's own slack).
    assert time.monotonic() - started < TIMEOUT + 5
