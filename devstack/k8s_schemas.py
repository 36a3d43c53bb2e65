"""JSON schemas for kubeconform, from sources a package registry serves (kubeconform's own default downloads them).

- Kubernetes' own kinds: the strict schemas inside PyPI's `kubernetes-validate` wheel, whose `$ref`s point at a
  shared `/api/_definitions.json`; each is made standalone, in the file layout kubeconform already uses
  (`deployment-apps-v1.json`).
- The operators' kinds: each CustomResourceDefinition's `openAPIV3Schema`, made strict as kubeconform's own
  `openapi2jsonschema` makes it (no property a schema does not name, unless it keeps unknown fields), written as
  `<group>/<kind>_<version>.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

_NAMED_SCHEMAS = {"properties", "patternProperties", "definitions", "$defs"}
_ABSOLUTE_DEFINITIONS = re.compile(r'"\$ref":\s*"/api/_definitions\.json#/\$defs/')
_LOCAL_DEFINITION = "#/$defs/"


def core_schemas(source: Path, dest: Path) -> int:
    """Write one Kubernetes version's strict schemas (`…/v1.34.0-local-strict`) to `dest`, each standalone: the
    definitions it reaches are copied into its own `$defs` (kubeconform compiles every file on its own and does not
    follow a reference to another file). Returns how many it wrote."""
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for schema in sorted(source.glob("*.json")):
        if schema.name in {"_definitions.json", "all.json"}:
            continue
        text = _ABSOLUTE_DEFINITIONS.sub('"$ref": "#/$defs/', schema.read_text())
        document = json.loads(text)
        reached = _reached(document, definitions)
        if reached:
            document["$defs"] = reached
        (dest / schema.name).write_text(json.dumps(document, separators=(",", ":")))
        count += 1
    return count


def _reached(document: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions `document` refers to, directly or through each other."""
    reached: dict[str, Any] = {}
    pending = _references(document)
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached[name] = definitions[name]
        pending |= _references(definitions[name]) - set(reached)
    return reached


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_DEFINITION):
                found.add(value.removeprefix(_LOCAL_DEFINITION))
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def crd_documents(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every CustomResourceDefinition in `paths` (YAML, one or many documents each)."""
    for path in paths:
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                yield document


def crd_schemas(crds: Iterable[dict[str, Any]], dest: Path) -> list[str]:
    """Write each served version's schema; returns `group/Kind/version` of each, for the report."""
    written = []
    for crd in crds:
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        for version in spec["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema is None or not version.get("served", True):
                continue
            target = dest / group / f"{kind.lower()}_{version['name']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(strict(schema), indent=1, sort_keys=True))
            written.append(f"{group}/{kind}/{version['name']}")
    return written


def strict(schema: Any) -> Any:
    """OpenAPI v3 (Kubernetes' structural flavour) → JSON schema that refuses properties it does not name."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {
        # Under `properties` the keys are field names (a field may be called `type` or `nullable`), not keywords.
        key: {name: strict(sub) for name, sub in value.items()} if key in _NAMED_SCHEMAS else strict(value)
        for key, value in schema.items()
    }
    if result.pop("x-kubernetes-int-or-string", False):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if result.pop("nullable", False) and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    keeps_unknown = result.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in result and "additionalProperties" not in result and not keeps_unknown:
        result["additionalProperties"] = False
    return result
