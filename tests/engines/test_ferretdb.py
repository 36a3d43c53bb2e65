"""FerretDB smoke test through pymongo, the client the documents adapter uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from devstack.engines.ferretdb import FerretDB

pytestmark = [pytest.mark.engines, pytest.mark.ferretdb]

Document = dict[str, object]


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
