"""The UGC document store's adapters as the contract suites get them: SQLite in a temporary file, and MongoDB on
the devstack's FerretDB (on PostgreSQL) in a database of the suite's own, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from ugc_svc.document_stores import DocumentStore, open_document_store
from ugc_svc.settings import UgcSettings

ADAPTERS = ["sqlite", pytest.param("mongodb", marks=pytest.mark.ferretdb)]
TIMEOUT = 2.0


def store_settings(request: pytest.FixtureRequest, tmp: Path) -> UgcSettings:
    """The service's settings for the adapter `request.param` names, on a store of the caller's own."""
    if request.param == "sqlite":
        return UgcSettings(
            profile="embedded", sqlite_path=tmp / "documents.sqlite3", document_store_timeout_seconds=TIMEOUT
        )
    url = request.getfixturevalue("ferretdb").endpoints()["url"]
    # The engine is shared with other runs and a developer's own data: a database of our own, dropped after.
    return UgcSettings(
        profile="production",
        mongodb_url=url,
        mongodb_database=f"ugc_contract_{uuid.uuid4().hex[:12]}",
        document_store_timeout_seconds=TIMEOUT,
    )


@contextlib.asynccontextmanager
async def document_store(request: pytest.FixtureRequest, tmp: Path) -> AsyncIterator[DocumentStore]:
    """The store of `request.param`, wired as the service wires it (`open_document_store`), prepared."""
    settings = store_settings(request, tmp)
    try:
        async with open_document_store(settings) as store:
            await store.prepare()
            yield store
    finally:
        await drop(settings)


async def drop(settings: UgcSettings) -> None:
    if settings.profile == "production":
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongodb_url, timeoutMS=10_000)
        try:
            await client.drop_database(settings.mongodb_database)
        finally:
            await client.close()


def user() -> str:
    """A user no other test has: tests share one store and never see each other's data."""
    return f"user-{uuid.uuid4().hex[:10]}"
