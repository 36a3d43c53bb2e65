"""The UGC process starts only on an event bus it can publish to: in production the registry must hold the bundled
schema under the topic's subject and Kafka must have the topic (`make schemas` does both), in the embedded profile
the log file must be writable. Each failure stops it with exit code 1 and a message saying what to do, not a
traceback."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from devstack.engines.apicurio import Apicurio
from devstack.engines.kafka import Kafka
from devstack.schemas import register
from meshkit.bundled_schemas import bundled_schema, value_subject
from tests.e2e.test_service_process import run

pytestmark = [pytest.mark.apicurio, pytest.mark.kafka]


def test_production_without_the_registered_schema_names_the_make_target(apicurio: Apicurio) -> None:
    result = run(
        "ugc_svc",
        {
            "UGC_PROFILE": "production",
            "UGC_SCHEMA_REGISTRY_URL": apicurio.endpoints()["url"],
            "UGC_EVENTS_TOPIC": f"unregistered-{uuid.uuid4().hex[:8]}",
            "UGC_GRPC_PORT": "0",
            "UGC_METRICS_PORT": "0",
            "UGC_LOG_FORMAT": "text",
        },
    )
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert "make schemas" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_production_without_the_topic_names_the_make_target(apicurio: Apicurio, kafka: Kafka) -> None:
    topic = f"no-topic-{uuid.uuid4().hex[:8]}"
    url = apicurio.endpoints()["url"]
    register(SchemaRegistryClient({"url": url, "timeout": 10}), value_subject(topic), bundled_schema("playback_event"))
    result = run(
        "ugc_svc",
        {
            "UGC_PROFILE": "production",
            "UGC_SCHEMA_REGISTRY_URL": url,
            "UGC_KAFKA_BOOTSTRAP_SERVERS": kafka.endpoints()["bootstrap_servers"],
            "UGC_EVENTS_TOPIC": topic,
            "UGC_GRPC_PORT": "0",
            "UGC_METRICS_PORT": "0",
            "UGC_LOG_FORMAT": "text",
        },
    )
    assert result.returncode == 1
    assert f"cannot start: Kafka has no topic '{topic}': run `make schemas`" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_embedded_with_a_log_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = run(
        "ugc_svc",
        {
            "UGC_EVENT_LOG_PATH": str(tmp_path / "file" / "events.sqlite3"),
            "UGC_GRPC_PORT": "0",
            "UGC_METRICS_PORT": "0",
            "UGC_LOG_FORMAT": "text",
        },
    )
    assert result.returncode == 1
    assert "cannot start: the event log" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
