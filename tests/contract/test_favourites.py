"""The Favourites port, one suite over both adapters: SQLite (embedded) and MongoDB on FerretDB (devstack).

The cases are the promises of ugc_svc/ports/favourites.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from meshkit.errors import InvalidArgument
from tests.contract.document_store import ADAPTERS, document_store, user
from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.resume import ResumePosition, WatchingKey
from ugc_svc.ports.favourites import Favourites

T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


@pytest.fixture(params=ADAPTERS, scope="module")
async def favourites(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Favourites]:
    async with document_store(request, tmp_path_factory.mktemp("documents")) as store:
        yield store.favourites


def fav(user_id: str, movie_id: str, seconds: float) -> Favourite:
    return Favourite(user_id, movie_id, T0 + timedelta(seconds=seconds))


async def walk(favourites: Favourites, user_id: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await favourites.list(user_id, limit, cursor)
        pages.append([f.movie_id for f in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_adding_twice_keeps_the_first_entry_and_its_time(favourites: Favourites) -> None:
    user_id = user()
    assert await favourites.add(fav(user_id, "m1", 10)) is True
    await favourites.add(fav(user_id, "m2", 20))

    assert await favourites.add(fav(user_id, "m1", 30)) is False

    page = await favourites.list(user_id, 10)
    assert page.items == (fav(user_id, "m2", 20), fav(user_id, "m1", 10))


async def test_concurrent_adds_of_one_movie_leave_one_entry(favourites: Favourites) -> None:
    user_id = user()
    added = await asyncio.gather(*(favourites.add(fav(user_id, "m1", second)) for second in range(8)))

    assert sorted(added) == [False] * 7 + [True]
    page = await favourites.list(user_id, 10)
    assert [f.movie_id for f in page.items] == ["m1"]


async def test_removing_is_idempotent_and_adding_again_is_a_new_entry(favourites: Favourites) -> None:
    user_id = user()
    await favourites.add(fav(user_id, "m1", 10))
    await favourites.add(fav(user_id, "m2", 20))

    assert await favourites.remove(user_id, "m1") is True
    assert await favourites.remove(user_id, "m1") is False
    assert await favourites.remove(user_id, "never") is False
    assert not await favourites.contains(user_id, "m1")

    assert await favourites.add(fav(user_id, "m1", 30)) is True
    assert (await favourites.list(user_id, 10)).items == (fav(user_id, "m1", 30), fav(user_id, "m2", 20))


async def test_contains_says_whether_the_movie_is_a_favourite(favourites: Favourites) -> None:
    user_id = user()
    await favourites.add(fav(user_id, "m1", 10))

    assert await favourites.contains(user_id, "m1")
    assert not await favourites.contains(user_id, "m2")


async def test_get_gives_the_entry_with_its_first_time(favourites: Favourites) -> None:
    user_id = user()
    await favourites.add(fav(user_id, "m1", 10))
    await favourites.add(fav(user_id, "m1", 40))

    assert await favourites.get(user_id, "m1") == fav(user_id, "m1", 10)
    assert await favourites.get(user_id, "m2") is None
    assert await favourites.get(user(), "m1") is None


async def test_times_come_back_in_utc_to_the_millisecond(favourites: Favourites) -> None:
    user_id = user()
    await favourites.add(Favourite(user_id, "m1", datetime(2026, 12, 1, 21, 15, 3, 456_789, tzinfo=UTC)))

    (found,) = (await favourites.list(user_id, 1)).items

    assert found.added_at == datetime(2026, 12, 1, 21, 15, 3, 456_000, tzinfo=UTC)


# --- pages -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 4, 30, 100])
async def test_pages_walk_every_favourite_once_newest_first(favourites: Favourites, limit: int) -> None:
    user_id = user()
    # Pairs added in the same millisecond: the movie id (descending) orders them.
    stored = [fav(user_id, f"m{index:02d}", index // 2) for index in range(30)]
    for favourite in random.Random(limit).sample(stored, len(stored)):
        await favourites.add(favourite)

    pages = await walk(favourites, user_id, limit)

    expected = [f.movie_id for f in sorted(stored, key=lambda f: (f.added_at, f.movie_id), reverse=True)]
    assert [movie for page in pages for movie in page] == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


async def test_a_walk_never_repeats_an_entry_when_the_list_changes_between_pages(favourites: Favourites) -> None:
    user_id = user()
    for index in range(8):
        await favourites.add(fav(user_id, f"m{index}", index))
    first = await favourites.list(user_id, 3)
    assert [f.movie_id for f in first.items] == ["m7", "m6", "m5"]
    assert first.next_cursor is not None

    await favourites.add(fav(user_id, "new", 100))  # newer than the cursor
    await favourites.remove(user_id, "m6")  # seen
    await favourites.remove(user_id, "m3")  # not seen yet
    await favourites.remove(user_id, "m2")  # not seen yet, then added again: newer than the cursor
    await favourites.add(fav(user_id, "m2", 101))

    rest = await favourites.list(user_id, 100, first.next_cursor)

    assert [f.movie_id for f in rest.items] == ["m4", "m1", "m0"]
    assert rest.next_cursor is None
    assert await walk(favourites, user_id, 100) == [["m2", "new", "m7", "m5", "m4", "m1", "m0"]]


async def test_no_favourites_is_an_empty_last_page(favourites: Favourites) -> None:
    page = await favourites.list(user(), 10)
    assert (page.items, page.next_cursor) == ((), None)


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_a_limit_out_of_range_is_invalid(favourites: Favourites, limit: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await favourites.list(user(), limit)
    assert [v.field for v in raised.value.violations] == ["limit"]


async def test_a_cursor_that_was_not_returned_is_invalid(favourites: Favourites) -> None:
    user_id = user()
    for index in range(3):
        await favourites.add(fav(user_id, f"m{index}", index))
    cursor = (await favourites.list(user_id, 1)).next_cursor
    assert cursor is not None
    watching = WatchingKey.of(ResumePosition(user_id, "m1", 0, T0, T0, "r")).cursor()

    for bad in ["", "not a cursor", cursor[:-3], cursor[::-1], watching, "x" * 5000]:
        with pytest.raises(InvalidArgument) as raised:
            await favourites.list(user_id, 1, bad)
        assert [v.field for v in raised.value.violations] == ["cursor"], bad


# --- users -----------------------------------------------------------------------------------------------------------


async def test_users_never_see_or_change_each_others_favourites(favourites: Favourites) -> None:
    alice, bob = user(), user()
    await favourites.add(fav(alice, "m1", 10))
    await favourites.add(fav(alice, "m2", 20))
    await favourites.add(fav(bob, "m3", 5))

    assert not await favourites.contains(bob, "m1")
    assert await favourites.remove(bob, "m1") is False
    assert await favourites.add(fav(bob, "m1", 30)) is True  # Bob's own entry, not a duplicate of Alice's
    assert await walk(favourites, bob, 10) == [["m1", "m3"]]
    alice_cursor = (await favourites.list(alice, 1)).next_cursor
    assert alice_cursor is not None
    after = await favourites.list(bob, 10, alice_cursor)
    assert [(f.user_id, f.movie_id) for f in after.items] == [(bob, "m3")]

    assert (await favourites.list(alice, 10)).items == (fav(alice, "m2", 20), fav(alice, "m1", 10))
