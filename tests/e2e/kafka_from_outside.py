"""A topic read the way an outside consumer would, sharing no code with the services: `kcat` takes the raw
messages off Kafka, the registry's REST API gives the writer schema named by the 5-byte Confluent header of each
message, and Apache Avro's own `avro-tools fragtojson` decodes the body with it."""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack.event_tools import EventTools

MAGIC_BYTE = 0
HEADER = struct.Struct(">bI")


@dataclass(frozen=True)
class RawMessage:
    partition: int
    offset: int
    key: bytes
    value: bytes

    @property
    def schema_id(self) -> int:
        magic, schema_id = HEADER.unpack(self.value[: HEADER.size])
        assert magic == MAGIC_BYTE, f"not Confluent's wire format: magic byte {magic}"
        return int(schema_id)

    @property
    def body(self) -> bytes:
        return self.value[HEADER.size :]


def read_topic(tools: EventTools, servers: str, topic: str) -> list[RawMessage]:
    """Every message on the topic, from the beginning of each partition to its end, as kcat prints them."""
    # A header line with the lengths, then the key and value bytes as they are: values are binary and may hold
    # any byte, newlines included, so they are cut by length, never by a delimiter.
    consume = [str(tools.kcat), "-C", "-b", servers, "-t", topic, "-o", "beginning", "-e", "-q"]
    result = subprocess.run(
        [*consume, "-f", "%p %o %K %S\n%k%s"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout
    messages = []
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        partition, offset, key_length, value_length = (int(n) for n in out[at:end].split())
        at = end + 1
        key = out[at : at + key_length]
        value = out[at + key_length : at + key_length + value_length]
        assert len(value) == value_length, "kcat's output ended inside a message"
        at += key_length + value_length
        messages.append(RawMessage(partition, offset, key, value))
    return messages


class AvroToolsDecoder:
    """Decodes message bodies with avro-tools, fetching each writer schema from the registry once."""

    def __init__(self, tools: EventTools, registry_url: str, workdir: Path) -> None:
        self._tools = tools
        self._registry_url = registry_url
        self._workdir = workdir
        self._schemas: dict[int, Path] = {}

    def writer_schema(self, schema_id: int) -> Path:
        if schema_id not in self._schemas:
            # Confluent's API as the registry serves it, read with a plain HTTP client.
            reply = httpx.get(f"{self._registry_url}/schemas/ids/{schema_id}", timeout=10)
            reply.raise_for_status()
            path = self._workdir / f"schema-{schema_id}.avsc"
            path.write_text(reply.json()["schema"])
            self._schemas[schema_id] = path
        return self._schemas[schema_id]

    def decode(self, message: RawMessage) -> dict[str, Any]:
        """The body as avro-tools prints it in Avro's JSON encoding (a union's non-null value is {"type": value})."""
        body = self._workdir / f"body-{message.partition}-{message.offset}.avro"
        body.write_bytes(message.body)
        avro_tools = [str(self._tools.java.binary), "-jar", str(self._tools.avro_tools)]
        result = subprocess.run(
            [*avro_tools, "fragtojson", "--schema-file", str(self.writer_schema(message.schema_id)), str(body)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        decoded = json.loads(result.stdout)
        assert isinstance(decoded, dict)
        return decoded


def plain(value: Any) -> Any:
    """A value from Avro's JSON encoding without the union branch name: {"string": "x"} → "x"."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value
