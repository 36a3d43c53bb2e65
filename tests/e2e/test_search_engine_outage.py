"""Search in the production profile when OpenSearch goes away: UNAVAILABLE as JSON within the route's deadline,
never a hang or a 500, and answers again once the engine is back, from the same service process.

The real OpenSearch sits behind a relay the test can cut or turn into a black hole; the engine itself is never
touched, since other tests and processes may share it.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from devstack import catalogue
from devstack.engines.opensearch import OpenSearch
from devstack.gateway import GatewaySettings, Upstream, render
from devstack.services import behind_gateway
from search_svc.settings import SearchSettings
from tests.data import LEGACY_EXPORT
from tests.e2e.conftest import Mesh, drop_index_versions, launched_mesh
from tests.e2e.test_rest_gateway import assert_json_error
from tests.tcp_relay import TcpRelay

pytestmark = pytest.mark.opensearch

SEARCH = "/api/v1/video/collection"
SEARCH_PARAMS: dict[str, str | int] = {"search": "star wars", "limit": 5}
CARD = "/api/v1/video/get/tt0112270"
SUGGEST = "/api/v1/video/suggest"
# Well below every search route's deadline (the shortest, suggest's, is 0.9 s), so a hanging engine ends as the
# service's own UNAVAILABLE rather than the deadline's DEADLINE_EXCEEDED; still some 20 times a real query here,
# first one included (measured: 25 ms).
ENGINE_TIMEOUT_SECONDS = 0.5
RECOVERY_SECONDS = 10.0
UNAVAILABLE = 14


def route_timeout(path: str) -> float:
    """Seconds Envoy gives a GET on `path`, read from the gateway config the mesh renders."""
    upstreams = {spec.name: Upstream("127.0.0.1", 1) for spec in behind_gateway()}
    config: dict[str, Any] = yaml.safe_load(render(GatewaySettings(), upstreams))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    for route in manager["route_config"]["virtual_hosts"][0]["routes"]:
        match = route["match"]
        regex = match.get("safe_regex", {}).get("regex")
        if (match.get("path") == path or (regex and re.fullmatch(regex, path))) and "route" in route:
            return float(route["route"]["timeout"].removesuffix("s"))
    raise AssertionError(f"no route to a service for {path}")


def search_service_pid(mesh: Mesh) -> int:
    """The search service process of `mesh`, found by the port the devstack handed it."""
    port = f"SEARCH_GRPC_PORT={mesh.grpc_ports['search']}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv[1:3] == [b"-m", b"search_svc"] and port in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    assert len(found) == 1, f"expected one search service for {port.decode()}, found pids {found}"
    return found[0]


def assert_unavailable_in_time(http: httpx.Client, path: str, params: dict[str, str | int] | None = None) -> None:
    started = time.monotonic()
    reply = http.get(path, params=params)
    elapsed = time.monotonic() - started
    body = assert_json_error(reply, 503, UNAVAILABLE)
    # The service's own answer, not Envoy's local 503 for an unreachable service (that one carries a gateway
    # ErrorInfo): the search service is up and says its engine is not.
    assert body["details"] == [], body
    assert "OpenSearch" in str(body["message"]), body
    assert "127.0.0.1" not in str(body["message"]), "internal addresses stay in the service's log"
    assert elapsed < route_timeout(path), f"{path} answered after {elapsed:.2f} s"


def assert_serves(http: httpx.Client) -> None:
    reply = http.get(SEARCH, params=SEARCH_PARAMS)
    assert reply.status_code == 200, reply.text
    assert "Star Wars" in reply.json()["items"][0]["title"]
    card = http.get(CARD)
    assert card.status_code == 200, card.text
    assert card.json()["id"] == "tt0112270"


def assert_recovers(http: httpx.Client) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    reply = http.get(SEARCH, params=SEARCH_PARAMS)
    while reply.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        reply = http.get(SEARCH, params=SEARCH_PARAMS)
    assert reply.status_code == 200, f"still {reply.status_code} {RECOVERY_SECONDS} s after the engine came back"
    assert_serves(http)


@pytest.fixture(scope="module")
def alias(opensearch: OpenSearch) -> Iterator[str]:
    """The legacy export loaded as `make run-stack` loads a catalogue, under an alias of this module's own, so
    that nothing another user of the engine serves is swapped."""
    url = opensearch.endpoints()["url"]
    name = f"outage-{uuid.uuid4().hex[:8]}"
    settings = SearchSettings().model_copy(update={"opensearch_url": url, "opensearch_alias": name})
    catalogue.ensure("production", settings, LEGACY_EXPORT)
    yield name
    drop_index_versions(url, name)


@pytest.fixture(scope="module")
def relay(opensearch: OpenSearch) -> Iterator[TcpRelay]:
    engine = urlsplit(opensearch.endpoints()["url"])
    assert engine.hostname is not None
    assert engine.port is not None
    running = TcpRelay(engine.hostname, engine.port)
    running.restore()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, relay: TcpRelay, alias: str) -> Iterator[Mesh]:
    """`devstack run` in the embedded profile with the search service alone switched to OpenSearch through the
    relay: the production profile would hand it the engine's own address and demand every other engine too."""
    with contextlib.ExitStack() as stack:
        # launched_mesh hands the devstack a copy of this process's environment; the override is needed only
        # until the services have started.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SEARCH_PROFILE", "production")
            patch.setenv("SEARCH_OPENSEARCH_URL", f"http://127.0.0.1:{relay.port}")
            patch.setenv("SEARCH_OPENSEARCH_ALIAS", alias)
            patch.setenv("SEARCH_OPENSEARCH_TIMEOUT_SECONDS", str(ENGINE_TIMEOUT_SECONDS))
            running = stack.enter_context(launched_mesh(tmp_path_factory.mktemp("outage"), catalogue=LEGACY_EXPORT))
        yield running


@pytest.fixture
def http(mesh: Mesh, relay: TcpRelay) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=30) as client:
        yield client
    # Whatever a test left broken, the next one starts from a reachable engine.
    relay.restore()


def test_the_search_service_runs_in_the_production_profile(mesh: Mesh) -> None:
    profiles = set()
    for line in mesh.log.read_text().splitlines():
        _, _, text = line.partition("| ")
        if text.startswith("{"):
            record = json.loads(text)
            if record.get("service") == "search" and "profile" in record:
                profiles.add(record["profile"])
    assert profiles == {"production"}


# Down: connections refused. Hanging: accepted and never answered, so only the adapter's timeout ends the wait.
@pytest.mark.parametrize("fault", ["cut", "black_hole"], ids=["down", "hanging"])
def test_an_engine_that_fails_is_unavailable_in_time_and_recovers(
    mesh: Mesh, relay: TcpRelay, http: httpx.Client, fault: str
) -> None:
    assert_serves(http)
    pid = search_service_pid(mesh)

    getattr(relay, fault)()
    assert_unavailable_in_time(http, SEARCH, SEARCH_PARAMS)
    assert_unavailable_in_time(http, CARD)
    assert_unavailable_in_time(http, SUGGEST, {"query": "star w"})

    relay.restore()
    assert_recovers(http)
    assert search_service_pid(mesh) == pid, "the search service was restarted"
