"""A tree of protos → the OpenAPI 3.1 document of the REST API the gateway serves from it.

protoc-gen-connect-openapi reads `google.api.http` and `buf.validate`, so paths, parameters with their bounds and
enums, and the success schemas come from the contract. What it cannot know about our gateway is added here:

- errors: every error body is `google.rpc.Status` JSON (docs/adr/0002-one-error-shape.md), answered with 400 for any
  operation (an unknown or malformed parameter is refused), 404 where a path parameter names a resource, 503 and 504
  for any operation; no `default` response, so a status the document does not list is a finding;
- success bodies as the gateway prints them: fields without presence always printed (`required`), never `null`;
- request bodies as the gateway reads them: a missing body is the empty message, so a body is required only when
  its message has a required field; in a body the generator writes inline, `null` for a field means "unset" (proto3
  JSON), so those fields accept it;
- rules across fields (`(buf.validate.message).cel`) and CEL rules of fields anywhere in the request (a bound
  relative to the service's clock), listed on their operation under `x-message-rules`;
- who may call: operations under `AUTHENTICATED_PREFIXES` need a bearer token (the gateway's jwt_authn requires
  one on those routes), the others are public; any operation answers 401 to a token that does not verify;
- operations the contract declares but the service does not serve yet (`NOT_SERVED_YET`) answer 501.

Works on any tree of protos, with or without `buf.validate` annotations (an old copy of `protos/` included):

    python -m devstack.contracts.openapi --protos protos --deps build/protodeps \
        --plugin PATH/TO/protoc-gen-connect-openapi --out build/openapi/openapi.yaml
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import descriptor_pb2

from devstack.contracts.proto_facts import MessageRule, ProtoFacts

GENERATOR_OPTIONS = (
    "features=google.api.http;protovalidate",
    "with-proto-names",  # the gateway prints proto field names (preserve_proto_field_names)
    "short-operation-ids",  # SearchService_ListVideos
    "short-service-tags",
    "path=openapi.yaml",  # one document for every file
)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
STATUS = "google.rpc.Status"
BEARER = "bearer"

# REST paths the gateway serves only to a caller with a valid token (envoy/gateway.yaml: requirement `user`); every
# other path is public (requirement `anyone`: no token or a valid one).
AUTHENTICATED_PREFIXES = ("/api/v1/ugc/",)

# Operations in the contract whose service answers UNIMPLEMENTED (501) until their store lands; each is listed in
# its service's README, and tests/e2e/test_ugc_api.py checks the list against what the gateway answers.
NOT_SERVED_YET: frozenset[str] = frozenset()

# Keywords the generator puts where OpenAPI 3.1 ignores them: array bounds copied onto an array's items, and 3.0's
# `nullable` (the gateway leaves an unset optional field out; it never prints null).
_ARRAY_KEYWORDS = ("maxItems", "minItems", "uniqueItems")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.contracts.openapi", description=__doc__.split("\n")[0])
    parser.add_argument("--protos", type=Path, required=True, help="the tree of .proto files (an import root)")
    parser.add_argument("--deps", type=Path, required=True, help="third-party protos they import (an import root)")
    parser.add_argument("--plugin", type=Path, required=True, help="the protoc-gen-connect-openapi binary")
    parser.add_argument("--out", type=Path, required=True, help="where to write the document (YAML)")
    parser.add_argument("--title", default="cinemesh")
    parser.add_argument("--version", default="v1")
    args = parser.parse_args(argv)
    try:
        document = generate(args.protos, args.deps, args.plugin, title=args.title, version=args.version)
    except GenerationError as exc:
        print(f"openapi: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(document))
    return 0


class _Dumper(yaml.SafeDumper):
    """Multi-line descriptions as YAML blocks, which a reviewer can read in a diff."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


class GenerationError(Exception):
    """protoc or the generator refused the protos."""


def generate(protos: Path, deps: Path, plugin: Path, *, title: str, version: str) -> dict[str, Any]:
    files = sorted(path.resolve() for path in protos.rglob("*.proto"))
    if not files:
        raise GenerationError(f"no .proto files under {protos}")
    with tempfile.TemporaryDirectory(prefix="openapi-") as tmp:
        out = Path(tmp)
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{protos.resolve()}",
            f"-I{deps.resolve()}",
            f"--plugin=protoc-gen-connect-openapi={plugin.resolve()}",
            f"--connect-openapi_out={out}",
            f"--connect-openapi_opt={','.join(GENERATOR_OPTIONS)}",
            f"--descriptor_set_out={out / 'descriptors.binpb'}",
            "--include_imports",
            *map(str, files),
        ]
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise GenerationError(f"protoc exited {run.returncode}:\n{run.stderr.strip()}")
        generated = yaml.safe_load((out / "openapi.yaml").read_text())
        facts = ProtoFacts(descriptor_pb2.FileDescriptorSet.FromString((out / "descriptors.binpb").read_bytes()))
    return gateway_document(generated, facts, title=title, version=version)


def gateway_document(generated: dict[str, Any], facts: ProtoFacts, *, title: str, version: str) -> dict[str, Any]:
    """The generator's document, told the truth about the gateway (see the module's docstring)."""
    document = copy.deepcopy(generated)
    _tidy_descriptions(document)
    document["openapi"] = "3.1.0"
    document["info"] = {**(document.get("info") or {}), "title": title, "version": version}
    for path, operation in _operations_by_path(document):
        _answer_as_the_gateway(operation)
        _leave_path_fields_out_of_the_body(operation)
        _int64_parameters_are_numbers(operation)
        _body_required_only_with_required_fields(operation)
        if path.startswith(AUTHENTICATED_PREFIXES):
            operation["security"] = [{BEARER: []}]
        if operation.get("operationId") in NOT_SERVED_YET:
            operation["responses"]["501"] = {"$ref": RESPONSES + "Unimplemented"}
            operation["x-not-served-yet"] = True
        method = facts.methods.get(operation.get("operationId", ""))
        if method is not None:
            _list_message_rules(operation, facts, method.input_type)
    components = document.setdefault("components", {})
    components["responses"] = copy.deepcopy(ERROR_RESPONSES)
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    components.setdefault("schemas", {}).update(copy.deepcopy(ERROR_SCHEMAS))
    _drop_misplaced_keywords(document)
    _trim_unused_schemas(document)
    _require_always_printed_fields(document, facts)
    return document


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for _, operation in _operations_by_path(document):
        yield operation


def _operations_by_path(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, item[method]


def _answer_as_the_gateway(operation: dict[str, Any]) -> None:
    generated = operation.get("responses") or {}
    responses = {code: answer for code, answer in generated.items() if code.startswith("2")}
    responses["400"] = {"$ref": RESPONSES + "InvalidArgument"}
    responses["401"] = {"$ref": RESPONSES + "Unauthenticated"}
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        responses["404"] = {"$ref": RESPONSES + "NotFound"}
    responses["503"] = {"$ref": RESPONSES + "Unavailable"}
    responses["504"] = {"$ref": RESPONSES + "DeadlineExceeded"}
    operation["responses"] = responses


def _leave_path_fields_out_of_the_body(operation: dict[str, Any]) -> None:
    """A field the path binds comes from the path (`body: "*"` means every other field); the generator lists it in
    the body too, where the gateway refuses a value that differs from the path's."""
    in_path = {parameter["name"] for parameter in operation.get("parameters", []) if parameter.get("in") == "path"}
    schema = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
    if not in_path or not isinstance(schema, dict) or "properties" not in schema:
        return
    for name in in_path:
        schema["properties"].pop(name, None)
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in in_path]


def _int64_parameters_are_numbers(operation: dict[str, Any]) -> None:
    """An int64 in a path or query string is digits: the generator allows a string too (proto3 JSON writes int64 as
    a string in bodies), but the gateway refuses a parameter that is not a number (`to=` or `to=abc` is 400)."""
    for parameter in operation.get("parameters") or ():
        schema = parameter.get("schema") or {}
        if schema.get("format") == "int64" and schema.get("type") == ["integer", "string"]:
            schema["type"] = "integer"


def _body_required_only_with_required_fields(operation: dict[str, Any]) -> None:
    """The gateway transcodes a request without a body into the empty message: when the body's message requires no
    field, that is a valid request (every field at its default), so the body is optional."""
    body = operation.get("requestBody")
    schema = ((body or {}).get("content") or {}).get("application/json", {}).get("schema")
    if isinstance(body, dict) and isinstance(schema, dict) and "properties" in schema and not schema.get("required"):
        body["required"] = False
    if isinstance(schema, dict) and "properties" in schema:
        for name, field in schema["properties"].items():
            if name not in schema.get("required", []):
                schema["properties"][name] = _or_null(field)


def _or_null(field: dict[str, Any]) -> dict[str, Any]:
    kind = field.get("type")
    if isinstance(kind, str):
        return {**field, "type": [kind, "null"]}
    if isinstance(kind, list):
        return field if "null" in kind else {**field, "type": [*kind, "null"]}
    return {"anyOf": [field, {"type": "null"}]}


# A page token is opaque: any string of its pattern is well-formed, but only one a list returned continues it. No
# schema can say which those are, so the rule is listed with the cross-field ones, under the id the services give
# the refusal's violation.
PAGE_TOKEN_RULE = MessageRule(
    "page_token.issued", "page_token must be empty or the next_page_token a page of this list returned", ""
)


def _list_message_rules(operation: dict[str, Any], facts: ProtoFacts, message: Any) -> None:
    rules = facts.message_rules(message) + facts.nested_field_rules(message)
    if any(p.get("in") == "query" and p.get("name") == "page_token" for p in operation.get("parameters") or ()):
        rules.append(PAGE_TOKEN_RULE)
    if not rules:
        return
    operation["x-message-rules"] = [
        {"id": rule.id, "message": rule.message, "expression": rule.expression} for rule in rules
    ]
    listed = "\n".join(f"- `{rule.id}`: {rule.message or rule.expression}" for rule in rules)
    operation["description"] = (
        f"{operation.get('description', '').rstrip()}\n\n"
        "Rules no JSON schema keyword can state; a request that breaks one is answered 400 with a "
        f"`google.rpc.BadRequest` detail whose `reason` is the rule's id:\n{listed}"
    ).lstrip()


def _drop_misplaced_keywords(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("nullable", None)
        if node.get("type") not in (None, "array"):
            for keyword in _ARRAY_KEYWORDS:
                node.pop(keyword, None)
        for value in node.values():
            _drop_misplaced_keywords(value)
    elif isinstance(node, list):
        for value in node:
            _drop_misplaced_keywords(value)


def _tidy_descriptions(node: Any) -> None:
    """Proto comments arrive with the space after `//` on every line but the first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str) and "\n" in value:
                first, _, rest = value.partition("\n")
                node[key] = f"{first}\n{textwrap.dedent(rest)}".strip()
            else:
                _tidy_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _tidy_descriptions(value)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS):
            yield ref.removeprefix(SCHEMAS)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(schemas: dict[str, Any], roots: Any) -> set[str]:
    seen: set[str] = set()
    pending = list(_refs(roots))
    while pending:
        name = pending.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            pending.extend(_refs(schemas[name]))
    return seen


def _trim_unused_schemas(document: dict[str, Any]) -> None:
    """Request messages of GET operations become parameters; their schemas would only mislead a reader."""
    components = document["components"]
    schemas = components["schemas"]
    used = _reachable(schemas, [document.get("paths"), components.get("responses")])
    components["schemas"] = {name: schema for name, schema in schemas.items() if name in used}


def _require_always_printed_fields(document: dict[str, Any], facts: ProtoFacts) -> None:
    """In success bodies only: a request body may leave any field out."""
    schemas = document["components"]["schemas"]
    operations = list(_operations(document))
    answered = _reachable(schemas, [op.get("responses", {}).get(code) for op in operations for code in op["responses"]])
    sent = _reachable(schemas, [op.get("requestBody") for op in operations])
    for name in sorted(answered - sent):
        printed = facts.always_printed(name)
        properties = schemas[name].get("properties", {})
        required = [field for field in printed or () if field in properties]
        if required:
            schemas[name]["required"] = required


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": SCHEMAS + STATUS}}}}


ERROR_RESPONSES: dict[str, Any] = {
    "InvalidArgument": _error(
        "A parameter is unknown, malformed or breaks a rule of the contract. Rule violations come as one "
        "`google.rpc.BadRequest` detail naming every field at once; the gateway's own refusals carry a "
        "`google.rpc.ErrorInfo`."
    ),
    "Unauthenticated": _error(
        "The bearer token is missing where the operation needs one, or it does not verify (forged, expired, "
        "another issuer or audience) wherever it is sent."
    ),
    "NotFound": _error("The resource the path names does not exist."),
    "Unavailable": _error("A service or engine behind the gateway cannot be reached now; retry later."),
    "DeadlineExceeded": _error("The answer did not come in time."),
    "Unimplemented": _error("The operation is part of the API but not served yet."),
}

SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An RS256 JWT from the identity provider; its subject is the user the call acts for.",
    }
}

_DETAIL_TYPE = "type.googleapis.com/"
ERROR_SCHEMAS: dict[str, Any] = {
    STATUS: {
        "type": "object",
        "title": "Status",
        "description": "Every error, from a service or from the gateway itself. `code` is the gRPC status code "
        "(google.rpc.Code), not the HTTP status.",
        "required": ["code", "message", "details"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 16},
            "message": {"type": "string"},
            "details": {
                "type": "array",
                "items": {
                    "oneOf": [{"$ref": SCHEMAS + "google.rpc.BadRequest"}, {"$ref": SCHEMAS + "google.rpc.ErrorInfo"}]
                },
            },
        },
    },
    "google.rpc.BadRequest": {
        "type": "object",
        "title": "BadRequest",
        "required": ["@type", "field_violations"],
        "additionalProperties": False,
        "properties": {
            "@type": {"const": _DETAIL_TYPE + "google.rpc.BadRequest"},
            "field_violations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "additionalProperties": False,
                    "properties": {
                        "field": {
                            "type": "string",
                            "description": "The parameter, by proto name; empty for a rule across fields that "
                            "names none.",
                        },
                        "description": {"type": "string"},
                        "reason": {
                            "type": "string",
                            "description": "The id of the broken rule (`int32.gte_lte`, `page.within_result_window`)"
                            "; empty for the service's own checks.",
                        },
                        "localized_message": {"type": "object"},
                    },
                },
            },
        },
    },
    "google.rpc.ErrorInfo": {
        "type": "object",
        "title": "ErrorInfo",
        "description": "Why the gateway refused a request itself: `reason` is its response-code details.",
        "required": ["@type", "reason", "domain"],
        "additionalProperties": False,
        "properties": {
            "@type": {"const": _DETAIL_TYPE + "google.rpc.ErrorInfo"},
            "reason": {"type": "string"},
            "domain": {"type": "string"},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}


if __name__ == "__main__":
    sys.exit(main())
