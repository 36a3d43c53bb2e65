"""schemathesis fuzzes every operation of the generated OpenAPI document through the gateway.

Valid and invalid inputs alike must never produce a 5xx; every error body must be the JSON error shape; every
status, content type and body must be the ones the document declares; data the document calls valid must be
accepted and data it calls invalid refused.

CI runs the same examples every time (derandomized). `make fuzz` runs longer with a fresh seed it prints
(FUZZ_SEED=n repeats a run, FUZZ_EXAMPLES=n sets its length).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.result import Ok
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack import identity
from devstack.gateway import GatewaySettings
from tests.e2e.conftest import REPO, Mesh

SEED = os.environ.get("FUZZ_SEED")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

schema = schemathesis.openapi.from_path(REPO / "build" / "openapi" / "openapi.yaml")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
if SEED is not None:
    schema.config.seed = int(SEED)
# Valid data gets its answer; 404 is an answer too where a path names a resource that may not exist (status
# conformance refuses it wherever the document does not list it). Not schemathesis' default list, which also
# takes 3xx, 409, 429 and any 5xx as acceptance.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(expected_statuses=["2xx", "404"])


@schemathesis.check
def no_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    # 501 is the documented answer of an operation not served yet, not a failure of the server.
    if response.status_code == 501 and case.operation.definition.raw.get("x-not-served-yet"):
        return None
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} from {case.method} {case.formatted_path}: {response.text[:300]}")
    return None


@schemathesis.check
def errors_are_json(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"{response.status_code} came as {content_type!r}"
    body = json.loads(response.text)
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["code"], int)
    assert body["message"], "an error must say what went wrong"
    return None


@schemathesis.check
def valid_data_is_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis' positive_data_acceptance, but a rule across parameters, which no JSON schema can state, may
    refuse parameters each valid on its own: such a 400 passes only if every violation it lists is one of the
    rules the operation documents (`x-message-rules`), named by its id.

    An operation the document marks `x-not-served-yet` answers its documented 501 to valid data until its store
    lands: accepting it is all it can do, and the e2e tests check that exactly those operations answer 501."""
    raw = case.operation.definition.raw
    if raw.get("x-not-served-yet") and response.status_code == 501:
        return None
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        documented = {rule["id"] for rule in raw.get("x-message-rules", [])}
        if response.status_code != 400 or not documented:
            raise
        reasons = _violated_rules(json.loads(response.text))
        if not reasons or not reasons <= documented:
            raise
        return None


@schemathesis.check
def invalid_data_is_rejected(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis' negative_data_rejection, but a body whose only fault is a property its message lacks may be
    accepted: Envoy's transcoder ignores unknown JSON fields (there is no option to refuse them), while the
    document keeps `additionalProperties: false` to tell clients what is read."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData as accepted:
        if "in body - object with unexpected properties" in str(accepted) and response.status_code < 300:
            return None
        raise


def _violated_rules(body: dict[str, Any]) -> set[str]:
    return {
        violation.get("reason", "")
        for detail in body.get("details", [])
        if detail.get("@type") == "type.googleapis.com/google.rpc.BadRequest"
        for violation in detail["field_violations"]
    }


CHECKS = [
    no_server_error,
    errors_are_json,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    invalid_data_is_rejected,
    valid_data_is_accepted,
    # Not `unsupported_method`: it probes with QUERY, which Envoy rightly refuses with 400 when the request
    # has no content-type (RFC 9110 extension semantics); 405 for other methods is tested in test_rest_gateway.
]


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=SEED is None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case: Case, mesh: Mesh, token: str) -> None:
    # A valid token on every call: the operations that need one get it, and a public one takes it as well.
    case.call_and_validate(
        base_url=mesh.base_url, checks=CHECKS, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def test_the_document_covers_all_rest_operations() -> None:
    results = list(schema.get_all_operations())
    operations = {result.ok().definition.raw["operationId"] for result in results if isinstance(result, Ok)}
    assert len(operations) == len(results), "some operations of the document did not load"
    assert operations == {
        "SearchService_ListVideos",
        "SearchService_GetVideo",
        "SearchService_SuggestTitles",
        "SearchService_GetClientInfo",
        "UgcService_RecordPlaybackEvents",
        "UgcService_SetProgress",
        "UgcService_GetProgress",
        "UgcService_ListProgress",
        "UgcService_AddFavorite",
        "UgcService_RemoveFavorite",
        "UgcService_ListFavorites",
        "UgcService_SetRating",
        "UgcService_DeleteRating",
        "UgcService_ListRatings",
        "UgcService_GetMovieRating",
        "AnalyticsService_ListTopMovies",
        "AnalyticsService_ListWatchHistory",
        "AnalyticsService_GetMovieWatchTotals",
    }


@pytest.fixture(scope="module")
def token(mesh: Mesh) -> str:
    """A token of the development key the mesh's gateway trusts, valid for the whole run."""
    settings = GatewaySettings()
    return identity.token(
        "fuzzer",
        key=identity.dev_signing_key(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=3 * 3600,
    )


@pytest.fixture(autouse=True, scope="module")
def _mesh_first(mesh: Mesh) -> None:
    """Start the mesh before hypothesis begins generating, so start-up time is not counted against examples."""
