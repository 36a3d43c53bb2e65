"""The analytics reads through the real Envoy, served by the sink from its embedded store (chDB): REST paths, the
caller's own history behind a verified token, every refusal JSON in the one error shape, and the whole default
profile end to end: events a player posts to the UGC service reach the sink through the embedded log and show in
the caller's history and the movie's totals."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import identity
from tests.e2e.conftest import Mesh
from tests.e2e.test_rest_gateway import assert_json_error, field_violations
from tests.e2e.test_ugc_api import bearer, token_for

TOP = "/api/v1/analytics/top-movies"
HISTORY = "/api/v1/ugc/history"
JAN_1999 = 915_148_800_000  # 1999-01-01T00:00:00Z, epoch ms
FEB_1999 = 917_827_200_000


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return identity.dev_signing_key()


def test_top_movies_of_a_range_nobody_watched_is_an_empty_list(http: httpx.Client) -> None:
    reply = http.get(TOP, params={"from": JAN_1999, "to": FEB_1999, "limit": 5})
    assert reply.status_code == 200, reply.text
    assert reply.json().get("items", []) == []


@pytest.mark.parametrize(
    ("query", "violations"),
    [
        ({"from": FEB_1999, "to": JAN_1999}, [("to", "to.after_from")]),
        ({"from": JAN_1999}, [("to", "required")]),
        ({"from": JAN_1999, "to": FEB_1999, "limit": 0}, [("limit", "int32.gte_lte")]),
        ({"from": -1, "to": FEB_1999}, [("from", "int64.gte")]),
    ],
    ids=["to-before-from", "no-to", "limit-0", "negative-from"],
)
def test_a_bad_range_or_limit_is_400_json_naming_it(
    http: httpx.Client, query: dict[str, str | int], violations: list[tuple[str, str]]
) -> None:
    body = assert_json_error(http.get(TOP, params=query), 400, 3)
    assert field_violations(body) == violations


def test_a_time_that_is_not_a_number_is_400_json(http: httpx.Client) -> None:
    assert_json_error(http.get(TOP, params={"from": "yesterday", "to": FEB_1999}), 400, 3)


def test_history_needs_a_token_and_is_the_callers_own(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    assert_json_error(http.get(HISTORY), 401, 16)
    reply = http.get(HISTORY, headers=bearer(token_for(f"user-{uuid.uuid4()}", key)))
    assert reply.status_code == 200, reply.text
    assert reply.json().get("items", []) == []
    # A client's own user header is removed before the token is checked: it names nobody.
    assert_json_error(http.get(HISTORY, headers={"x-user-id": "someone-else"}), 401, 16)


def test_totals_of_a_movie_nobody_watched_are_zeros(http: httpx.Client) -> None:
    # A movie of its own: the mesh's sink loads what the other tests' players send.
    movie = f"tt-unwatched-{uuid.uuid4().hex[:8]}"
    reply = http.get(f"/api/v1/analytics/movies/{movie}/totals")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"movie_id": movie, "watched_ms": "0", "viewers": "0"}


def test_another_method_on_an_analytics_path_is_405_json(http: httpx.Client) -> None:
    reply = http.post(TOP)
    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET"
    assert reply.headers["content-type"].startswith("application/json")


def test_events_a_player_posts_show_in_the_history_and_totals_once_the_sink_loaded_them(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    movie, token = f"tt-e2e-{uuid.uuid4().hex[:8]}", token_for(f"user-{uuid.uuid4()}", key)
    start = datetime.now(UTC) - timedelta(minutes=5)

    def at(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    events = [
        {"movie_id": movie, "type": "play", "position_ms": 0, "client_time": at(0)},
        {"movie_id": movie, "type": "pause", "position_ms": 60_000, "client_time": at(60)},
        {"movie_id": movie, "type": "play", "position_ms": 60_000, "client_time": at(100)},
        {"movie_id": movie, "type": "stop", "position_ms": 90_000, "client_time": at(130)},
    ]
    posted = http.post("/api/v1/ugc/events", json={"events": events}, headers=bearer(token))
    assert posted.status_code == 200, posted.text
    # Sent again, as a client retrying with the ids it was given: counted once.
    ids = posted.json()["event_ids"]
    again = [{**event, "event_id": event_id} for event, event_id in zip(events, ids, strict=True)]
    assert http.post("/api/v1/ugc/events", json={"events": again}, headers=bearer(token)).status_code == 200

    history: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not history and time.monotonic() < deadline:
        reply = http.get(HISTORY, headers=bearer(token))
        assert reply.status_code == 200, reply.text
        history = reply.json().get("items", [])
        time.sleep(0.2)

    assert [(h["movie_id"], h["watched_ms"], h["last_position_ms"]) for h in history] == [(movie, "90000", "90000")]
    totals = http.get(f"/api/v1/analytics/movies/{movie}/totals").json()
    assert totals == {"movie_id": movie, "watched_ms": "90000", "viewers": "1"}
