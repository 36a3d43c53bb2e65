"""CRD schemas made strict for kubeconform: unknown fields refused, Kubernetes' OpenAPI extensions translated."""

from __future__ import annotations

import json
from pathlib import Path

from devstack.k8s_schemas import core_schemas, crd_schemas, strict


def test_an_object_with_named_properties_refuses_others_unless_it_keeps_unknown_fields() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"members": {"type": "integer"}}},
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
        },
    }
    made = strict(schema)
    assert made["additionalProperties"] is False
    assert made["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in made["properties"]["config"]
    assert "x-kubernetes-preserve-unknown-fields" not in made["properties"]["config"]


def test_field_names_that_look_like_keywords_stay_fields() -> None:
    made = strict({"type": "object", "properties": {"type": {"type": "string"}, "nullable": {"type": "boolean"}}})
    assert made["properties"] == {"type": {"type": "string"}, "nullable": {"type": "boolean"}}


def test_int_or_string_and_nullable_become_json_schema() -> None:
    made = strict({"x-kubernetes-int-or-string": True, "type": "string"})
    assert made == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert strict({"type": "string", "nullable": True}) == {"type": ["string", "null"]}


def test_each_served_version_is_written_where_kubeconform_looks(tmp_path: Path) -> None:
    crd = {
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.io",
            "names": {"kind": "Widget"},
            "versions": [
                {"name": "v1", "served": True, "schema": {"openAPIV3Schema": {"type": "object", "properties": {}}}},
                {"name": "v0", "served": False, "schema": {"openAPIV3Schema": {"type": "object"}}},
            ],
        },
    }
    assert crd_schemas([crd], tmp_path) == ["example.io/Widget/v1"]
    written = json.loads((tmp_path / "example.io" / "widget_v1.json").read_text())
    assert written["additionalProperties"] is False


def test_a_core_schema_gets_the_definitions_it_reaches_and_no_others(tmp_path: Path) -> None:
    source = tmp_path / "v1.34.0-local-strict"
    source.mkdir()
    definitions = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "string"},
        "Unused": {"type": "integer"},
    }
    (source / "_definitions.json").write_text(json.dumps({"$defs": definitions}))
    (source / "thing-v1.json").write_text(
        json.dumps({"properties": {"a": {"$ref": "/api/_definitions.json#/$defs/A"}}})
    )
    assert core_schemas(source, tmp_path / "out") == 1
    written = json.loads((tmp_path / "out" / "thing-v1.json").read_text())
    assert written["properties"]["a"]["$ref"] == "#/$defs/A"
    assert sorted(written["$defs"]) == ["A", "B"]
