"""`make run-stack`'s second half: the same services and gateway, handed the running engines through settings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devstack.engines.apicurio import Apicurio
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch
from tests.e2e.conftest import launched_mesh


def test_the_mesh_runs_in_the_production_profile_on_the_engines(
    tmp_path: Path,
    opensearch: OpenSearch,
    kafka: Kafka,
    apicurio: Apicurio,
    clickhouse: ClickHouse,
    ferretdb: FerretDB,
) -> None:
    with launched_mesh(tmp_path, "--profile", "production") as mesh:
        reply = httpx.get(f"{mesh.base_url}/client/info", headers={"User-Agent": "X"}, timeout=10)
        assert reply.status_code == 200
        assert reply.json()["user_agent"] == "X"
    log = mesh.log.read_text()
    assert "(production profile)" in log
    assert f"SEARCH_OPENSEARCH_URL={opensearch.endpoints()['url']}" in log
    assert f"UGC_MONGODB_URL={ferretdb.endpoints()['url']}" in log
    assert f"SINK_KAFKA_BOOTSTRAP_SERVERS={kafka.endpoints()['bootstrap_servers']}" in log
    assert f"SINK_SCHEMA_REGISTRY_URL={apicurio.endpoints()['url']}" in log
    # Each service itself reports the profile it was given.
    services = set()
    for line in log.splitlines():
        _, _, text = line.partition("| ")
        if text.startswith("{"):
            record = json.loads(text)
            if record.get("profile") == "production":
                services.add(record["service"])
    assert services == {"search", "ugc", "sink"}
