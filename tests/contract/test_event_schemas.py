"""`make schemas` on the devstack's registry (Apicurio's Confluent-compatible API): every bundled schema lands
under its topic's value subject with BACKWARD compatibility, idempotently; a compatible change (an added optional
field with a default) is accepted as a new version, an incompatible one (a new required field) refused with 409."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from devstack.engines.apicurio import Apicurio
from devstack.schemas import register_all
from meshkit.bundled_schemas import SCHEMA_DIR, bundled_schemas

pytestmark = [pytest.mark.apicurio]


def write_schema(directory: Path, document: dict[str, object]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "playback_event.avsc").write_text(json.dumps(document, indent=2))


def test_bundled_schemas_register_idempotently_with_backward_compatibility(apicurio: Apicurio) -> None:
    url = apicurio.endpoints()["url"]
    topic = f"schemas-{uuid.uuid4().hex[:10]}"
    topics = {"playback_event": lambda: topic, "rating_change": lambda: f"{topic}-ratings"}

    first = register_all(url, topics=topics)
    again = register_all(url, topics=topics)

    assert [r.subject for r in first] == [f"{topic}-value", f"{topic}-ratings-value"]
    assert again == first
    client = SchemaRegistryClient({"url": url, "timeout": 10})
    assert client.get_versions(f"{topic}-value") == [1]
    # The subject's own rule (the ccompat API would fall back to the global one): Apicurio's native API.
    rule = httpx.get(
        f"{apicurio.endpoints()['registry_url']}/groups/default/artifacts/{topic}-value/rules/COMPATIBILITY", timeout=10
    )
    assert rule.raise_for_status().json()["config"] == "BACKWARD"
    registered = client.get_schema(first[0].schema_id).schema_str
    assert registered is not None
    assert json.loads(registered) == json.loads(bundled_schemas()["playback_event"].text)


def test_a_compatible_change_is_a_new_version_and_an_incompatible_one_is_refused(
    apicurio: Apicurio, tmp_path: Path
) -> None:
    url = apicurio.endpoints()["url"]
    topic = f"schemas-{uuid.uuid4().hex[:10]}"
    topics = {"playback_event": lambda: topic, "rating_change": lambda: f"{topic}-ratings"}
    document = json.loads((SCHEMA_DIR / "playback_event.avsc").read_text())
    original = next(r for r in register_all(url, topics=topics) if r.name == "playback_event")

    optional = {"name": "app_version", "type": ["null", "string"], "default": None}
    write_schema(tmp_path / "compatible", {**document, "fields": [*document["fields"], optional]})
    (compatible,) = register_all(url, directory=tmp_path / "compatible", topics=topics)
    assert compatible.schema_id != original.schema_id

    required = {"name": "region", "type": "string"}
    write_schema(tmp_path / "breaking", {**document, "fields": [*document["fields"], optional, required]})
    with pytest.raises(SchemaRegistryError) as refused:
        register_all(url, directory=tmp_path / "breaking", topics=topics)
    assert refused.value.http_status_code == 409
    client = SchemaRegistryClient({"url": url, "timeout": 10})
    assert client.get_versions(f"{topic}-value") == [1, 2]


def test_a_schema_without_a_known_topic_is_refused_before_anything_is_registered(
    apicurio: Apicurio, tmp_path: Path
) -> None:
    write_schema(tmp_path, json.loads((SCHEMA_DIR / "playback_event.avsc").read_text()))
    (tmp_path / "orphan.avsc").write_text('{"type": "record", "name": "Orphan", "fields": []}')
    with pytest.raises(ValueError, match=r"orphan\.avsc"):
        register_all(apicurio.endpoints()["url"], directory=tmp_path)
