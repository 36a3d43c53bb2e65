"""When the document store cannot answer, every adapter says UNAVAILABLE within its timeout: never a hang.

The bound is the adapter's timeout (the service's UGC_DOCUMENT_STORE_TIMEOUT_SECONDS) plus a small slack; the
elapsed times are logged (`-o log_cli=true --log-cli-level=INFO` shows them): that is how the bound was measured.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devstack.engines.ferretdb import FerretDB
from devstack.mesh import free_port
from meshkit.errors import Unavailable
from tests.tcp_relay import TcpRelay
from ugc_svc.document_stores import DocumentStore, open_document_store
from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.settings import UgcSettings

TIMEOUT = 1.0
# What the bound allows beyond the timeout: scheduling on a busy 2-core machine, not engine time.
SLACK = 1.0
log = logging.getLogger(__name__)
NOW = datetime(2026, 12, 1, tzinfo=UTC)

Call = Callable[[], Awaitable[object]]


def calls(store: DocumentStore) -> dict[str, Call]:
    position = ResumePosition("u", "m", 1000, NOW, NOW, "r")
    return {
        "prepare": store.prepare,
        "record": lambda: store.resume_positions.record(position),
        "get": lambda: store.resume_positions.get("u", "m"),
        "continue_watching": lambda: store.resume_positions.continue_watching("u", 10),
        "forget": lambda: store.resume_positions.forget("u", "m"),
        "add": lambda: store.favourites.add(Favourite("u", "m", NOW)),
        "remove": lambda: store.favourites.remove("u", "m"),
        "contains": lambda: store.favourites.contains("u", "m"),
        "list": lambda: store.favourites.list("u", 10),
    }


async def assert_unavailable_within(store: DocumentStore, names: list[str] | None = None) -> None:
    elapsed = {}
    for name, call in calls(store).items():
        if names is not None and name not in names:
            continue
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await call()
        elapsed[name] = time.monotonic() - started
    log.info("Unavailable after (s): %s", {name: round(seconds, 3) for name, seconds in elapsed.items()})
    assert max(elapsed.values()) < TIMEOUT + SLACK, elapsed


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a store that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


async def mongodb_store(port: int) -> AsyncIterator[DocumentStore]:
    settings = UgcSettings(
        profile="production",
        mongodb_url=f"mongodb://127.0.0.1:{port}/?directConnection=true",
        document_store_timeout_seconds=TIMEOUT,
    )
    async with open_document_store(settings) as store:
        yield store


async def test_mongodb_on_a_closed_port_is_unavailable() -> None:
    async for store in mongodb_store(free_port()):
        await assert_unavailable_within(store)


async def test_mongodb_that_never_answers_is_unavailable_at_the_timeout(silent_server: int) -> None:
    async for store in mongodb_store(silent_server):
        await assert_unavailable_within(store)


def sqlite_store(path: Path) -> UgcSettings:
    return UgcSettings(profile="embedded", sqlite_path=path, document_store_timeout_seconds=TIMEOUT)


async def test_sqlite_in_a_place_it_cannot_write_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    async with open_document_store(sqlite_store(tmp_path / "a-file" / "documents.sqlite3")) as store:
        await assert_unavailable_within(store)


async def test_sqlite_locked_by_another_writer_is_unavailable_at_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "documents.sqlite3"
    async with open_document_store(sqlite_store(path)) as store:
        await store.prepare()
        # Another process's writer holding the write lock (a stuck migration, a developer's shell).
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await assert_unavailable_within(store, ["record", "forget", "add", "remove"])
            # Readers are not blocked by a writer in WAL mode.
            assert await store.favourites.list("u", 10) is not None
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # And the store answers again once the lock is gone.
        assert await store.favourites.add(Favourite("u", "m", NOW)) is True


@pytest.mark.ferretdb
async def test_mongodb_cut_off_mid_use_is_unavailable_then_answers_again(ferretdb: FerretDB) -> None:
    """The store goes away under a client that was using it (refused, then hanging) and comes back: the calls in
    between fail within the bound, and the same client serves again without a restart."""
    engine = urlsplit(ferretdb.endpoints()["url"])
    assert engine.hostname is not None
    assert engine.port is not None
    relay = TcpRelay(engine.hostname, engine.port)
    database = f"ugc_outage_{uuid.uuid4().hex[:12]}"
    settings = UgcSettings(
        profile="production",
        mongodb_url=f"mongodb://127.0.0.1:{relay.port}/?directConnection=true",
        mongodb_database=database,
        document_store_timeout_seconds=TIMEOUT,
    )
    try:
        async with open_document_store(settings) as store:
            relay.restore()
            assert await store.favourites.add(Favourite("u", "m", NOW)) is True

            relay.cut()
            await assert_unavailable_within(store, ["contains", "add", "get", "record"])
            relay.black_hole()
            await assert_unavailable_within(store, ["contains", "add", "get", "record"])

            relay.restore()
            assert await store.favourites.contains("u", "m") is True
            assert await store.resume_positions.record(ResumePosition("u", "m", 1000, NOW, NOW, "r")) is True
            await store.resume_positions._database.database.client.drop_database(database)  # type: ignore[attr-defined]
    finally:
        relay.close()
