"""The Avro schemas kept in the repository (`protos/avro/*.avsc`), the source of truth for event payloads.

Producers write with them; `make schemas` registers them in the devstack's registry; the embedded profile's
registry holds them too. A schema's subject on a registry is `<topic>-value` (the topic name strategy).
"""

from __future__ import annotations

from pathlib import Path

from meshkit.avro_wire import AvroSchema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "protos" / "avro"


def bundled_schema(name: str, directory: Path = SCHEMA_DIR) -> AvroSchema:
    """`<directory>/<name>.avsc`, e.g. bundled_schema("playback_event")."""
    return AvroSchema.parse((directory / f"{name}.avsc").read_text())


def bundled_schemas(directory: Path = SCHEMA_DIR) -> dict[str, AvroSchema]:
    """Every bundled schema by its file's stem."""
    return {path.stem: AvroSchema.parse(path.read_text()) for path in sorted(directory.glob("*.avsc"))}


def value_subject(topic: str) -> str:
    """The registry subject of a topic's message values (Confluent's TopicNameStrategy)."""
    return f"{topic}-value"
