"""The UGC composition root wires the document store's adapters by profile and reports them on /metrics; the
production store opens even when MongoDB cannot be reached (each document call answers UNAVAILABLE until it is
back). The production profile's whole start, event bus included, is proved on the devstack engines
(tests/e2e/test_production_profile.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from devstack.mesh import free_port
from meshkit.background import BackgroundTask
from meshkit.errors import Unavailable
from meshkit.server import GrpcService, running_server
from ugc_svc.adapters.mongodb_favourites import MongoDbFavourites
from ugc_svc.adapters.mongodb_resume_positions import MongoDbResumePositions
from ugc_svc.bootstrap import build
from ugc_svc.document_stores import open_document_store
from ugc_svc.settings import UgcSettings


def engine_reported(port: str, engine_and_adapter: str) -> float | None:
    engine, _, adapter = engine_and_adapter.partition(":")
    labels = {"port": port, "engine": engine, "adapter": adapter}
    return REGISTRY.get_sample_value("cinemesh_adapter_info", labels)


async def test_the_embedded_profile_prepares_its_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ugc" / "documents.sqlite3"

    settings = UgcSettings(profile="embedded", sqlite_path=path, event_log_path=tmp_path / "events.sqlite3")
    async with build(settings) as services:
        assert [s.name for s in services] == [
            "cinemesh.ugc.v1.UgcService",
            "positions projection",
            "ratings projection",
        ]
        assert engine_reported("resume_positions", "sqlite:SqliteResumePositions") == 1.0
        assert engine_reported("favourites", "sqlite:SqliteFavourites") == 1.0
        assert engine_reported("ratings", "sqlite:SqliteRatings") == 1.0
        assert engine_reported("record_publisher", "sqlite:SqliteRecordPublisher") == 1.0
        assert engine_reported("writer_schemas", "sqlite:SqliteWriterSchemas") == 1.0
        with sqlite3.connect(path) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert {"resume_positions", "favourites"} <= tables
        assert journal == "wal"


async def test_the_production_store_opens_while_mongodb_is_down() -> None:
    settings = UgcSettings(
        profile="production",
        mongodb_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        document_store_timeout_seconds=0.5,
    )
    started = time.monotonic()

    async with open_document_store(settings) as documents:
        assert type(documents.resume_positions) is MongoDbResumePositions
        assert type(documents.favourites) is MongoDbFavourites
        with pytest.raises(Unavailable):
            await documents.prepare()

    # One bounded attempt to prepare, not a wait for the store.
    assert time.monotonic() - started < 3.0


async def test_the_embedded_profile_runs_both_projections_in_their_groups_while_serving(tmp_path: Path) -> None:
    settings = UgcSettings(
        profile="embedded",
        sqlite_path=tmp_path / "documents.sqlite3",
        event_log_path=tmp_path / "events.sqlite3",
        grpc_port=0,
        metrics_port=0,
    )
    async with build(settings) as parts:
        services = [part for part in parts if isinstance(part, GrpcService)]
        background = [part for part in parts if isinstance(part, BackgroundTask)]
        async with running_server(settings, services, background) as running:
            groups = {settings.positions_consumer_group, settings.ratings_consumer_group}
            joined: set[str] = set()
            for _ in range(200):
                with sqlite3.connect(settings.event_log_path) as log:
                    joined = {row[0] for row in log.execute("SELECT DISTINCT group_id FROM group_members")}
                if groups <= joined:
                    break
                await asyncio.sleep(0.05)
            assert groups <= joined
            assert running.background.problems() == []
