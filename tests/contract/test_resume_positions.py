"""The ResumePositions port, one suite over both adapters: SQLite (embedded) and MongoDB on FerretDB (devstack).

The cases are the promises of ugc_svc/ports/resume_positions.py.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from meshkit.errors import InvalidArgument
from tests.contract.document_store import ADAPTERS, document_store, user
from ugc_svc.domain.favourites import Favourite, FavouritesKey
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.ports.resume_positions import ResumePositions

T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


@pytest.fixture(params=ADAPTERS, scope="module")
async def positions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ResumePositions]:
    async with document_store(request, tmp_path_factory.mktemp("documents")) as store:
        yield store.resume_positions


def report(
    user_id: str,
    movie_id: str,
    position_ms: int,
    client_s: float,
    *,
    server_s: float | None = None,
    report_id: str = "r",
    duration_ms: int | None = None,
    finished: bool = False,
    device: str = "tv",
) -> ResumePosition:
    return ResumePosition(
        user_id=user_id,
        movie_id=movie_id,
        position_ms=position_ms,
        client_time=T0 + timedelta(seconds=client_s),
        server_time=T0 + timedelta(seconds=client_s + 1 if server_s is None else server_s),
        report_id=report_id,
        duration_ms=duration_ms,
        finished=finished,
        device=device,
    )


async def walk(positions: ResumePositions, user_id: str, limit: int) -> list[list[str]]:
    """Every page of continue watching, as movie ids, following the cursors to the end."""
    pages, cursor = [], None
    while True:
        page = await positions.continue_watching(user_id, limit, cursor)
        pages.append([p.movie_id for p in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


# --- newer wins ------------------------------------------------------------------------------------------------------


def reports_of_one_movie(user_id: str) -> list[ResumePosition]:
    """Distinct reports in every way the order can tell them apart, plus exact duplicates."""
    distinct = [
        report(user_id, "m1", 1_000, 10, report_id="a"),
        report(user_id, "m1", 2_000, 20, report_id="a"),
        report(user_id, "m1", 3_000, 30, server_s=31, report_id="a"),
        # The same client time: the later server time wins.
        report(user_id, "m1", 4_000, 30, server_s=35, report_id="a"),
        # The same client and server times: the larger report id wins.
        report(user_id, "m1", 5_000, 30, server_s=35, report_id="b"),
        report(user_id, "m1", 6_000, 30, server_s=35, report_id="c", device="phone"),
        # Arrived first at the server but taken later on the device: the client time decides.
        report(user_id, "m1", 7_000, 40, server_s=5, report_id="a"),
        report(user_id, "m1", 500, 25, report_id="z"),
    ]
    return [*distinct, distinct[1], distinct[6], distinct[6], distinct[5]]


@pytest.mark.parametrize("seed", range(6))
async def test_the_newest_report_wins_in_any_arrival_order(positions: ResumePositions, seed: int) -> None:
    user_id = user()
    reports = reports_of_one_movie(user_id)
    random.Random(seed).shuffle(reports)

    applied = [await positions.record(r) for r in reports]

    newest = max(reports, key=lambda r: r.recency)
    assert (newest.position_ms, newest.report_id) == (7_000, "a")
    assert await positions.get(user_id, "m1") == newest
    # Applied exactly when a report was greater than every one before it; duplicates and late ones were ignored.
    expected, best = [], ""
    for r in reports:
        expected.append(r.recency > best)
        best = max(best, r.recency)
    assert applied == expected


async def test_a_replayed_report_is_ignored_and_changes_nothing(positions: ResumePositions) -> None:
    user_id = user()
    first = report(user_id, "m1", 60_000, 100, duration_ms=7_200_000, device="phone")
    assert await positions.record(first) is True

    assert await positions.record(first) is False
    assert await positions.record(replace(first, position_ms=1)) is False  # same report id and times: not newer

    assert await positions.get(user_id, "m1") == first


async def test_a_position_keeps_every_field(positions: ResumePositions) -> None:
    user_id = user()
    stored = ResumePosition(
        user_id=user_id,
        movie_id="tt0083658",
        position_ms=3_725_123,
        client_time=datetime(2026, 12, 1, 21, 15, 3, 456_789, tzinfo=UTC),
        server_time=datetime(2026, 12, 1, 21, 15, 4, 1_000, tzinfo=UTC),
        report_id="0b9e8c1e-7f4a-4c55-9d1f-6a8e2f0c1d22",
        duration_ms=7_020_000,
        device="Кухня · Android TV",
    )
    await positions.record(stored)

    found = await positions.get(user_id, "tt0083658")

    assert found == stored
    assert found is not None
    assert found.client_time == datetime(2026, 12, 1, 21, 15, 3, 456_000, tzinfo=UTC)  # to the millisecond
    assert not found.finished
    assert await positions.get(user_id, "tt0000000") is None


# --- finished --------------------------------------------------------------------------------------------------------


async def test_a_finished_movie_leaves_continue_watching_until_a_newer_unfinished_report(
    positions: ResumePositions,
) -> None:
    user_id = user()
    await positions.record(report(user_id, "m1", 50_000, 10))
    await positions.record(report(user_id, "m2", 60_000, 20))
    assert await walk(positions, user_id, 10) == [["m2", "m1"]]

    await positions.record(report(user_id, "m1", 90_000, 30, finished=True))
    assert await walk(positions, user_id, 10) == [["m2"]]
    # An older unfinished report arriving late does not bring it back.
    assert await positions.record(report(user_id, "m1", 70_000, 25)) is False
    assert await walk(positions, user_id, 10) == [["m2"]]

    # A rewatch: a newer report, not finished.
    await positions.record(report(user_id, "m1", 5_000, 40))
    assert await walk(positions, user_id, 10) == [["m1", "m2"]]
    found = await positions.get(user_id, "m1")
    assert found is not None
    assert (found.position_ms, found.finished) == (5_000, False)


async def test_a_position_in_the_credits_is_finished(positions: ResumePositions) -> None:
    user_id = user()
    await positions.record(report(user_id, "credits", 9_500, 10, duration_ms=10_000))
    await positions.record(report(user_id, "before", 9_499, 10, duration_ms=10_000))
    await positions.record(report(user_id, "unknown-length", 9_999_999, 10))

    assert await walk(positions, user_id, 10) == [["unknown-length", "before"]]
    found = await positions.get(user_id, "credits")
    assert found is not None
    assert found.finished


# --- pages -----------------------------------------------------------------------------------------------------------


def many(user_id: str, count: int) -> list[ResumePosition]:
    """`count` unfinished positions; every third pair shares its whole order key, so the movie id must decide."""
    return [
        report(user_id, f"m{index:03d}", index * 1000, float(index // 2 if index % 3 == 0 else index), report_id="r")
        for index in range(count)
    ]


@pytest.mark.parametrize("limit", [1, 7, 25, 100])
async def test_pages_walk_every_unfinished_position_once_newest_first(positions: ResumePositions, limit: int) -> None:
    user_id = user()
    stored = many(user_id, 25)
    for position in random.Random(limit).sample(stored, len(stored)):
        await positions.record(position)
    await positions.record(report(user_id, "done", 1, 999, finished=True))

    pages = await walk(positions, user_id, limit)

    expected = [p.movie_id for p in sorted(stored, key=lambda p: (p.recency, p.movie_id), reverse=True)]
    assert [movie for page in pages for movie in page] == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit  # a full last page says so: no empty page follows


async def test_a_walk_never_repeats_a_movie_when_positions_change_between_pages(positions: ResumePositions) -> None:
    user_id = user()
    for index in range(10):
        await positions.record(report(user_id, f"m{index}", 1000, float(index)))
    first = await positions.continue_watching(user_id, 4)
    assert [p.movie_id for p in first.items] == ["m9", "m8", "m7", "m6"]
    assert first.next_cursor is not None

    await positions.record(report(user_id, "new", 1000, 100))  # newer than the cursor
    await positions.record(report(user_id, "m8", 2000, 101))  # seen, moved ahead of the cursor
    await positions.record(report(user_id, "m2", 2000, 102))  # not seen yet, moved ahead of the cursor
    await positions.record(report(user_id, "m0", 1, 103, finished=True))  # not seen yet, finished

    rest = await positions.continue_watching(user_id, 100, first.next_cursor)

    # Unchanged positions after the cursor, each once; the changed and new ones wait for a new first page.
    assert [p.movie_id for p in rest.items] == ["m5", "m4", "m3", "m1"]
    assert rest.next_cursor is None
    assert await walk(positions, user_id, 100) == [["m2", "m8", "new", "m9", "m7", "m6", "m5", "m4", "m3", "m1"]]


async def test_nothing_watched_is_an_empty_last_page(positions: ResumePositions) -> None:
    page = await positions.continue_watching(user(), 10)
    assert (page.items, page.next_cursor) == ((), None)


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_a_limit_out_of_range_is_invalid(positions: ResumePositions, limit: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await positions.continue_watching(user(), limit)
    assert [v.field for v in raised.value.violations] == ["limit"]


async def test_a_cursor_that_was_not_returned_is_invalid(positions: ResumePositions) -> None:
    user_id = user()
    for index in range(3):
        await positions.record(report(user_id, f"m{index}", 1000, float(index)))
    cursor = (await positions.continue_watching(user_id, 1)).next_cursor
    assert cursor is not None
    favourites_cursor = FavouritesKey.of(Favourite(user_id, "m1", T0)).cursor()

    for bad in ["", "not a cursor", cursor[:-3], cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1],
                favourites_cursor, "x" * 5000]:  # fmt: skip
        with pytest.raises(InvalidArgument) as raised:
            await positions.continue_watching(user_id, 1, bad)
        assert [v.field for v in raised.value.violations] == ["cursor"], bad


# --- users -----------------------------------------------------------------------------------------------------------


async def test_users_never_see_or_change_each_others_positions(positions: ResumePositions) -> None:
    alice, bob = user(), user()
    await positions.record(report(alice, "m1", 1000, 10))
    await positions.record(report(alice, "m2", 2000, 20))
    await positions.record(report(bob, "m2", 9000, 5))

    assert await positions.get(bob, "m1") is None
    assert await walk(positions, bob, 10) == [["m2"]]
    assert await positions.forget(bob, "m1") is False
    # Alice's cursor in Bob's hands pages Bob's own list, nothing of Alice's.
    alice_cursor = (await positions.continue_watching(alice, 1)).next_cursor
    assert alice_cursor is not None
    after = await positions.continue_watching(bob, 10, alice_cursor)
    assert [(p.user_id, p.movie_id) for p in after.items] == [(bob, "m2")]

    assert await walk(positions, alice, 10) == [["m2", "m1"]]
    found = await positions.get(alice, "m2")
    assert found is not None
    assert found.position_ms == 2000


async def test_ids_that_read_alike_stay_apart(positions: ResumePositions) -> None:
    # ("u1/x", "m") and ("u1", "x/m") would collide in a naive "user/movie" key.
    base = user()
    await positions.record(report(f"{base}/x", "m", 1000, 10))
    await positions.record(report(base, "x/m", 2000, 10))

    first, second = await positions.get(f"{base}/x", "m"), await positions.get(base, "x/m")
    assert first is not None
    assert second is not None
    assert (first.position_ms, second.position_ms) == (1000, 2000)


async def test_forget_is_idempotent(positions: ResumePositions) -> None:
    user_id = user()
    await positions.record(report(user_id, "m1", 1000, 10))

    assert await positions.forget(user_id, "m1") is True
    assert await positions.forget(user_id, "m1") is False
    assert await positions.get(user_id, "m1") is None
    # Forgotten means no report to be newer than: an old one is recorded again.
    assert await positions.record(report(user_id, "m1", 500, 1)) is True
