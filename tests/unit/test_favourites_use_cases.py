"""Favourites use cases: the user is the caller, the time is the service's clock, adding and removing are
idempotent, the list is newest first in pages a cursor continues, and a bad page request names its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meshkit.errors import InvalidArgument, Unavailable
from tests.unit.fakes_favourites import FakeFavourites
from ugc_svc.domain.favourites import Favourite
from ugc_svc.service_layer.favourites import add_favourite, list_favourites, remove_favourite

T0 = datetime(2026, 12, 1, 12, 0, 0, 123_456, tzinfo=UTC)


class Clock:
    """The service's clock, one second later at every reading."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return T0 + timedelta(seconds=self.readings)


def at(seconds: int) -> datetime:
    return (T0 + timedelta(seconds=seconds)).replace(microsecond=123_000)


async def add(store: FakeFavourites, movie_id: str, clock: Clock, user_id: str = "alice") -> Favourite:
    return await add_favourite(movie_id, user_id=user_id, favourites=store, clock=clock)


async def movies(store: FakeFavourites, user_id: str = "alice", limit: int = 100) -> list[str]:
    page = await list_favourites(user_id=user_id, favourites=store, limit=limit)
    return [f.movie_id for f in page.items]


async def test_adding_stores_the_callers_entry_at_the_service_time_to_the_millisecond() -> None:
    store, clock = FakeFavourites(), Clock()
    added = await add(store, "tt1", clock)
    assert added == Favourite("alice", "tt1", at(1))
    assert store.entries == {("alice", "tt1"): added}


async def test_adding_again_changes_nothing_and_answers_the_first_time() -> None:
    store, clock = FakeFavourites(), Clock()
    first = await add(store, "tt1", clock)
    await add(store, "tt2", clock)
    again = await add(store, "tt1", clock)
    assert again == first
    assert again.added_at == at(1)
    assert await movies(store) == ["tt2", "tt1"]


async def test_an_entry_removed_while_adding_is_added_anew() -> None:
    store, clock = FakeFavourites(), Clock()
    await add(store, "tt1", clock)
    store.removed_before_get = 1
    again = await add(store, "tt1", clock)
    assert again == Favourite("alice", "tt1", at(3))
    assert store.entries == {("alice", "tt1"): again}


async def test_a_movie_id_that_no_store_can_keep_is_refused_by_name() -> None:
    store, clock = FakeFavourites(), Clock()
    for bad in ("", "x" * 129, "tt\x001"):
        with pytest.raises(InvalidArgument) as refused:
            await add(store, bad, clock)
        assert [v.field for v in refused.value.violations] == ["movie_id"]
        with pytest.raises(InvalidArgument) as refused:
            await remove_favourite(bad, user_id="alice", favourites=store)
        assert [v.field for v in refused.value.violations] == ["movie_id"]
    assert store.entries == {}


async def test_removing_is_idempotent_and_touches_only_the_callers_entry() -> None:
    store, clock = FakeFavourites(), Clock()
    await add(store, "tt1", clock, user_id="alice")
    await add(store, "tt1", clock, user_id="bob")
    assert await remove_favourite("tt1", user_id="alice", favourites=store) is True
    assert await remove_favourite("tt1", user_id="alice", favourites=store) is False
    assert await movies(store, "alice") == []
    assert await movies(store, "bob") == ["tt1"]


async def test_the_list_is_newest_first_in_pages_the_cursor_continues() -> None:
    store, clock = FakeFavourites(), Clock()
    for movie in ("a", "b", "c", "d", "e"):
        await add(store, movie, clock)
    await add(store, "x", clock, user_id="bob")

    pages, cursor = [], None
    while True:
        page = await list_favourites(user_id="alice", favourites=store, limit=2, cursor=cursor)
        pages.append([f.movie_id for f in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == [["e", "d"], ["c", "b"], ["a"]]


async def test_the_default_page_is_twenty_and_an_empty_cursor_is_the_first_page() -> None:
    store, clock = FakeFavourites(), Clock()
    for number in range(25):
        await add(store, f"m{number:02}", clock)
    page = await list_favourites(user_id="alice", favourites=store, cursor="")
    assert [f.movie_id for f in page.items] == [f"m{number:02}" for number in range(24, 4, -1)]
    assert page.next_cursor is not None


async def test_a_cursor_the_list_did_not_return_or_a_page_size_out_of_range_names_its_field() -> None:
    store = FakeFavourites()
    with pytest.raises(InvalidArgument) as refused:
        await list_favourites(user_id="alice", favourites=store, cursor="not-a-cursor")
    assert [v.field for v in refused.value.violations] == ["cursor"]
    for limit in (0, 101):
        with pytest.raises(InvalidArgument) as refused:
            await list_favourites(user_id="alice", favourites=store, limit=limit)
        assert [v.field for v in refused.value.violations] == ["limit"]


async def test_a_store_that_is_down_is_unavailable() -> None:
    store, clock = FakeFavourites(), Clock()
    store.unavailable = True
    with pytest.raises(Unavailable):
        await add(store, "tt1", clock)
    with pytest.raises(Unavailable):
        await list_favourites(user_id="alice", favourites=store)
    assert store.entries == {}
