"""Playback events from REST clients to ClickHouse, all of it real: bearer tokens signed with the development key
(as `make token` makes them), Envoy rendered from the gateway template (JWT check, transcoding), the UGC service
and the sink as their own processes in the production profile (Kafka, Apicurio, FerretDB, ClickHouse from the
devstack). The store is then read with the real `clickhouse-client` of the devstack's ClickHouse install, not
through any code of ours: the distinct event ids it holds are exactly those the API acknowledged, whatever a
client retried, and none of a refused request.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import identity
from devstack.engines.apicurio import Apicurio
from devstack.engines.clickhouse import CLIENT, ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.gateway import GatewaySettings, Upstream, envoy_command, render
from devstack.mesh import free_port
from devstack.services import behind_gateway
from sink_svc.adapters.playback_sql import TABLE
from tests.e2e.sink_process import PARTITIONS, Rig, report, sink_rig, sink_service
from tests.e2e.ugc_load import ugc_service

pytestmark = [pytest.mark.kafka, pytest.mark.apicurio, pytest.mark.clickhouse, pytest.mark.ferretdb]

EVENTS = "/api/v1/ugc/events"
USERS = 6
REQUESTS_EACH = 12
EVENTS_EACH = 10


@contextlib.contextmanager
def gateway(tmp_path: Path, ugc_port: int) -> Iterator[str]:
    """Envoy from the gateway template, the UGC routes to `ugc_port`; the other services' upstreams are closed
    ports (their routes are not used here)."""
    settings = GatewaySettings(http_port=free_port(), admin_port=free_port())
    upstreams = {spec.name: Upstream("127.0.0.1", free_port()) for spec in behind_gateway()}
    config = tmp_path / "gateway.yaml"
    config.write_text(render(settings, upstreams | {"ugc": Upstream("127.0.0.1", ugc_port)}))
    log = tmp_path / "envoy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(envoy_command(config, settings), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{settings.admin_port}/ready", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Envoy did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        process.terminate()
        process.wait(10)


def ugc_env(rig: Rig, ferretdb: FerretDB) -> dict[str, str]:
    return {
        "UGC_PROFILE": "production",
        "UGC_KAFKA_BOOTSTRAP_SERVERS": rig.servers,
        "UGC_SCHEMA_REGISTRY_URL": rig.registry_url,
        "UGC_MONGODB_URL": ferretdb.endpoints()["url"],
        "UGC_EVENTS_TOPIC": rig.topic,
        "UGC_EVENT_LOG_PARTITIONS": str(PARTITIONS),
    }


def body(user: int, request: int, *, client_ids: bool) -> dict[str, Any]:
    """A batch of events a player sends; every other batch names its own event ids, the others let the service
    assign them."""
    now = datetime.now(UTC) - timedelta(seconds=5)
    events = []
    for index in range(EVENTS_EACH):
        event: dict[str, Any] = {
            "movie_id": f"tt{(user * 7 + index) % 13:07d}",
            "type": ("play", "pause", "seek_forward", "play", "stop")[index % 5],
            "position_ms": 1000 * (request * EVENTS_EACH + index),
            "client_time": (now + timedelta(milliseconds=index)).isoformat().replace("+00:00", "Z"),
            "device": "web",
            "session_id": f"s-{user}-{request // 4}",
        }
        if client_ids:
            event["event_id"] = str(uuid.uuid4())
        events.append(event)
    return {"events": events}


def clickhouse_client(clickhouse: ClickHouse, query: str) -> str:
    """The devstack's own `clickhouse-client` against its server."""
    host, _, port = clickhouse.endpoints()["tcp"].rpartition(":")
    done = subprocess.run(
        [str(CLIENT), "--host", host, "--port", port, "--query", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_event_the_api_acknowledged_is_in_clickhouse_once(
    kafka: Kafka,
    apicurio: Apicurio,
    clickhouse: ClickHouse,
    ferretdb: FerretDB,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = identity.dev_signing_key()
    defaults = GatewaySettings()
    acknowledged: list[str] = []
    unwanted: set[str] = set()
    retried = 0
    with (
        sink_rig(kafka, apicurio, clickhouse) as rig,
        ugc_service(ugc_env(rig, ferretdb), tmp_path / "ugc.log") as ugc,
        sink_service(rig.env(), tmp_path / "sink.log") as sink,
        gateway(tmp_path, ugc.port) as base_url,
        httpx.Client(base_url=base_url, timeout=15) as http,
    ):
        started = time.monotonic()
        for user in range(USERS):
            subject = f"gateway-{rig.group}-{user}"
            token = identity.token(subject, key=key, issuer=defaults.jwt_issuer, audience=defaults.jwt_audience)
            headers = {"Authorization": f"Bearer {token}"}
            for request in range(REQUESTS_EACH):
                sent = body(user, request, client_ids=request % 2 == 0)
                reply = http.post(EVENTS, json=sent, headers=headers)
                assert reply.status_code == 200, reply.text
                acknowledged.extend(reply.json()["event_ids"])
                if request % 4 == 0:
                    # A client that did not see the answer sends the batch again, with the same event ids.
                    again = http.post(EVENTS, json=sent, headers=headers)
                    assert again.status_code == 200, again.text
                    assert again.json()["event_ids"] == reply.json()["event_ids"]
                    acknowledged.extend(again.json()["event_ids"])
                    retried += 1
            # A batch with one bad event is refused whole: none of its events may reach the store.
            bad = body(user, REQUESTS_EACH, client_ids=True)
            bad["events"][-1]["position_ms"] = -1
            refusal = http.post(EVENTS, json=bad, headers=headers)
            assert refusal.status_code == 400, refusal.text
            unwanted |= {event["event_id"] for event in bad["events"]}
        sent_seconds = time.monotonic() - started
        caught_up = rig.wait_caught_up(120, "the sink loads what the API acknowledged", sink)

        distinct = int(clickhouse_client(clickhouse, f"SELECT uniqExact(event_id) FROM {rig.database}.{TABLE}"))
        listed = clickhouse_client(clickhouse, f"SELECT DISTINCT event_id FROM {rig.database}.{TABLE} FORMAT TSV")
        rows = int(clickhouse_client(clickhouse, f"SELECT count() FROM {rig.database}.{TABLE}"))

    assert distinct == len(set(acknowledged))
    stored = set(listed.split())
    assert stored == set(acknowledged)
    assert not stored & unwanted
    report(
        f"through the gateway: {len(acknowledged)} events acknowledged in {sent_seconds:.1f} s "
        f"({len(set(acknowledged))} distinct, {retried} batches sent twice), {len(unwanted)} refused; the sink caught "
        f"up {caught_up:.1f} s after the last answer; clickhouse-client: {distinct} distinct event ids in "
        f"{rows} rows",
        capsys,
    )
