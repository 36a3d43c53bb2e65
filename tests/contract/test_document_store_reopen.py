"""A restart of the service: the store opened again on the same file or database is prepared again (its tables
and indexes exist by then) and serves what was written before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contract.document_store import ADAPTERS, drop, store_settings
from ugc_svc.document_stores import open_document_store
from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.settings import UgcSettings

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


@pytest.fixture(params=ADAPTERS)
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UgcSettings]:
    chosen = store_settings(request, tmp_path)
    try:
        yield chosen
    finally:
        await drop(chosen)


async def test_a_reopened_store_prepares_again_and_keeps_its_documents(settings: UgcSettings) -> None:
    position = ResumePosition("u", "m1", 61_000, NOW, NOW, "r1", duration_ms=7_200_000, device="tv")
    async with open_document_store(settings) as store:
        await store.prepare()
        await store.resume_positions.record(position)
        await store.favourites.add(Favourite("u", "m1", NOW))

    for _ in range(2):
        async with open_document_store(settings) as store:
            await store.prepare()
            assert await store.resume_positions.get("u", "m1") == position
            assert [p.movie_id for p in (await store.resume_positions.continue_watching("u", 10)).items] == ["m1"]
            assert (await store.favourites.list("u", 10)).items == (Favourite("u", "m1", NOW),)
            assert await store.favourites.add(Favourite("u", "m1", NOW)) is False
