"""The UGC API through the real Envoy with real tokens: who the caller is comes from a verified JWT only, events
land on the embedded log under the token's subject, and every refusal is JSON in the one error shape."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
import yaml
from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import identity
from devstack.contracts.openapi import NOT_SERVED_YET
from devstack.gateway import GatewaySettings
from meshkit.avro_wire import decode, schema_id_of
from meshkit.embedded_log import EmbeddedLog
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from tests.e2e.conftest import REPO, Mesh
from tests.e2e.test_rest_gateway import assert_json_error, field_violations
from ugc_svc.adapters.playback_event_avro import from_record
from ugc_svc.domain.playback import PlaybackEvent
from ugc_svc.settings import UgcSettings

EVENTS = "/api/v1/ugc/events"
SETTINGS = GatewaySettings()


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    """The development key the mesh's gateway trusts (made by its first start)."""
    return identity.dev_signing_key()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(user: str, key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience, "sub": user, "iat": now, "exp": now + 600}
    payload.update(claims)
    return identity.sign(payload, key)


def event(**overrides: Any) -> dict[str, Any]:
    body = {
        "event_id": str(uuid.uuid4()),
        "movie_id": "tt0076759",
        "type": "play",
        "position_ms": 1000,
        "client_time": (datetime.now(UTC) - timedelta(seconds=3)).isoformat().replace("+00:00", "Z"),
    }
    body.update(overrides)
    return body


def events_on_the_log(mesh: Mesh) -> list[PlaybackEvent]:
    """Every event on the mesh's embedded log, decoded by the schema id in each record, as any consumer would."""
    topic = UgcSettings().events_topic
    log = EmbeddedLog(mesh.event_log)
    try:
        registry = EmbeddedSchemaRegistry(log)
        return [
            from_record(decode(record.value, registry.schema(schema_id_of(record.value))))
            for partition in range(log.partitions(topic))
            for record in log.read(topic, partition, 0, limit=1_000_000)
        ]
    finally:
        log.close()


# --- a valid token ----------------------------------------------------------------------------------------------------


def test_events_are_stored_under_the_tokens_subject(http: httpx.Client, mesh: Mesh, key: rsa.RSAPrivateKey) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    sent = [event(device="android-tv", session_id="s-1"), event(event_id="", type="seek_forward", position_ms=9000)]
    reply = http.post(EVENTS, json={"events": sent}, headers=bearer(token_for(user, key)))
    assert reply.status_code == 200, reply.text
    ids = reply.json()["event_ids"]
    assert ids[0] == sent[0]["event_id"]
    assert uuid.UUID(ids[1]).version == 4  # the service's own id for the event sent without one
    stored = {e.event_id: e for e in events_on_the_log(mesh) if e.user_id == user}
    assert set(stored) == set(ids)
    first, second = stored[ids[0]], stored[ids[1]]
    assert (first.movie_id, first.type, first.position_ms, first.device, first.playback_session_id) == (
        "tt0076759",
        "play",
        1000,
        "android-tv",
        "s-1",
    )
    assert (second.type, second.position_ms, second.device) == ("seek_forward", 9000, None)
    assert abs(first.server_time - datetime.now(UTC)) < timedelta(minutes=1)


def test_make_token_prints_a_token_the_gateway_accepts(http: httpx.Client, mesh: Mesh) -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    user = f"cli-{uuid.uuid4().hex[:8]}"
    printed = subprocess.run(
        [sys.executable, "-m", "devstack", "token", user], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    reply = http.post(EVENTS, json={"events": [event()]}, headers=bearer(printed))
    assert reply.status_code == 200, reply.text
    assert [e.user_id for e in events_on_the_log(mesh) if e.event_id == reply.json()["event_ids"][0]] == [user]


def test_a_clients_user_header_is_ignored_the_tokens_subject_wins(
    http: httpx.Client, mesh: Mesh, key: rsa.RSAPrivateKey
) -> None:
    user = f"real-{uuid.uuid4().hex[:8]}"
    headers = bearer(token_for(user, key)) | {"x-user-id": "somebody-else"}
    reply = http.post(EVENTS, json={"events": [event()]}, headers=headers)
    assert reply.status_code == 200, reply.text
    (stored,) = [e for e in events_on_the_log(mesh) if e.event_id == reply.json()["event_ids"][0]]
    assert stored.user_id == user


# --- refusals: 401 JSON in the one shape ------------------------------------------------------------------------------


def forged() -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Named as the trusted key, signed by another.
    return identity.sign(
        {"iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience, "sub": "mallory", "exp": int(time.time()) + 600},
        other,
        kid=identity.public_jwk(identity.dev_signing_key())["kid"],
    )


REFUSED: dict[str, Callable[[rsa.RSAPrivateKey], str | None]] = {
    "missing": lambda key: None,
    "forged signature": lambda key: forged(),
    "expired": lambda key: token_for("u", key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "wrong issuer": lambda key: token_for("u", key, iss="https://someone-else.example"),
    "wrong audience": lambda key: token_for("u", key, aud="another-api"),
    "not a jwt": lambda key: "not.a.token",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_request_without_a_valid_token_is_401_json(
    http: httpx.Client, mesh: Mesh, key: rsa.RSAPrivateKey, case: str
) -> None:
    token = REFUSED[case](key)
    marker = str(uuid.uuid4())
    headers = (bearer(token) if token else {}) | {"x-user-id": "somebody-else"}
    reply = http.post(EVENTS, json={"events": [event(event_id=marker)]}, headers=headers)
    body = assert_json_error(reply, 401, 16)
    assert body["details"][0]["reason"].startswith("jwt_authn_access_denied"), body  # type: ignore[index]
    assert marker not in {e.event_id for e in events_on_the_log(mesh)}


def test_a_bad_token_on_a_public_route_is_401_and_none_is_fine(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    assert http.get("/api/v1/video/collection?limit=1").status_code == 200
    assert http.get("/api/v1/video/collection?limit=1", headers=bearer(token_for("u", key))).status_code == 200
    assert_json_error(http.get("/api/v1/video/collection?limit=1", headers=bearer(forged())), 401, 16)
    assert_json_error(
        http.get("/api/v1/video/collection?limit=1", headers=bearer(token_for("u", key, aud="x"))), 401, 16
    )


# --- bad events -------------------------------------------------------------------------------------------------------


def test_bad_events_are_400_naming_every_violation_and_nothing_is_stored(
    http: httpx.Client, mesh: Mesh, key: rsa.RSAPrivateKey
) -> None:
    good = event()
    sent = [
        good,
        event(movie_id="", position_ms=-5),
        event(type="rewind"),
        event(client_time="2001-01-01T00:00:00Z", event_id="has space"),
    ]
    reply = http.post(EVENTS, json={"events": sent}, headers=bearer(token_for("u-bad", key)))
    assert field_violations(assert_json_error(reply, 400, 3)) == [
        ("events[1].movie_id", "required"),
        ("events[1].position_ms", "int32.gte"),
        ("events[2].type", "string.in"),
        ("events[3].event_id", "string.pattern"),
        ("events[3].client_time", "client_time.within_bounds"),
    ]
    assert good["event_id"] not in {e.event_id for e in events_on_the_log(mesh)}


def test_an_empty_or_oversized_batch_is_400(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    headers = bearer(token_for("u-size", key))
    assert field_violations(assert_json_error(http.post(EVENTS, json={"events": []}, headers=headers), 400, 3)) == [
        ("events", "required")
    ]
    many = {"events": [event() for _ in range(501)]}
    assert field_violations(assert_json_error(http.post(EVENTS, json=many, headers=headers), 400, 3)) == [
        ("events", "repeated.max_items")
    ]


# --- favourites -------------------------------------------------------------------------------------------------------

FAVORITES = "/api/v1/ugc/favorites"


def favourites_of(http: httpx.Client, token: str) -> list[str]:
    """Every movie in the token's user's favourites, newest first, walking the pages."""
    movies: list[str] = []
    page_token = ""
    while True:
        reply = http.get(FAVORITES, params={"page_size": 100, "page_token": page_token}, headers=bearer(token))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        movies += [item["movie_id"] for item in body["items"]]
        page_token = body["next_page_token"]
        if not page_token:
            return movies


def test_adding_a_favourite_twice_keeps_one_entry_and_its_first_time(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    token = token_for(f"u-fav-{uuid.uuid4()}", key)
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = http.put(f"{FAVORITES}/tt0076759", headers=bearer(token))
    assert first.status_code == 200, first.text
    added = first.json()["favorite"]
    assert added["movie_id"] == "tt0076759"
    # The service's clock, not anything the client sent.
    assert before <= datetime.fromisoformat(added["added_at"]) <= datetime.now(UTC) + timedelta(seconds=1)

    again = http.put(f"{FAVORITES}/tt0076759", headers=bearer(token))
    assert again.status_code == 200, again.text
    assert again.json() == {"favorite": added}
    assert favourites_of(http, token) == ["tt0076759"]


def test_favourites_are_listed_newest_first_in_pages_the_token_continues(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    token = token_for(f"u-fav-{uuid.uuid4()}", key)
    for movie in ("tt1", "tt2", "tt3"):
        assert http.put(f"{FAVORITES}/{movie}", headers=bearer(token)).status_code == 200

    first = http.get(FAVORITES, params={"page_size": 2}, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert [item["movie_id"] for item in first.json()["items"]] == ["tt3", "tt2"]
    page_token = first.json()["next_page_token"]
    assert page_token

    second = http.get(FAVORITES, params={"page_size": 2, "page_token": page_token}, headers=bearer(token))
    assert second.status_code == 200, second.text
    assert [item["movie_id"] for item in second.json()["items"]] == ["tt1"]
    assert second.json()["next_page_token"] == ""


def test_removing_a_favourite_twice_leaves_it_gone(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    token = token_for(f"u-fav-{uuid.uuid4()}", key)
    for movie in ("tt1", "tt2"):
        assert http.put(f"{FAVORITES}/{movie}", headers=bearer(token)).status_code == 200

    for _ in range(2):
        removed = http.delete(f"{FAVORITES}/tt1", headers=bearer(token))
        assert removed.status_code == 200, removed.text
        assert removed.json() == {}
    assert favourites_of(http, token) == ["tt2"]


def test_another_users_token_never_sees_or_changes_them(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    alice, bob = (token_for(f"u-fav-{name}-{uuid.uuid4()}", key) for name in ("alice", "bob"))
    assert http.put(f"{FAVORITES}/tt1", headers=bearer(alice)).status_code == 200
    # A user header of the client's own names nobody: the gateway replaces it with the token's subject.
    spoofed = bearer(bob) | {"x-user-id": "alice"}

    assert favourites_of(http, bob) == []
    assert http.get(FAVORITES, headers=spoofed).json()["items"] == []
    assert http.delete(f"{FAVORITES}/tt1", headers=spoofed).status_code == 200
    assert favourites_of(http, alice) == ["tt1"]


@pytest.mark.parametrize(
    ("page_token", "reason"),
    [
        # Of the contract's pattern, so the service's rule refuses them.
        ("abc", "page_token.issued"),
        ("eyJub3QiOiJhIGN1cnNvciJ9", "page_token.issued"),
        # Refused by the contract's own bounds before the service sees them.
        ("a" * 600, "string.max_len"),
        ("not a token", "string.pattern"),
    ],
)
def test_a_page_token_the_list_did_not_return_is_400_json_naming_it(
    http: httpx.Client, key: rsa.RSAPrivateKey, page_token: str, reason: str
) -> None:
    reply = http.get(FAVORITES, params={"page_token": page_token}, headers=bearer(token_for("u-fav-bad", key)))
    assert field_violations(assert_json_error(reply, 400, 3)) == [("page_token", reason)]


def test_a_page_size_out_of_range_is_400_json_naming_it(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    for size in (0, 101):
        reply = http.get(FAVORITES, params={"page_size": size}, headers=bearer(token_for("u-fav-bad", key)))
        assert field_violations(assert_json_error(reply, 400, 3)) == [("page_size", "int32.gte_lte")]


def test_favourites_without_a_token_are_401_json(http: httpx.Client) -> None:
    assert_json_error(http.get(FAVORITES), 401, 16)
    assert_json_error(http.put(f"{FAVORITES}/tt1"), 401, 16)
    assert_json_error(http.delete(f"{FAVORITES}/tt1"), 401, 16)


# --- what is not served yet -------------------------------------------------------------------------------------------


def test_the_operations_not_served_yet_answer_501_json_and_no_other_does(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    document = yaml.safe_load((REPO / "build" / "openapi" / "openapi.yaml").read_text())
    unserved = set()
    for path, item in document["paths"].items():
        if not path.startswith(("/api/v1/ugc/", "/api/v1/movies/")):
            continue
        for verb, operation in item.items():
            body: dict[str, Any] | None = {"events": [event()]} if path == EVENTS else None
            if verb == "put" and "favorites/" not in path:
                body = {"score": 7} if "ratings/" in path else {"position_ms": 1}
            reply = http.request(
                verb.upper(), path.replace("{movie_id}", "tt0076759"), json=body, headers=bearer(token_for("u", key))
            )
            if reply.status_code == 501:
                assert_json_error(reply, 501, 12)
                unserved.add(operation["operationId"])
            else:
                # A read of one movie's resource nobody made is the 404 the operation documents.
                missing = reply.status_code == 404 and "404" in operation["responses"]
                assert reply.status_code == 200 or missing, f"{verb} {path}: {reply.text}"
    assert unserved == NOT_SERVED_YET


def test_an_unserved_users_operation_still_needs_a_token(http: httpx.Client) -> None:
    assert_json_error(http.get("/api/v1/ugc/progress"), 401, 16)


# --- ratings --------------------------------------------------------------------------------------------------------

RATINGS = "/api/v1/ugc/ratings"


def movie_rating(http: httpx.Client, movie: str, expected: dict[str, Any]) -> dict[str, Any]:
    """The public summary once it is `expected`, or what it is after 20 s: the projection applies a change a poll
    or two after PUT answered."""
    deadline = time.monotonic() + 20
    while True:
        reply = http.get(f"/api/v1/movies/{movie}/rating")
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        if body == expected or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_ratings_are_applied_and_averaged_per_movie_and_public_to_read(
    http: httpx.Client, key: rsa.RSAPrivateKey
) -> None:
    movie = f"tt-r-{uuid.uuid4().hex[:10]}"
    alice, bob = (token_for(f"u-rate-{name}-{uuid.uuid4()}", key) for name in ("alice", "bob"))
    before = datetime.now(UTC) - timedelta(seconds=1)
    set_reply = http.put(f"{RATINGS}/{movie}", json={"score": 9}, headers=bearer(alice))
    assert set_reply.status_code == 200, set_reply.text
    rating = set_reply.json()["rating"]
    assert (rating["movie_id"], rating["score"]) == (movie, 9)
    assert before <= datetime.fromisoformat(rating["updated_at"]) <= datetime.now(UTC) + timedelta(seconds=1)
    assert http.put(f"{RATINGS}/{movie}", json={"score": 4}, headers=bearer(bob)).status_code == 200
    assert http.put(f"{RATINGS}/{movie}", json={"score": 6}, headers=bearer(alice)).status_code == 200

    expected = {"movie_id": movie, "count": 2, "average": 5.0}
    assert movie_rating(http, movie, expected) == expected
    deadline = time.monotonic() + 20
    while (mine := http.get(RATINGS, headers=bearer(alice)).json()["items"])[0]["score"] != 6:
        assert time.monotonic() < deadline, mine
        time.sleep(0.1)
    assert [(item["movie_id"], item["score"]) for item in mine] == [(movie, 6)]


def test_a_removed_rating_leaves_the_list_and_the_average(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    movie = f"tt-r-{uuid.uuid4().hex[:10]}"
    alice, bob = (token_for(f"u-rate-{name}-{uuid.uuid4()}", key) for name in ("alice", "bob"))
    assert http.put(f"{RATINGS}/{movie}", json={"score": 2}, headers=bearer(alice)).status_code == 200
    assert http.put(f"{RATINGS}/{movie}", json={"score": 8}, headers=bearer(bob)).status_code == 200
    both = {"movie_id": movie, "count": 2, "average": 5.0}
    assert movie_rating(http, movie, both) == both

    for _ in range(2):
        removed = http.delete(f"{RATINGS}/{movie}", headers=bearer(alice))
        assert removed.status_code == 200, removed.text

    bobs = {"movie_id": movie, "count": 1, "average": 8.0}
    assert movie_rating(http, movie, bobs) == bobs
    assert http.get(RATINGS, headers=bearer(alice)).json()["items"] == []


def test_a_movie_nobody_rated_has_count_zero_and_no_average(http: httpx.Client) -> None:
    reply = http.get(f"/api/v1/movies/tt-none-{uuid.uuid4().hex[:8]}/rating")
    assert reply.status_code == 200, reply.text
    assert reply.json()["count"] == 0
    assert "average" not in reply.json()


def test_a_score_outside_0_to_10_or_missing_is_400_json(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    token = token_for("u-rate-bad", key)
    for body in ({"score": 11}, {"score": -1}, {}):
        reply = http.put(f"{RATINGS}/tt1", json=body, headers=bearer(token))
        assert field_violations(assert_json_error(reply, 400, 3))[0][0] == "score", body


def test_ratings_need_a_token_to_change_or_list(http: httpx.Client) -> None:
    assert_json_error(http.put(f"{RATINGS}/tt1", json={"score": 5}), 401, 16)
    assert_json_error(http.delete(f"{RATINGS}/tt1"), 401, 16)
    assert_json_error(http.get(RATINGS), 401, 16)


def test_a_full_batch_of_bad_events_is_400_naming_as_many_as_fit(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    """500 events each breaking three rules: the status details travel in a trailer the HTTP/2 hop caps, so the
    details name the first violations that fit (meshkit.grpc_errors.MAX_DETAILS_BYTES) and the message counts all."""
    sent = {"events": [event(type="rewind", position_ms=-1, movie_id="a b") for _ in range(500)]}
    body = assert_json_error(http.post(EVENTS, json=sent, headers=bearer(token_for("u-many", key))), 400, 3)
    named = field_violations(body)
    assert 300 <= len(named) < 1500
    assert named[:3] == [
        ("events[0].movie_id", "string.pattern"),
        ("events[0].type", "string.in"),
        ("events[0].position_ms", "int32.gte"),
    ]
    assert "and 1490 more" in str(body["message"])
    assert f"the details list the first {len(named)} of 1500" in str(body["message"])


def test_a_batch_of_100_bad_events_names_every_violation(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    sent = {"events": [event(type="rewind", position_ms=-1, movie_id="a b") for _ in range(100)]}
    body = assert_json_error(http.post(EVENTS, json=sent, headers=bearer(token_for("u-many", key))), 400, 3)
    named = field_violations(body)
    assert len(named) == 300
    assert named[-1] == ("events[99].position_ms", "int32.gte")
    assert "the details list" not in str(body["message"])


def test_a_header_grpc_cannot_carry_is_dropped_not_a_500(http: httpx.Client, key: rsa.RSAPrivateKey) -> None:
    headers = bearer(token_for("u-odd", key)) | {"'": "x", "x!y": "1", "Odd#Name": "2"}
    assert http.post(EVENTS, json={"events": [event()]}, headers=headers).status_code == 200
    assert http.get("/client/info", headers={"'": "x"}).status_code == 200


# --- the bus cannot take them -------------------------------------------------------------------------------------


def test_a_bus_that_cannot_take_the_batch_is_503_json_within_its_timeout(
    http: httpx.Client, mesh: Mesh, key: rsa.RSAPrivateKey
) -> None:
    """Another writer holds the embedded log's write lock longer than UGC_EVENT_BUS_TIMEOUT_SECONDS: the service
    answers UNAVAILABLE once the timeout has passed, never hangs, and stores nothing of the batch."""
    marker = str(uuid.uuid4())
    holder = sqlite3.connect(mesh.event_log, timeout=1, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        reply = http.post(EVENTS, json={"events": [event(event_id=marker)]}, headers=bearer(token_for("u-bus", key)))
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_json_error(reply, 503, 14)
    # Bounded by the bus timeout, not the gateway's route timeout: the service gave up on its own.
    assert waited < UgcSettings().event_bus_timeout_seconds + 1.5, waited
    assert marker not in {e.event_id for e in events_on_the_log(mesh)}
    # The same batch goes through once the bus is back.
    retried = http.post(EVENTS, json={"events": [event(event_id=marker)]}, headers=bearer(token_for("u-bus", key)))
    assert retried.status_code == 200, retried.text


def test_a_cors_preflight_needs_no_token(http: httpx.Client) -> None:
    reply = http.options(EVENTS, headers={"Origin": "https://tv.example", "Access-Control-Request-Method": "POST"})
    assert reply.status_code == 200
    assert "POST" in reply.headers["access-control-allow-methods"]


def test_another_method_on_a_ugc_path_is_405_json(http: httpx.Client) -> None:
    reply = http.get(EVENTS)
    assert_json_error(reply, 405, 12)
    assert reply.headers["allow"] == "POST"


# --- native gRPC ------------------------------------------------------------------------------------------------------


def grpc_request() -> ugc_pb2.RecordPlaybackEventsRequest:
    request = ugc_pb2.RecordPlaybackEventsRequest()
    sent = request.events.add(movie_id="tt0076759", type="pause", position_ms=5)
    sent.client_time.FromDatetime(datetime.now(UTC))
    return request


def test_an_internal_caller_on_the_service_port_names_the_user_in_the_same_header(mesh: Mesh) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_ports['ugc']}") as channel:
        stub = ugc_pb2_grpc.UgcServiceStub(channel)
        reply = stub.RecordPlaybackEvents(grpc_request(), metadata=(("x-user-id", "internal-user"),), timeout=10)
        with pytest.raises(grpc.RpcError) as anonymous:
            stub.RecordPlaybackEvents(grpc_request(), timeout=10)
    assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert [e.user_id for e in events_on_the_log(mesh) if e.event_id == reply.event_ids[0]] == ["internal-user"]


def test_native_grpc_through_the_gateway_takes_the_user_from_the_token_only(mesh: Mesh, key: rsa.RSAPrivateKey) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mesh.http_port}") as channel:
        stub = ugc_pb2_grpc.UgcServiceStub(channel)
        with pytest.raises(grpc.RpcError) as claimed:
            stub.RecordPlaybackEvents(grpc_request(), metadata=(("x-user-id", "somebody-else"),), timeout=10)
        token: tuple[tuple[str, str | bytes], ...] = (
            ("authorization", f"Bearer {token_for('grpc-user', key)}"),
            ("x-user-id", "somebody-else"),
        )
        reply = stub.RecordPlaybackEvents(grpc_request(), metadata=token, timeout=10)
    assert claimed.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert [e.user_id for e in events_on_the_log(mesh) if e.event_id == reply.event_ids[0]] == ["grpc-user"]
