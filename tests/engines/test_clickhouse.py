"""ClickHouse smoke test through clickhouse-driver, the client the analytics adapter uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from clickhouse_driver import Client  # type: ignore[import-untyped]

from devstack.engines.clickhouse import ClickHouse

pytestmark = [pytest.mark.engines, pytest.mark.clickhouse]


@pytest.fixture
def client(clickhouse: ClickHouse) -> Iterator[Any]:
    host, port = clickhouse.endpoints()["tcp"].rsplit(":", 1)
    driver = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=30)
    yield driver
    driver.disconnect()


@pytest.fixture
def table(client: Any) -> Iterator[str]:
    name = f"smoke_{uuid.uuid4().hex[:12]}"
    client.execute(
        f"CREATE TABLE {name} (user_id String, movie_id String, watched_at DateTime('UTC'), position_ms UInt64) "
        "ENGINE = MergeTree ORDER BY (user_id, movie_id, watched_at)"
    )
    yield name
    client.execute(f"DROP TABLE IF EXISTS {name}")


def test_is_the_expected_release(client: Any) -> None:
    assert client.execute("SELECT version()") == [("18.16.1",)]


def test_rows_inserted_are_read_back(client: Any, table: str) -> None:
    rows = [
        ("u1", "m1", datetime(2026, 1, 1, 12, 0, tzinfo=UTC), 1_000),
        ("u1", "m2", datetime(2026, 1, 1, 12, 5, tzinfo=UTC), 2_500),
        ("u2", "m1", datetime(2026, 1, 2, 8, 30, tzinfo=UTC), 60_000),
    ]

    inserted = client.execute(f"INSERT INTO {table} (user_id, movie_id, watched_at, position_ms) VALUES", rows)

    assert inserted == len(rows)
    assert (
        client.execute(f"SELECT user_id, movie_id, watched_at, position_ms FROM {table} ORDER BY user_id, movie_id")
        == rows
    )
    assert client.execute(f"SELECT movie_id, count() FROM {table} GROUP BY movie_id ORDER BY movie_id") == [
        ("m1", 2),
        ("m2", 1),
    ]
