"""Playback events posted through the gateway in the production profile (`make run-stack`), with tokens from
`make token`, and read back off Kafka from outside: kcat takes the raw messages, the registry gives each writer
schema by the id in the message's Confluent header, and Apache Avro's own avro-tools decodes every body. Every
event the API acknowledged is on the topic exactly once, with the fields sent and the token's user."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import EngineError
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch
from devstack.event_tools import EventTools, install_event_tools
from devstack.schemas import register_all
from devstack.topics import ensure_topics
from meshkit.partitioner import partition_for
from tests.e2e.conftest import REPO, Mesh, drop_index_versions, launched_mesh
from tests.e2e.kafka_from_outside import AvroToolsDecoder, read_topic
from tests.e2e.kafka_from_outside import plain as unwrapped
from tests.unit.fakes_legacy_export import movie_row, write_export
from ugc_svc.settings import UgcSettings

pytestmark = [
    pytest.mark.opensearch,
    pytest.mark.kafka,
    pytest.mark.apicurio,
    pytest.mark.clickhouse,
    pytest.mark.ferretdb,
]

EVENTS = "/api/v1/ugc/events"
RUN = uuid.uuid4().hex[:8]
TOPIC = f"e2e-ugc-events-{RUN}"
PARTITIONS = UgcSettings().event_log_partitions
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tools() -> EventTools:
    failure = None
    try:
        return install_event_tools()
    except EngineError as error:
        failure = f"kcat or avro-tools could not be installed: {error}"
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="module")
def mesh(
    tmp_path_factory: pytest.TempPathFactory,
    opensearch: OpenSearch,
    kafka: Kafka,
    apicurio: Apicurio,
    clickhouse: ClickHouse,
    ferretdb: FerretDB,
) -> Iterator[Mesh]:
    """`make run-stack` on a topic and a search alias of this module's own, so the topic holds its events only."""
    alias = f"e2e-ugc-kafka-{RUN}"
    catalogue = write_export(
        tmp_path_factory.mktemp("catalogue") / "export.sqlite", [movie_row("tt9200001", "Events Only")]
    )
    with contextlib.ExitStack() as stack:
        stack.callback(drop_index_versions, opensearch.endpoints()["url"], alias)
        # Read by `make schemas` below and, through the copy of the environment launched_mesh hands the devstack
        # at start, by the services.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("UGC_EVENTS_TOPIC", TOPIC)
            patch.setenv("SEARCH_OPENSEARCH_ALIAS", alias)
            ensure_topics(
                kafka.endpoints()["bootstrap_servers"], replication_factor=kafka.settings.topic_replication_factor
            )
            register_all(apicurio.endpoints()["url"])
            log_dir = tmp_path_factory.mktemp("ugc-kafka")
            running = stack.enter_context(launched_mesh(log_dir, "--profile", "production", catalogue=catalogue))
        yield running


def make_token(user: str) -> str:
    """A token as `make token USER=<user>` prints it."""
    return subprocess.run(
        [sys.executable, "-m", "devstack", "token", user], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def post(http: httpx.Client, user: str, events: list[dict[str, Any]]) -> list[str]:
    reply = http.post(EVENTS, json={"events": events}, headers={"Authorization": f"Bearer {make_token(user)}"})
    assert reply.status_code == 200, reply.text
    ids = reply.json()["event_ids"]
    assert isinstance(ids, list)
    assert len(ids) == len(events)
    return [str(each) for each in ids]


def test_every_acknowledged_event_is_on_kafka_once_as_sent_read_by_kcat_and_avro_tools(
    mesh: Mesh, tools: EventTools, kafka: Kafka, apicurio: Apicurio, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    alice, boris = f"alice-{RUN}", f"борис-{RUN}"
    # Sent: (user, event as posted); the expected record follows from these and the ids the API answered.
    single = {
        "event_id": f"single-{RUN}",
        "movie_id": "tt0076759",
        "type": "play",
        "position_ms": 0,
        "client_time": rfc3339(now - timedelta(seconds=5, microseconds=123_456)),
        "device": "android-tv",
        "session_id": f"s-{RUN}",
    }
    batch = [
        {
            "event_id": f"batch-{RUN}-{n}",
            "movie_id": f"tt00000{n}",
            "type": kind,
            "position_ms": 60_000 * n + 7,
            "client_time": rfc3339(now - timedelta(minutes=10 - n, milliseconds=n)),
        }
        | extra
        for n, (kind, extra) in enumerate(
            [
                ("play", {"device": "Телевизор ё"}),
                ("pause", {"session_id": "s:2"}),
                ("seek_forward", {}),
                ("seek_back", {"device": "iPhone 15", "session_id": "s.3"}),
                ("stop", {}),
            ]
        )
    ]
    # Without an id: the service makes one, and the answer names it.
    anonymous = {"movie_id": "tt0080684", "type": "pause", "position_ms": 42, "client_time": rfc3339(now)}

    with httpx.Client(base_url=mesh.base_url, timeout=30) as http:
        sent: list[tuple[str, str, dict[str, Any]]] = []
        for user, events in [(alice, [single]), (alice, batch), (boris, [anonymous, single | {"event_id": ""}])]:
            ids = post(http, user, events)
            sent += [(event_id, user, event) for event_id, event in zip(ids, events, strict=True)]
    acknowledged = {event_id: (user, event) for event_id, user, event in sent}
    assert len(acknowledged) == len(sent) == 8

    messages = read_topic(tools, kafka.endpoints()["bootstrap_servers"], TOPIC)
    decoder = AvroToolsDecoder(tools, apicurio.endpoints()["url"], tmp_path)
    decoded = [(message, decoder.decode(message)) for message in messages]
    on_topic = Counter(record["event_id"] for _, record in decoded)
    assert on_topic == Counter(dict.fromkeys(acknowledged, 1))

    for message, record in decoded:
        user, event = acknowledged[record["event_id"]]
        assert {name: unwrapped(value) for name, value in record.items() if name != "server_time"} == {
            "event_id": record["event_id"],
            "user_id": user,
            "movie_id": event["movie_id"],
            "type": event["type"],
            "position_ms": event["position_ms"],
            "client_time": millis(datetime.fromisoformat(event["client_time"])),
            "device": event.get("device"),
            "playback_session_id": event.get("session_id"),
            # Only progress reports carry them (SetProgress); playback events leave them null.
            "duration_ms": None,
            "finished": None,
        }, message
        assert abs(record["server_time"] - millis(datetime.now(UTC))) < 600_000
        # Keyed by the token's user; the partition is Kafka's murmur2 of the key over the topic's partitions.
        assert message.key == user.encode()
        assert message.partition == partition_for(message.key, PARTITIONS)
    with_sent_id = {e["event_id"] for _, _, e in sent if e.get("event_id")}
    assert with_sent_id <= set(acknowledged)
    made_by_service = set(acknowledged) - with_sent_id
    assert len(made_by_service) == 2
    assert all(uuid.UUID(each).version == 4 for each in made_by_service)
