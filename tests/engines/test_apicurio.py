"""Apicurio Registry through confluent-kafka's SchemaRegistryClient: BACKWARD compatibility, and persistence."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import pid_alive

pytestmark = [pytest.mark.engines, pytest.mark.apicurio]

_FIELDS = [{"name": "user_id", "type": "string"}, {"name": "movie_id", "type": "string"}]


def _schema(*extra: dict[str, object]) -> Schema:
    record = {"type": "record", "name": "Viewed", "namespace": "cinemesh.events", "fields": [*_FIELDS, *extra]}
    return Schema(json.dumps(record), "AVRO")


def _client(apicurio: Apicurio) -> SchemaRegistryClient:
    # A request without a timeout once hung for more than ten minutes.
    return SchemaRegistryClient({"url": apicurio.endpoints()["url"], "timeout": 10})


def test_backward_compatibility_accepts_a_defaulted_field_and_refuses_a_required_one(apicurio: Apicurio) -> None:
    client = _client(apicurio)
    subject = f"devstack-smoke-{uuid.uuid4().hex}-value"
    first = client.register_schema(subject, _schema())

    defaulted = client.register_schema(subject, _schema({"name": "position_ms", "type": "long", "default": 0}))
    assert defaulted != first

    required = _schema({"name": "position_ms", "type": "long", "default": 0}, {"name": "device", "type": "string"})
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, required)
    assert refused.value.http_status_code == 409
    assert client.get_latest_version(subject).schema_id == defaulted


def test_a_schema_survives_a_kill(apicurio: Apicurio) -> None:
    pid = apicurio.status().pid
    if pid is None:
        pytest.fail(f"the registry at {apicurio.endpoints()['url']} was not started by the devstack: cannot kill it")
    subject = f"devstack-smoke-{uuid.uuid4().hex}-value"
    registered = _client(apicurio).register_schema(subject, _schema())

    os.kill(pid, signal.SIGKILL)
    # The signal lands asynchronously: until it has, the old process may still answer the health check.
    while pid_alive(pid):
        time.sleep(0.05)
    apicurio.start()

    assert _client(apicurio).get_latest_version(subject).schema_id == registered
