"""`make run-stack` end to end: `devstack run --profile production` on the devstack engines, through Envoy, with
each service answering from the engine behind each of its ports and never from an embedded one.

The catalogue is written for this module, with titles no other catalogue has, and loaded the way the production
profile loads one: `devstack run` hands it to the ETL, which publishes it in OpenSearch (under an alias of this
module's own, so that nothing another user of the engine serves is swapped). The services are given an empty
tantivy directory. A search that finds these titles and a card of one of them can only have come from OpenSearch;
and each service names the engine behind each port on its /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import string
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opensearchpy import OpenSearch as OpenSearchClient
from prometheus_client.parser import text_string_to_metric_families

from devstack import identity
from devstack.engines.apicurio import Apicurio
from devstack.engines.base import Engine
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch
from devstack.schemas import register_all
from devstack.services import SERVICES
from devstack.topics import ensure_topics
from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from tests.e2e.conftest import Mesh, drop_index_versions, launched_mesh
from tests.e2e.test_ugc_api import bearer, event, token_for
from tests.e2e.test_ugc_progress import wait_for
from tests.unit.fakes_legacy_export import movie_row, write_export

pytestmark = [
    pytest.mark.opensearch,
    pytest.mark.kafka,
    pytest.mark.apicurio,
    pytest.mark.clickhouse,
    pytest.mark.ferretdb,
]

# The engine behind each port of each service in the production profile, as the service reports it on /metrics.
PRODUCTION_ADAPTERS: dict[str, dict[str, str]] = {
    "search": {"search_index": "opensearch"},
    "ugc": {
        "record_publisher": "kafka",
        "writer_schemas": "registry",
        "resume_positions": "mongodb",
        "favourites": "mongodb",
        "ratings": "mongodb",
    },
    "sink": {
        "event_consumer": "kafka",
        "record_publisher": "kafka",
        "writer_schemas": "registry",
        "playback_analytics": "clickhouse",
    },
}

# Only letters, so every analyzer keeps it one token; random, so no other catalogue has it.
WORD = "".join(random.choices(string.ascii_lowercase, k=12))
TITLE = f"The {WORD.capitalize()} Directive"
SEQUEL = f"Return to {WORD.capitalize()}"
OTHER = "A Quiet Afternoon"


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A legacy export of three movies, two of them titled with WORD."""
    return write_export(
        tmp_path_factory.mktemp("catalogue") / "export.sqlite",
        [
            movie_row(
                "tt9100001",
                TITLE,
                genre="Sci-Fi, Thriller",
                director="Ada Quell",
                writer="w1",
                plot=f"A pilot follows the {WORD} signal to the edge of the map.",
                imdb_rating="7.9",
            ),
            movie_row("tt9100002", SEQUEL, genre="Sci-Fi", director="Ada Quell", imdb_rating="6.4"),
            movie_row("tt9100003", OTHER, genre="Drama", director="Ivo Marr", imdb_rating="8.1"),
        ],
        actors=[(1, "Lena Hart"), (2, "Оскар Вент")],
        writers=[("w1", "Ada Quell")],
        links=[("tt9100001", "1"), ("tt9100001", "2"), ("tt9100002", "1")],
    )


@pytest.fixture(scope="module")
def alias(opensearch: OpenSearch) -> Iterator[str]:
    name = f"e2e-production-{uuid.uuid4().hex[:8]}"
    yield name
    drop_index_versions(opensearch.endpoints()["url"], name)


@pytest.fixture(scope="module")
def mesh(
    tmp_path_factory: pytest.TempPathFactory,
    catalogue: Path,
    alias: str,
    opensearch: OpenSearch,
    kafka: Kafka,
    apicurio: Apicurio,
    clickhouse: ClickHouse,
    ferretdb: FerretDB,
) -> Iterator[Mesh]:
    """`devstack run --profile production`, which demands every engine healthy and of its pinned version."""
    # As `make run-stack` does first: the UGC service starts only once Kafka has its topic and the registry its
    # event schema.
    ensure_topics(kafka.endpoints()["bootstrap_servers"], replication_factor=kafka.settings.topic_replication_factor)
    register_all(apicurio.endpoints()["url"])
    with contextlib.ExitStack() as stack:
        # launched_mesh hands the devstack a copy of this process's environment, read only at start.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SEARCH_OPENSEARCH_ALIAS", alias)
            log_dir = tmp_path_factory.mktemp("production")
            running = stack.enter_context(launched_mesh(log_dir, "--profile", "production", catalogue=catalogue))
        yield running


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=10) as client:
        yield client


def test_a_search_finds_the_titles_that_only_opensearch_holds(http: httpx.Client) -> None:
    reply = http.get("/api/v1/video/collection", params={"search": WORD})

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert {item["id"]: item["title"] for item in body["items"]} == {"tt9100001": TITLE, "tt9100002": SEQUEL}
    assert body["total"] == 2


def test_a_search_with_a_typo_says_what_opensearch_showed(http: httpx.Client) -> None:
    # One letter of WORD replaced by another: one edit in a 12-letter word, the first letter kept.
    typo = WORD[:6] + ("a" if WORD[6] != "a" else "b") + WORD[7:]
    reply = http.get("/api/v1/video/collection", params={"search": typo})

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert {item["id"] for item in body["items"]} == {"tt9100001", "tt9100002"}
    assert body["repaired_search"] == WORD.capitalize()


def test_a_card_is_served_from_opensearch(http: httpx.Client) -> None:
    reply = http.get("/api/v1/video/get/tt9100001")

    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "id": "tt9100001",
        "title": TITLE,
        "description": f"A pilot follows the {WORD} signal to the edge of the map.",
        "imdb_rating": 7.9,
        "genre": ["Sci-Fi", "Thriller"],
        "director": ["Ada Quell"],
        "actors": [{"id": 1, "name": "Lena Hart"}, {"id": 2, "name": "Оскар Вент"}],
        "writers": [{"id": "w1", "name": "Ada Quell"}],
    }


def test_the_whole_catalogue_is_listed_and_nothing_else(http: httpx.Client) -> None:
    reply = http.get("/api/v1/video/collection", params={"limit": 100})

    assert reply.status_code == 200, reply.text
    assert [item["id"] for item in reply.json()["items"]] == ["tt9100001", "tt9100002", "tt9100003"]


def test_the_catalogue_was_published_in_opensearch_and_nowhere_else(
    mesh: Mesh, opensearch: OpenSearch, alias: str
) -> None:
    client = OpenSearchClient(hosts=[opensearch.endpoints()["url"]], timeout=30)
    try:
        assert client.count(index=alias)["count"] == 3
        assert client.get(index=alias, id="tt9100001")["_source"]["title"] == TITLE
    finally:
        client.close()
    tantivy = mesh.log.parent / "tantivy"
    assert not tantivy.exists() or not any(tantivy.iterdir()), f"something was written to {tantivy}"


def adapters(metrics_port: int) -> dict[str, str]:
    """Port → engine, as a service's /metrics reports them."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        if family.name == "cinemesh_adapter_info":
            for sample in family.samples:
                if sample.value == 1:
                    found[sample.labels["port"]] = sample.labels["engine"]
    return found


def test_each_service_reports_the_production_engine_behind_each_port(mesh: Mesh) -> None:
    reported = {service: adapters(port) for service, port in mesh.metrics_ports.items()}

    assert reported == PRODUCTION_ADAPTERS


def test_each_service_was_given_the_production_profile_and_the_engines(
    mesh: Mesh, opensearch: OpenSearch, kafka: Kafka, apicurio: Apicurio, clickhouse: ClickHouse, ferretdb: FerretDB
) -> None:
    log = mesh.log.read_text()
    assert "(production profile)" in log
    running: dict[str, Engine] = {
        "opensearch": opensearch,
        "kafka": kafka,
        "apicurio": apicurio,
        "clickhouse": clickhouse,
        "ferretdb": ferretdb,
    }
    for spec in SERVICES:
        for field_name, source in spec.production.items():
            assert f"{spec.env_var(field_name)}={running[source.engine].endpoints()[source.endpoint]}" in log
    # Spelled out once, so that the table's wiring of the engines is checked too, not only applied.
    assert f"UGC_MONGODB_URL={ferretdb.endpoints()['url']}" in log
    assert f"SINK_CLICKHOUSE_URL=clickhouse://{clickhouse.endpoints()['tcp']}/default" in log
    profiles: dict[str, set[str]] = {}
    for line in log.splitlines():
        _, _, text = line.partition("| ")
        if text.startswith("{"):
            record = json.loads(text)
            if "profile" in record:
                profiles.setdefault(record["service"], set()).add(record["profile"])
    assert profiles == {spec.name: {"production"} for spec in SERVICES}


def test_viewing_time_is_read_from_clickhouse_through_the_gateway(
    mesh: Mesh, http: httpx.Client, clickhouse: ClickHouse
) -> None:
    # Stored where the sink's production store reads (SINK_CLICKHOUSE_URL), on movies and a range of its own; then
    # read back over REST. Only the gateway → sink → ClickHouse path can answer with them.
    movie, other, user = f"tt-{WORD}-1", f"tt-{WORD}-2", f"user-{WORD}"
    start = 1_000_000_000_000 + random.randrange(10**9) * 1000  # a September 2001 nobody else writes to
    s = 1000
    events = [
        PlaybackEvent(f"{WORD}-a", user, movie, "play", 0, start, start),
        PlaybackEvent(f"{WORD}-b", user, movie, "pause", 90 * s, start + 90 * s, start + 90 * s),
        PlaybackEvent(f"{WORD}-c", user, other, "play", 0, start + 100 * s, start + 100 * s),
        PlaybackEvent(f"{WORD}-d", user, other, "stop", 30 * s, start + 130 * s, start + 130 * s),
    ]

    async def insert_twice() -> None:
        store = ClickHousePlaybackAnalytics(clickhouse.endpoints()["url"])
        try:
            # Twice: a redelivered batch changes nothing.
            await store.insert(EventBatch("e2e", 0, 0, 3, events))
            await store.insert(EventBatch("e2e", 0, 0, 3, events))
        finally:
            await store.close()

    asyncio.run(insert_twice())

    top = http.get("/api/v1/analytics/top-movies", params={"from": start, "to": start + 3600 * s, "limit": 10})
    assert top.status_code == 200, top.text
    assert top.json() == {
        "items": [{"movie_id": movie, "watched_ms": "90000"}, {"movie_id": other, "watched_ms": "30000"}]
    }
    totals = http.get(f"/api/v1/analytics/movies/{movie}/totals")
    assert totals.json() == {"movie_id": movie, "watched_ms": "90000", "viewers": "1"}


def test_progress_is_projected_from_kafka_into_the_document_store(http: httpx.Client) -> None:
    """Events go to Kafka; the projection reads them in its consumer group and writes the positions to MongoDB
    (FerretDB), the only store the service reads progress from in this profile (its /metrics say so)."""
    token = token_for(f"prod-{uuid.uuid4().hex[:8]}", identity.dev_signing_key())
    sent = [event(movie_id="tt9100001", type="pause", position_ms=42_000, device="tv")]
    reply = http.post("/api/v1/ugc/events", json={"events": sent}, headers=bearer(token))
    assert reply.status_code == 200, reply.text

    progress, _ = wait_for(http, "/api/v1/ugc/progress/tt9100001", token, {"position_ms": 42_000})
    assert progress["device"] == "tv"
