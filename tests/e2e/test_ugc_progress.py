"""Resume positions through the real Envoy: playback events posted by a user become their progress once the
projection has read them from the event log (a moment later: read after write lags), scoped to the token's
user, newest report winning whatever the order the events were sent in."""

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
from tests.e2e.test_rest_gateway import assert_json_error
from tests.e2e.test_ugc_api import bearer, event, token_for

EVENTS = "/api/v1/ugc/events"
PROGRESS = "/api/v1/ugc/progress"
# The most a test waits for the projection: a guard against a hang, not a latency target.
PATIENCE = 60.0


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return identity.dev_signing_key()


def at(seconds_ago: float) -> str:
    # Milliseconds: what the bus and the store keep.
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_for(http: httpx.Client, path: str, token: str, expected: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """GET `path` until its progress holds the `expected` fields; the reply and how long that took."""
    started = time.monotonic()
    while True:
        reply = http.get(path, headers=bearer(token))
        if reply.status_code == 200:
            progress = reply.json()["progress"]
            if all(progress.get(name) == value for name, value in expected.items()):
                return progress, time.monotonic() - started
        else:
            assert reply.status_code == 404, reply.text
        assert time.monotonic() - started < PATIENCE, f"{path}: last answer {reply.status_code} {reply.text}"
        time.sleep(0.1)


def test_posted_events_become_the_users_progress_newest_report_first(
    http: httpx.Client, key: rsa.RSAPrivateKey, capsys: pytest.CaptureFixture[str]
) -> None:
    user = f"progress-{uuid.uuid4().hex[:8]}"
    token = token_for(user, key)
    pause = event(movie_id="tt0000001", type="pause", position_ms=61_000, client_time=at(10), device="tv")
    sent = [
        event(movie_id="tt0000001", type="play", position_ms=1_000, client_time=at(20)),
        pause,
        # Sent last, reported earliest: it must not win.
        event(movie_id="tt0000001", type="seek_back", position_ms=500, client_time=at(30)),
        event(movie_id="tt0000002", type="seek_forward", position_ms=5_000, client_time=at(5)),
    ]
    reply = http.post(EVENTS, json={"events": sent}, headers=bearer(token))
    assert reply.status_code == 200, reply.text

    first, lag = wait_for(http, f"{PROGRESS}/tt0000001", token, {"position_ms": 61_000})
    assert first["movie_id"] == "tt0000001"
    assert first["device"] == "tv"
    assert first.get("finished", False) is False
    assert datetime.fromisoformat(first["updated_at"]) == datetime.fromisoformat(pause["client_time"])
    wait_for(http, f"{PROGRESS}/tt0000002", token, {"position_ms": 5_000})

    listed = http.get(PROGRESS, headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert [item["movie_id"] for item in listed.json()["items"]] == ["tt0000002", "tt0000001"]
    # One item a page: the token continues after the first.
    page = http.get(PROGRESS, params={"page_size": 1}, headers=bearer(token)).json()
    assert [item["movie_id"] for item in page["items"]] == ["tt0000002"]
    rest = http.get(PROGRESS, params={"page_size": 1, "page_token": page["next_page_token"]}, headers=bearer(token))
    assert [item["movie_id"] for item in rest.json()["items"]] == ["tt0000001"]
    with capsys.disabled():
        print(f"\nprogress readable {lag:.2f} s after the events were accepted")  # noqa: T201


def test_progress_is_the_callers_own(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    owner, other = f"owner-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    sent = event(movie_id="tt0000003", position_ms=7_000)
    assert http.post(EVENTS, json={"events": [sent]}, headers=bearer(token_for(owner, key))).status_code == 200
    wait_for(http, f"{PROGRESS}/tt0000003", token_for(owner, key), {"position_ms": 7_000})

    assert_json_error(http.get(f"{PROGRESS}/tt0000003", headers=bearer(token_for(other, key))), 404, 5)
    assert http.get(PROGRESS, headers=bearer(token_for(other, key))).json().get("items", []) == []


def test_a_refused_page_token_is_400_json(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    reply = http.get(PROGRESS, params={"page_token": "not-issued"}, headers=bearer(token_for("u", key)))
    assert_json_error(reply, 400, 3)


def test_progress_needs_a_token(http: httpx.Client) -> None:
    assert_json_error(http.get(f"{PROGRESS}/tt0000001"), 401, 16)


def test_a_set_position_is_answered_at_once_and_readable_after_the_projection(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    token = token_for(f"setter-{uuid.uuid4().hex[:8]}", key)
    body = {"position_ms": 5_700_000, "duration_ms": 6_000_000, "client_time": at(2), "device": "phone"}
    reply = http.put(f"{PROGRESS}/tt0000004", json=body, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    answered = reply.json()["progress"]
    # 95 % of the duration: in the credits, so finished.
    assert (answered["position_ms"], answered["duration_ms"], answered["finished"]) == (5_700_000, 6_000_000, True)

    stored, _ = wait_for(http, f"{PROGRESS}/tt0000004", token, {"position_ms": 5_700_000})
    assert stored == answered
    # Finished: not in "continue watching".
    assert http.get(PROGRESS, headers=bearer(token)).json().get("items", []) == []

    # An older report (by client time) leaves the stored one in place and says so.
    older = http.put(
        f"{PROGRESS}/tt0000004", json={"position_ms": 10, "client_time": at(60)}, headers=bearer(token)
    ).json()["progress"]
    assert older == answered


def test_a_set_position_the_contract_refuses_is_400_json(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    token = token_for("u", key)
    assert_json_error(http.put(f"{PROGRESS}/tt1", json={"position_ms": -1}, headers=bearer(token)), 400, 3)
    far = {"position_ms": 1, "client_time": at(-3600)}
    assert_json_error(http.put(f"{PROGRESS}/tt1", json=far, headers=bearer(token)), 400, 3)
