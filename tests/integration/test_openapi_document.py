"""The OpenAPI document states what the contract declares and what the gateway answers.

Built by `python -m devstack.contracts.openapi` (what `make protos` runs) from protos/, and from any other tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from buf.validate import validate_pb2
from cinemesh.analytics.v1 import analytics_pb2
from cinemesh.search.v1 import search_pb2
from cinemesh.ugc.v1 import ugc_pb2
from google.protobuf.descriptor import FieldDescriptor

from devstack.contracts.openapi import NOT_SERVED_YET
from devstack.contracts.tools import tool_paths

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "build" / "openapi" / "openapi.yaml"
PROTODEPS = REPO / "build" / "protodeps"
SERVICES = {
    "SearchService": search_pb2.DESCRIPTOR.services_by_name["SearchService"],
    "UgcService": ugc_pb2.DESCRIPTOR.services_by_name["UgcService"],
    "AnalyticsService": analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"],
}
PUBLIC = {
    "SearchService_ListVideos",
    "SearchService_GetVideo",
    "SearchService_SuggestTitles",
    "SearchService_GetClientInfo",
    "UgcService_GetMovieRating",
    "AnalyticsService_ListTopMovies",
    "AnalyticsService_GetMovieWatchTotals",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in document["paths"].values() for operation in item.values()]


def declared_keywords(field: FieldDescriptor) -> dict[str, object]:
    """The JSON schema keywords a field's buf.validate rules amount to."""
    rules: validate_pb2.FieldRules = field.GetOptions().Extensions[validate_pb2.field]
    expected: dict[str, object] = {}
    kind = rules.WhichOneof("type")
    if kind in ("int32", "int64", "double"):
        numeric = getattr(rules, kind)
        expected |= {"minimum": numeric.gte} if numeric.HasField("gte") else {}
        expected |= {"maximum": numeric.lte} if numeric.HasField("lte") else {}
    elif kind == "string":
        text = rules.string
        expected |= {"maxLength": text.max_len} if text.HasField("max_len") else {}
        expected |= {"pattern": text.pattern} if text.HasField("pattern") else {}
        expected |= {"enum": list(getattr(text, "in"))} if getattr(text, "in") else {}
    elif kind == "repeated":
        expected |= {"maxItems": rules.repeated.max_items} if rules.repeated.HasField("max_items") else {}
    elif kind is not None:
        pytest.fail(f"{field.full_name}: rules of kind {kind} are not checked here yet")
    return expected


def test_every_declared_rule_reaches_its_parameter(document: dict[str, Any]) -> None:
    checked = 0
    for operation in operations(document):
        if "requestBody" in operation:  # fields in a body are a schema, checked by schemathesis
            continue
        service, _, name = operation["operationId"].partition("_")
        method = SERVICES[service].methods_by_name[name]
        parameters = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
        assert set(parameters) == set(method.input_type.fields_by_name), operation["operationId"]
        for field in method.input_type.fields:
            parameter = parameters[field.name]
            expected = declared_keywords(field)
            assert {key: parameter["schema"].get(key) for key in expected} == expected, field.full_name
            required = field.GetOptions().Extensions[validate_pb2.field].required or parameter["in"] == "path"
            assert parameter.get("required", False) is required, field.full_name
            checked += len(expected)
    assert checked >= 30, "the contracts declare at least this many bounds, enums and patterns on parameters"


def test_responses_are_the_gateways(document: dict[str, Any]) -> None:
    for operation in operations(document):
        has_path_parameter = any(p["in"] == "path" for p in operation.get("parameters", []))
        expected = {"200", "400", "401", "503", "504"} | ({"404"} if has_path_parameter else set())
        expected |= {"501"} if operation["operationId"] in NOT_SERVED_YET else set()
        assert set(operation["responses"]) == expected, operation["operationId"]
    status = document["components"]["schemas"]["google.rpc.Status"]
    assert status["required"] == ["code", "message", "details"]
    assert status["additionalProperties"] is False


def test_the_rules_across_fields_are_listed_on_their_operation(document: dict[str, Any]) -> None:
    listing = document["paths"]["/api/v1/video/collection"]["get"]
    assert [rule["id"] for rule in listing["x-message-rules"]] == [
        "page.within_result_window",
        "min_rating.not_above_max_rating",
    ]
    assert "page.within_result_window" in listing["description"]


def test_only_the_users_own_operations_need_a_bearer_token(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for operation in operations(document):
        public = operation["operationId"] in PUBLIC
        assert ("security" not in operation) is public, operation["operationId"]
        if not public:
            assert operation["security"] == [{"bearer": []}]


def test_a_field_rule_no_schema_states_is_listed_on_its_operation(document: dict[str, Any]) -> None:
    events = document["paths"]["/api/v1/ugc/events"]["post"]
    assert [rule["id"] for rule in events["x-message-rules"]] == ["client_time.within_bounds"]
    assert "client_time.within_bounds" in events["description"]


def test_a_page_token_lists_the_rule_that_only_an_issued_one_continues(document: dict[str, Any]) -> None:
    paged = {
        operation["operationId"]
        for operation in operations(document)
        if any(p["name"] == "page_token" for p in operation.get("parameters", []))
    }
    assert paged == {"UgcService_ListProgress", "UgcService_ListFavorites", "UgcService_ListRatings"}
    for operation in operations(document):
        ids = [rule["id"] for rule in operation.get("x-message-rules", [])]
        assert ("page_token.issued" in ids) is (operation["operationId"] in paged), operation["operationId"]


def test_success_bodies_require_what_the_gateway_always_prints(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    # An unrated movie has no imdb_rating at all (proto3 optional), never null.
    assert schemas["cinemesh.search.v1.VideoSummary"]["required"] == ["id", "title"]
    assert "nullable" not in str(document)
    assert schemas["cinemesh.search.v1.ListVideosResponse"]["required"] == ["items", "total", "page", "limit", "genres"]
    # Request messages of GET operations are parameters, not schemas; a body sent whole is one.
    requests = [name for name in schemas if name.startswith("cinemesh.") and name.endswith("Request")]
    assert requests == ["cinemesh.ugc.v1.RecordPlaybackEventsRequest"]


def test_a_body_is_required_only_when_its_message_requires_a_field(document: dict[str, Any]) -> None:
    bodies = {
        (path, method): operation["requestBody"].get("required")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    # No body is the empty message to the gateway: a position report at its defaults is a valid one.
    assert bodies == {
        ("/api/v1/ugc/events", "post"): True,
        ("/api/v1/ugc/progress/{movie_id}", "put"): False,
        ("/api/v1/ugc/ratings/{movie_id}", "put"): True,
    }


OLD_STYLE = """
syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";
service ShopService {
  rpc GetItem(GetItemRequest) returns (Item) {
    option (google.api.http) = {get: "/v1/items/{id}"};
  }
}
message GetItemRequest { string id = 1; int32 limit = 2; }
message Item { string id = 1; optional double price = 2; }
"""


def test_a_tree_without_buf_validate_gets_a_document_too(tmp_path: Path) -> None:
    plugin = tool_paths().get("CONTRACTS_OPENAPI_PLUGIN")
    if not plugin:
        pytest.fail("the OpenAPI generator is not built: `make setup` builds it")
    (tmp_path / "protos" / "shop" / "v1").mkdir(parents=True)
    (tmp_path / "protos" / "shop" / "v1" / "shop.proto").write_text(OLD_STYLE)
    out = tmp_path / "openapi.yaml"
    command = [sys.executable, "-m", "devstack.contracts.openapi", "--protos", str(tmp_path / "protos")]
    command += ["--deps", str(PROTODEPS), "--plugin", plugin, "--out", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    assert run.returncode == 0, run.stderr
    generated = yaml.safe_load(out.read_text())
    operation = generated["paths"]["/v1/items/{id}"]["get"]
    assert operation["operationId"] == "ShopService_GetItem"
    assert set(operation["responses"]) == {"200", "400", "401", "404", "503", "504"}
    assert "x-message-rules" not in operation
    assert "security" not in operation
    assert [p["name"] for p in operation["parameters"]] == ["id", "limit"]
    assert generated["components"]["schemas"]["shop.v1.Item"]["required"] == ["id"]


def test_a_broken_tree_fails_with_protocs_words(tmp_path: Path) -> None:
    (tmp_path / "bad.proto").write_text('syntax = "proto3";\nmessage {')
    command = [sys.executable, "-m", "devstack.contracts.openapi", "--protos", str(tmp_path), "--deps", str(PROTODEPS)]
    command += ["--plugin", "/nonexistent", "--out", str(tmp_path / "out.yaml")]
    run = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    assert run.returncode == 1
    assert "bad.proto" in run.stderr
    assert not (tmp_path / "out.yaml").exists()
