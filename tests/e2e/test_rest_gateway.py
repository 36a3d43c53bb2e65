"""REST through the real Envoy to the real services: the contract apps see."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import Mesh

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=10) as client:
        yield client


def assert_json_error(reply: httpx.Response, status: int, code: int) -> dict[str, object]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["details"], list)
    return body  # type: ignore[no-any-return]


# --- client info ------------------------------------------------------------------------------------------------------


def test_client_info_returns_the_user_agent_exactly_as_sent(http: httpx.Client) -> None:
    reply = http.get("/client/info", headers={"User-Agent": "X"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["user_agent"] == "X"
    assert body["device_class"] == "unknown"
    assert body["ip"] == "127.0.0.1"
    # Zero values are printed, so apps never meet a missing key.
    assert body["os"] == {"name": "", "version": ""}
    assert body["browser"] == {"name": "", "version": ""}


def test_client_info_parses_a_real_browser(http: httpx.Client) -> None:
    body = http.get("/client/info", headers={"User-Agent": CHROME_WINDOWS}).json()
    assert body["user_agent"] == CHROME_WINDOWS
    assert body["device_class"] == "desktop"
    assert body["os"]["name"] == "Windows"
    assert body["browser"]["name"] == "Chrome"
    assert body["browser"]["version"].startswith("120")


def test_client_info_ignores_an_ip_claimed_by_the_client(http: httpx.Client) -> None:
    body = http.get("/client/info", headers={"X-Client-IP": "203.0.113.9", "X-Forwarded-For": "198.51.100.1"}).json()
    assert body["ip"] == "127.0.0.1"


def test_client_info_without_a_user_agent(http: httpx.Client) -> None:
    request = http.build_request("GET", "/client/info")
    del request.headers["user-agent"]
    body = http.send(request).json()
    assert body["user_agent"] == ""
    assert body["device_class"] == "unknown"


# --- errors are JSON, never 5xx for a client's mistake ----------------------------------------------------------------


def test_unknown_path_is_404_json(http: httpx.Client) -> None:
    assert_json_error(http.get("/nope"), 404, 5)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bogus=1", "bogus"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("sort=aaa", "sort"),
        ("sort_order=neutral", "sort_order"),
        ("limit=99999999999999", "limit"),
    ],
)
def test_bad_listing_parameters_are_400_json_naming_the_parameter(
    http: httpx.Client, query: str, parameter: str
) -> None:
    body = assert_json_error(http.get(f"/api/v1/video/collection?{query}"), 400, 3)
    assert parameter in str(body["message"])


def field_violations(body: dict[str, object]) -> list[tuple[str, str]]:
    details: dict[str, Any]
    (details,) = body["details"]  # type: ignore[misc]
    assert details["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    return [(v["field"], v["reason"]) for v in details["field_violations"]]


def test_validation_errors_carry_field_violations(http: httpx.Client) -> None:
    body = assert_json_error(http.get("/api/v1/video/collection?limit=0&sort=aaa"), 400, 3)
    assert field_violations(body) == [("limit", "int32.gte_lte"), ("sort", "string.in")]


def test_every_broken_rule_of_the_contract_is_reported_at_once(http: httpx.Client) -> None:
    query = "limit=0&page=0&sort=x&sort_order=y&min_rating=11&max_rating=2&search=" + "я" * 257
    body = assert_json_error(http.get(f"/api/v1/video/collection?{query}&" + "&".join(["genre=g"] * 21)), 400, 3)
    assert field_violations(body) == [
        ("limit", "int32.gte_lte"),
        ("page", "int32.gte_lte"),
        ("search", "string.max_len"),
        ("sort", "string.in"),
        ("sort_order", "string.in"),
        ("genre", "repeated.max_items"),
        ("min_rating", "double.gte_lte"),
        ("min_rating", "min_rating.not_above_max_rating"),
    ]


@pytest.mark.parametrize(
    ("path", "field", "rule"),
    [
        ("/api/v1/video/get/%20", "id", "string.pattern"),
        (f"/api/v1/video/get/{'x' * 65}", "id", "string.max_len"),
        ("/api/v1/video/suggest", "query", "required"),
        ("/api/v1/video/suggest?query=%20%20", "query", "string.pattern"),
        ("/api/v1/video/suggest?query=x&limit=21", "limit", "int32.gte_lte"),
    ],
)
def test_the_other_operations_check_their_contract(http: httpx.Client, path: str, field: str, rule: str) -> None:
    assert field_violations(assert_json_error(http.get(path), 400, 3)) == [(field, rule)]


@pytest.mark.parametrize("query", ["=x", "limit=3&=null", "=", "limit=3&=&sort=title"])
def test_a_query_parameter_without_a_name_is_400_json(http: httpx.Client, query: str) -> None:
    body = assert_json_error(http.get(f"/api/v1/video/collection?{query}"), 400, 3)
    assert "needs a name" in str(body["message"])


def test_a_value_with_an_encoded_equals_sign_is_still_served(http: httpx.Client) -> None:
    assert http.get("/api/v1/video/suggest?query=a%3Db").status_code == 200


@pytest.mark.parametrize("empty", ["sort", "sort_order", "search"])
def test_an_empty_parameter_is_the_same_as_none(http: httpx.Client, empty: str) -> None:
    reply = http.get(f"/api/v1/video/collection?limit=3&{empty}=")
    assert reply.status_code == 200, reply.text
    assert reply.json()["items"] == http.get("/api/v1/video/collection?limit=3").json()["items"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"])
@pytest.mark.parametrize(
    "path", ["/client/info", "/api/v1/video/collection", "/api/v1/video/get/tt1", "/api/v1/video/suggest"]
)
def test_a_known_path_with_another_method_is_405_json(http: httpx.Client, method: str, path: str) -> None:
    reply = http.request(method, path, json={})
    assert_json_error(reply, 405, 12)
    assert reply.headers["allow"] == "GET"


def test_a_string_that_is_not_utf8_is_400_not_500(http: httpx.Client) -> None:
    body = assert_json_error(http.get("/api/v1/video/collection?search=%FF%FE"), 400, 3)
    assert "malformed request" in str(body["message"])


def test_http_1_0_clients_are_served(mesh: Mesh) -> None:
    with socket.create_connection(("127.0.0.1", mesh.http_port), timeout=5) as sock:
        sock.sendall(b"GET /client/info HTTP/1.0\r\nUser-Agent: Old/1.0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200"))
    assert b'"user_agent":"Old/1.0"' in answer


def test_an_oversized_request_is_refused_with_json(http: httpx.Client) -> None:
    reply = http.request("GET", "/client/info", content=b"x" * (2 * 1024 * 1024))
    assert 400 <= reply.status_code < 500
    assert reply.headers["content-type"].startswith("application/json")


def test_oversized_headers_are_refused_with_json(http: httpx.Client) -> None:
    reply = http.get("/client/info", headers={"X-Big": "y" * 40_000})
    assert reply.status_code == 431
    assert reply.headers["content-type"].startswith("application/json")


def test_a_page_past_the_deepest_served_is_400_not_500(http: httpx.Client) -> None:
    assert http.get("/api/v1/video/collection?limit=100&page=100").status_code == 200
    body = assert_json_error(http.get("/api/v1/video/collection?limit=100&page=101"), 400, 3)
    assert "page" in str(body["message"])
    assert field_violations(body) == [("page", "page.within_result_window")]


def test_an_unknown_movie_is_404_json(http: httpx.Client) -> None:
    assert_json_error(http.get("/api/v1/video/get/tt0000000"), 404, 5)


# --- browsers and documentation ---------------------------------------------------------------------------------------


def test_cors_preflight_is_answered(http: httpx.Client) -> None:
    reply = http.options(
        "/api/v1/video/collection",
        headers={"Origin": "https://tv.example", "Access-Control-Request-Method": "GET"},
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://tv.example"
    assert "GET" in reply.headers["access-control-allow-methods"]


def test_cors_headers_on_a_real_request(http: httpx.Client) -> None:
    reply = http.get("/client/info", headers={"Origin": "https://tv.example"})
    assert reply.headers["access-control-allow-origin"] == "https://tv.example"


def test_openapi_document_is_served_and_lists_every_operation(http: httpx.Client) -> None:
    reply = http.get("/openapi.yaml")
    assert reply.status_code == 200
    document = yaml.safe_load(reply.text)
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/video/collection",
        "/api/v1/video/get/{id}",
        "/api/v1/video/suggest",
        "/client/info",
        "/api/v1/ugc/events",
        "/api/v1/ugc/progress",
        "/api/v1/ugc/progress/{movie_id}",
        "/api/v1/ugc/favorites",
        "/api/v1/ugc/favorites/{movie_id}",
        "/api/v1/ugc/ratings",
        "/api/v1/ugc/ratings/{movie_id}",
        "/api/v1/movies/{movie_id}/rating",
        "/api/v1/analytics/top-movies",
        "/api/v1/ugc/history",
        "/api/v1/analytics/movies/{movie_id}/totals",
    }
    assert (document["info"]["title"], document["info"]["version"]) == ("cinemesh", "v1")


def test_swagger_ui_is_served(http: httpx.Client) -> None:
    page = http.get("/docs/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.yaml" in page.text
    for asset, kind in (("/docs/swagger-ui-bundle.js", "text/javascript"), ("/docs/swagger-ui.css", "text/css")):
        reply = http.get(asset)
        assert reply.status_code == 200
        assert reply.headers["content-type"] == kind
        assert len(reply.content) > 10_000
    assert http.get("/docs").status_code == 301
