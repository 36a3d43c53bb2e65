"""When the ClickHouse server cannot answer, every call of its analytics store says Unavailable: never a hang.

The store waits at most its timeout for each packet; the elapsed times are logged (`-o log_cli=true
--log-cli-level=INFO` shows them). A hang would outlive the guard below, which is far above the timeout: it only
turns a hang into a failure that names the call. (chDB cannot be down: its one way to be unavailable, a data
directory another process holds, is in test_playback_analytics.py.)
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from clickhouse_driver import Client  # type: ignore[import-untyped]

from devstack.engines.clickhouse import ClickHouse
from meshkit.errors import Unavailable
from sink_svc.adapters.clickhouse_playback_analytics import ClickHousePlaybackAnalytics
from sink_svc.domain.event_batch import EventBatch
from sink_svc.domain.playback_event import PlaybackEvent
from sink_svc.domain.viewing_time import MovieTotals
from tests.tcp_relay import TcpRelay

TIMEOUT = 1.0
GUARD = 30 * TIMEOUT
log = logging.getLogger(__name__)
EVENT = PlaybackEvent("e", "u", "m", "play", 0, 1_767_225_600_000, 1_767_225_600_000)


def calls(store: ClickHousePlaybackAnalytics) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "prepare": store.prepare,
        "insert": lambda: store.insert(EventBatch("t", 0, 0, 0, [EVENT])),
        "top_movies": lambda: store.top_movies(0, 2**40, 10),
        "watch_history": lambda: store.watch_history("u", 10),
        "movie_totals": lambda: store.movie_totals(["m"]),
    }


async def assert_every_call_unavailable(store: ClickHousePlaybackAnalytics) -> None:
    elapsed = {}
    for name, call in calls(store).items():
        started = time.monotonic()
        with pytest.raises(Unavailable, match="analytics store at"):
            await asyncio.wait_for(call(), GUARD)
        elapsed[name] = round(time.monotonic() - started, 3)
    log.info("Unavailable after (s): %s", elapsed)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never answers: a server that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


async def test_a_server_that_never_answers(silent_port: int) -> None:
    store = ClickHousePlaybackAnalytics(f"clickhouse://127.0.0.1:{silent_port}/analytics", timeout_seconds=TIMEOUT)
    await assert_every_call_unavailable(store)
    await store.close()


async def test_a_server_that_went_down_and_came_back(clickhouse: ClickHouse) -> None:
    host, port = clickhouse.endpoints()["tcp"].rsplit(":", 1)
    relay = TcpRelay(host, int(port))
    relay.restore()
    database = f"unavailable_{uuid.uuid4().hex[:12]}"
    store = ClickHousePlaybackAnalytics(f"clickhouse://127.0.0.1:{relay.port}/{database}", timeout_seconds=TIMEOUT)
    stop = PlaybackEvent("f", "u", "m", "stop", 5000, EVENT.client_time_ms + 5000, EVENT.server_time_ms + 5000)
    try:
        await store.prepare()
        await store.insert(EventBatch("t", 0, 0, 1, [EVENT, stop]))
        relay.cut()
        await assert_every_call_unavailable(store)
        relay.black_hole()
        await assert_every_call_unavailable(store)
        relay.restore()
        # The same store reconnects by itself, and nothing it held was lost or doubled.
        await store.insert(EventBatch("t", 0, 0, 1, [EVENT, stop]))
        assert await store.movie_totals(["m"]) == [MovieTotals("m", 5000, 1)]
    finally:
        await store.close()
        relay.close()
        client = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=30)
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()


async def test_a_store_that_could_not_prepare_at_start_prepares_once_the_server_is_back(
    clickhouse: ClickHouse,
) -> None:
    # The sink starts while ClickHouse is down: prepare fails, and the first call after it is back makes the tables.
    host, port = clickhouse.endpoints()["tcp"].rsplit(":", 1)
    relay = TcpRelay(host, int(port))
    database = f"unavailable_{uuid.uuid4().hex[:12]}"
    store = ClickHousePlaybackAnalytics(f"clickhouse://127.0.0.1:{relay.port}/{database}", timeout_seconds=TIMEOUT)
    try:
        with pytest.raises(Unavailable):
            await store.prepare()
        relay.restore()
        assert await store.watch_history("u", 10) == []
        await store.insert(EventBatch("t", 0, 0, 0, [EVENT]))
        assert await store.movie_totals(["m"]) == [MovieTotals("m", 0, 0)]
    finally:
        await store.close()
        relay.close()
        client = Client(host, port=int(port), connect_timeout=5, send_receive_timeout=30)
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()
