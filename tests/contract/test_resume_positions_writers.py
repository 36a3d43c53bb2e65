"""How many writers "newer wins" tolerates on FerretDB v1, the devstack's document store.

MongoDB applies the conditional update atomically on its document; FerretDB v1 reads, checks and writes without a
lock, so writers racing on one document can each see the old report, each "win", and leave whichever wrote last.
The design therefore relies on one writer per user at a time (the projection of the event log, partitioned by
user). The first test is that design, and must hold; the second shows what breaking it does on FerretDB, and fails
the day FerretDB stops losing such updates, so that the rule can be revisited.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from devstack.engines.ferretdb import FerretDB
from ugc_svc.adapters.mongodb_database import MongoDatabase, open_client
from ugc_svc.adapters.mongodb_resume_positions import MongoDbResumePositions
from ugc_svc.domain.resume import ResumePosition

pytestmark = pytest.mark.ferretdb

log = logging.getLogger(__name__)
T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
WRITERS = 8  # each its own client, so its own connections: FerretDB serves them in parallel
MOVIES = 40
TIMEOUT = 10.0


@pytest.fixture
async def writers(ferretdb: FerretDB) -> AsyncIterator[list[MongoDbResumePositions]]:
    """`WRITERS` adapters on one database of this test's own, each with its own client."""
    name = f"ugc_writers_{uuid.uuid4().hex[:12]}"
    clients = [open_client(ferretdb.endpoints()["url"], TIMEOUT) for _ in range(WRITERS)]
    adapters = [MongoDbResumePositions(MongoDatabase(client, name, TIMEOUT)) for client in clients]
    for adapter in adapters:
        await adapter.prepare()
    try:
        yield adapters
    finally:
        await clients[0].drop_database(name)
        for client in clients:
            await client.close()


def reports(user_id: str, movie_id: str) -> list[ResumePosition]:
    """`WRITERS` reports of one movie, each newer than the one before; the last is the one to keep."""
    return [
        ResumePosition(user_id, movie_id, (index + 1) * 1000, T0 + timedelta(seconds=index), T0, f"r{index}")
        for index in range(WRITERS)
    ]


async def test_one_writer_per_user_keeps_the_newest_report_of_every_movie(
    writers: list[MongoDbResumePositions],
) -> None:
    """Every writer busy at once, but each user's reports go through one writer, in a shuffled order."""
    users = [f"user-{index}" for index in range(WRITERS)]
    shuffle = random.Random(7)

    async def one_user(writer: MongoDbResumePositions, user_id: str) -> None:
        batch = [report for movie in range(MOVIES // WRITERS) for report in reports(user_id, f"m{movie}")]
        shuffle.shuffle(batch)
        for report in batch:
            await writer.record(report)

    await asyncio.gather(*(one_user(writer, user_id) for writer, user_id in zip(writers, users, strict=True)))

    for user_id in users:
        for movie in range(MOVIES // WRITERS):
            assert await writers[0].get(user_id, f"m{movie}") == reports(user_id, f"m{movie}")[-1]


async def test_concurrent_writers_of_one_position_lose_the_newest_report_on_ferretdb(
    writers: list[MongoDbResumePositions],
) -> None:
    """For each movie, all writers record one report each at the same moment, on a position that exists."""
    user_id, lost, claimed = "racer", 0, []
    for movie in range(MOVIES):
        movie_id = f"m{movie}"
        await writers[0].record(ResumePosition(user_id, movie_id, 0, T0 - timedelta(seconds=1), T0, "r"))
        batch = reports(user_id, movie_id)
        random.Random(movie).shuffle(batch)

        applied = await asyncio.gather(*(w.record(r) for w, r in zip(writers, batch, strict=True)))

        stored = await writers[0].get(user_id, movie_id)
        # Never a mix of two reports: whichever write landed last landed whole.
        assert stored in batch
        lost += stored != max(batch, key=lambda r: r.recency)
        claimed.append(sum(applied))

    log.info("newest report lost in %d of %d movies; writers told 'applied' per movie: %s", lost, MOVIES, claimed)
    assert lost > 0, (
        f"no newest report was lost in {MOVIES} races of {WRITERS} writers: FerretDB now applies a conditional "
        "update atomically. The one-writer-per-user rule of ResumePositions may be revisited, and this test turned "
        "into one that expects the newest report to win."
    )
