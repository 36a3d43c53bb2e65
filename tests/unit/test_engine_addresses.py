"""Engine addresses in settings: the forms the drivers take pass unchanged, anything else stops the service."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from meshkit.engine_addresses import BootstrapServers, ClickHouseUrl, HttpUrlText, MongoUrl


class Addresses(BaseModel):
    http: HttpUrlText = "http://127.0.0.1"
    mongo: MongoUrl = "mongodb://127.0.0.1"
    clickhouse: ClickHouseUrl = "clickhouse://127.0.0.1"
    kafka: BootstrapServers = "127.0.0.1:9092"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("http", "http://127.0.0.1:8081/apis/ccompat/v7"),
        # No trailing slash is added: the registry client joins paths onto the text as given.
        ("http", "https://registry.example"),
        ("mongo", "mongodb://127.0.0.1:27017/?directConnection=true"),
        ("mongo", "mongodb://user:secret@a.example:27017,b.example:27017/ugc?replicaSet=rs0"),
        ("mongo", "mongodb+srv://cluster.example/ugc"),
        ("clickhouse", "clickhouse://127.0.0.1:9000/default"),
        ("clickhouse", "clickhouses://user:secret@olap.example:9440/analytics"),
        ("kafka", "127.0.0.1:9092"),
        ("kafka", "a.example:9092, b.example:9093"),
        ("kafka", "[::1]:9092"),
    ],
)
def test_a_valid_address_is_kept_as_written(field: str, value: str) -> None:
    assert getattr(Addresses.model_validate({field: value}), field) == value


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("http", "127.0.0.1:8081", "relative URL"),
        ("http", "ftp://registry.example", "scheme should be 'http' or 'https'"),
        ("mongo", "mongodb://", "empty host"),
        ("mongo", "postgres://127.0.0.1/ugc", "scheme should be 'mongodb' or 'mongodb+srv'"),
        ("clickhouse", "clickhouse:///default", "empty host"),
        # clickhouse-driver takes only these two schemes; SQLAlchemy's clickhouse+native is not one of them.
        ("clickhouse", "clickhouse+native://127.0.0.1:9000/default", "scheme should be 'clickhouse' or 'clickhouses'"),
        ("clickhouse", "http://127.0.0.1:8123", "scheme should be 'clickhouse' or 'clickhouses'"),
        ("kafka", "", "expected host:port"),
        ("kafka", "127.0.0.1", "expected host:port"),
        ("kafka", "kafka://127.0.0.1:9092", "expected host:port"),
        ("kafka", "127.0.0.1:0", "expected host:port"),
        ("kafka", "127.0.0.1:65536", "expected host:port"),
        ("kafka", "::1:9092", "expected host:port"),
        ("kafka", "a.example:9092,", "expected host:port"),
    ],
)
def test_anything_else_is_refused_with_the_reason(field: str, value: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)) as caught:
        Addresses.model_validate({field: value})
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
