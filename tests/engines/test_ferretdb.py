"""FerretDB through pymongo, the client the documents adapter uses: documents land in PostgreSQL, survive restarts,
and concurrent updates of one document are lost (a known FerretDB v1 hazard the UGC design works around)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from devstack.engines.base import pid_alive
from devstack.engines.ferretdb import FerretDB

pytestmark = [pytest.mark.engines, pytest.mark.ferretdb]

Document = dict[str, object]
log = logging.getLogger(__name__)


@pytest.fixture
def collection(ferretdb: FerretDB) -> Iterator[Collection[Document]]:
    client: MongoClient[Document] = MongoClient(ferretdb.endpoints()["url"], serverSelectionTimeoutMS=5_000)
    documents = client["smoke"][f"c_{uuid.uuid4().hex[:12]}"]
    yield documents
    documents.drop()
    client.close()


def test_answers_ping(ferretdb: FerretDB) -> None:
    assert ferretdb.healthy()


def test_documents_inserted_are_found(collection: Collection[Document]) -> None:
    collection.insert_many([{"_id": "u1:m1", "rating": 8}, {"_id": "u1:m2", "rating": 6}])

    assert list(collection.find({"rating": {"$gte": 7}})) == [{"_id": "u1:m1", "rating": 8}]


def test_unique_index_rejects_a_duplicate(collection: Collection[Document]) -> None:
    collection.create_index([("user_id", ASCENDING), ("movie_id", ASCENDING)], unique=True)
    collection.insert_one({"user_id": "u1", "movie_id": "m1", "rating": 8})

    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"user_id": "u1", "movie_id": "m1", "rating": 9})

    assert collection.count_documents({}) == 1
    assert collection.find_one({}, {"_id": 0}) == {"user_id": "u1", "movie_id": "m1", "rating": 8}


# --- the PostgreSQL backend -------------------------------------------------------------------------------------------


def rows_in_postgresql(ferretdb: FerretDB, database: str, collection: str) -> list[dict[str, object]]:
    """The documents of `collection` as PostgreSQL holds them, read with psql, not through FerretDB.

    FerretDB keeps each database as a schema, each collection as a table (`_jsonb` column) listed in the
    schema's `_ferretdb_database_metadata` table.
    """
    metadata = f'"{database}"._ferretdb_database_metadata'
    table = psql(ferretdb, f"SELECT _jsonb->>'table' FROM {metadata} WHERE _jsonb->>'_id' = '{collection}'")
    assert len(table) == 1, f"PostgreSQL has no table for {database}.{collection}: {table}"
    return [json.loads(line) for line in psql(ferretdb, f'SELECT _jsonb FROM "{database}"."{table[0]}"')]


def psql(ferretdb: FerretDB, sql: str) -> list[str]:
    result = ferretdb.postgres.query(sql)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_document_written_through_pymongo_is_a_row_in_postgresql(
    ferretdb: FerretDB, collection: Collection[Document]
) -> None:
    written = {"_id": f"u-{uuid.uuid4().hex}:m1", "rating": 8, "review": "Сильное кино", "tags": ["drama", "ru"]}
    collection.insert_one(dict(written))

    rows = rows_in_postgresql(ferretdb, collection.database.name, collection.name)

    assert len(rows) == 1
    assert {key: rows[0][key] for key in written} == written


# --- persistence ------------------------------------------------------------------------------------------------------


def test_documents_survive_a_crash_of_ferretdb_and_a_restart_of_both_engines(
    ferretdb: FerretDB, collection: Collection[Document]
) -> None:
    pid = ferretdb.status().pid
    postgres_pid = ferretdb.postgres.status().pid
    if pid is None or postgres_pid is None:
        pytest.fail("FerretDB was not started by the devstack: cannot restart it")
    written = {"_id": f"u-{uuid.uuid4().hex}:m1", "rating": 7, "review": "Ещё раз"}
    collection.insert_one(dict(written))

    # FerretDB alone, killed: PostgreSQL keeps running and holds everything.
    os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.05)
    ferretdb.start()
    assert ferretdb.postgres.status().pid == postgres_pid, "PostgreSQL was not meant to restart"
    assert collection.find_one({"_id": written["_id"]}) == written

    # Both stopped, then started again: PostgreSQL's files are the only copy.
    ferretdb.stop()
    assert not ferretdb.postgres.healthy()
    ferretdb.start()
    assert ferretdb.postgres.status().pid != postgres_pid
    assert collection.find_one({"_id": written["_id"]}) == written


# --- lost concurrent updates ------------------------------------------------------------------------------------------

CONNECTIONS = 8
INCREMENTS_EACH = 100


def increment(url: str, database: str, name: str, document_id: str, start: threading.Barrier) -> int:
    """`INCREMENTS_EACH` single `$inc` of one field on its own connection; how many FerretDB acknowledged."""
    client: MongoClient[Document] = MongoClient(url, serverSelectionTimeoutMS=5_000, maxPoolSize=1)
    try:
        target = client[database][name]
        target.find_one({"_id": document_id})  # connected before the race starts
        start.wait(timeout=30)
        return sum(
            target.update_one({"_id": document_id}, {"$inc": {"views": 1}}).modified_count
            for _ in range(INCREMENTS_EACH)
        )
    finally:
        client.close()


def test_concurrent_increments_of_one_document_are_lost(ferretdb: FerretDB, collection: Collection[Document]) -> None:
    """FerretDB v1 applies an update as read, modify, write without a lock: of concurrent `$inc` on one document
    from several connections, some overwrite others. The UGC design must never depend on atomic read-modify-write
    of one document; this test says when that stops being true."""
    document_id = "counter"
    collection.insert_one({"_id": document_id, "views": 0})
    start = threading.Barrier(CONNECTIONS)
    args = (ferretdb.endpoints()["url"], collection.database.name, collection.name, document_id, start)

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        acknowledged = sum(pool.map(lambda _: increment(*args), range(CONNECTIONS)))

    expected = CONNECTIONS * INCREMENTS_EACH
    document = collection.find_one({"_id": document_id})
    assert document is not None
    views = document["views"]
    assert isinstance(views, int)
    log.info("lost updates: %d of %d acknowledged $inc (%d connections)", expected - views, expected, CONNECTIONS)
    assert acknowledged == expected, "every $inc was acknowledged as applied"
    assert views < expected, (
        f"all {expected} concurrent $inc from {CONNECTIONS} connections were applied: FerretDB now updates one "
        "document atomically. The UGC store's rule of never relying on concurrent read-modify-write of one "
        "document may be revisited (and this test turned into one that expects atomic updates)."
    )
