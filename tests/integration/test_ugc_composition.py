"""The UGC composition root wires the document store's adapters by profile, reports them on /metrics, and starts
even when the store cannot be reached (each document call answers UNAVAILABLE until it is back)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from prometheus_client import REGISTRY

from devstack.mesh import free_port
from ugc_svc.bootstrap import build
from ugc_svc.settings import UgcSettings


def engine_reported(port: str, engine_and_adapter: str) -> float | None:
    engine, _, adapter = engine_and_adapter.partition(":")
    labels = {"port": port, "engine": engine, "adapter": adapter}
    return REGISTRY.get_sample_value("cinemesh_adapter_info", labels)


async def test_the_embedded_profile_prepares_its_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ugc" / "documents.sqlite3"

    async with build(UgcSettings(profile="embedded", sqlite_path=path)) as services:
        assert [s.name for s in services] == ["cinemesh.ugc.v1.UgcService"]
        assert engine_reported("resume_positions", "sqlite:SqliteResumePositions") == 1.0
        assert engine_reported("favourites", "sqlite:SqliteFavourites") == 1.0
        with sqlite3.connect(path) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert {"resume_positions", "favourites"} <= tables
        assert journal == "wal"


async def test_the_production_profile_starts_while_the_store_is_down() -> None:
    settings = UgcSettings(
        profile="production",
        mongodb_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        document_store_timeout_seconds=0.5,
    )
    started = time.monotonic()

    async with build(settings) as services:
        assert [s.name for s in services] == ["cinemesh.ugc.v1.UgcService"]
        assert engine_reported("resume_positions", "mongodb:MongoDbResumePositions") == 1.0
        assert engine_reported("favourites", "mongodb:MongoDbFavourites") == 1.0

    # One bounded attempt to prepare, not a wait for the store.
    assert time.monotonic() - started < 3.0
