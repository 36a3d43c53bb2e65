"""The Ratings port, one suite over both adapters: SQLite (embedded) and MongoDB on FerretDB (devstack).

The cases are the promises of ugc_svc/ports/ratings.py. Changes carry the offsets a ratings log would give them;
each test uses movies and users of its own, since summaries are per movie and the store is shared.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from pymongo import AsyncMongoClient

from devstack.engines.ferretdb import FerretDB
from meshkit.errors import InvalidArgument
from tests.contract.document_store import ADAPTERS, document_store, user
from ugc_svc.adapters.mongodb_database import Document, MongoDatabase
from ugc_svc.adapters.mongodb_ratings import MongoDbRatings
from ugc_svc.domain.favourites import Favourite, FavouritesKey
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange
from ugc_svc.ports.ratings import Ratings

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


@pytest.fixture(params=ADAPTERS, scope="module")
async def ratings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ratings]:
    async with document_store(request, tmp_path_factory.mktemp("documents")) as store:
        yield store.ratings


def movie() -> str:
    return f"movie-{uuid.uuid4().hex[:10]}"


class Log:
    """Changes at consecutive offsets, as one partition of the ratings log holds them."""

    def __init__(self) -> None:
        self.changes: list[RatingChange] = []
        self._offsets = count()

    def set(self, user_id: str, movie_id: str, score: int | None, seconds: float = 0) -> RatingChange:
        change = RatingChange(user_id, movie_id, score, T0 + timedelta(seconds=seconds), next(self._offsets))
        self.changes.append(change)
        return change


async def apply_all(ratings: Ratings, changes: Sequence[RatingChange]) -> list[bool]:
    return [await ratings.apply(change) for change in changes]


def summary_of(movie_id: str, scores: Sequence[int]) -> MovieRating:
    return MovieRating(movie_id, len(scores), sum(scores))


async def test_a_set_rating_is_read_back_and_counted(ratings: Ratings) -> None:
    alice, film, log = user(), movie(), Log()

    assert await ratings.apply(log.set(alice, film, 7, seconds=1.5)) is True

    assert await ratings.get(alice, film) == Rating(alice, film, 7, T0 + timedelta(seconds=1.5))
    assert await ratings.movie(film) == summary_of(film, [7])
    assert (await ratings.movie(film)).average == 7


async def test_a_movie_nobody_rated_has_count_zero_and_no_average(ratings: Ratings) -> None:
    summary = await ratings.movie(movie())
    assert (summary.count, summary.total, summary.average) == (0, 0, None)


async def test_changing_a_score_moves_the_total_not_the_count(ratings: Ratings) -> None:
    alice, bob, film, log = user(), user(), movie(), Log()
    await apply_all(ratings, [log.set(alice, film, 7), log.set(bob, film, 4), log.set(alice, film, 10, seconds=5)])

    assert await ratings.movie(film) == summary_of(film, [10, 4])
    assert (await ratings.movie(film)).average == 7
    assert await ratings.get(alice, film) == Rating(alice, film, 10, T0 + timedelta(seconds=5))


async def test_zero_is_a_rating_not_an_absence(ratings: Ratings) -> None:
    alice, film, log = user(), movie(), Log()
    await ratings.apply(log.set(alice, film, 0))

    assert await ratings.get(alice, film) == Rating(alice, film, 0, T0)
    assert await ratings.movie(film) == summary_of(film, [0])


async def test_removing_a_rating_uncounts_it_and_removing_none_changes_nothing(ratings: Ratings) -> None:
    alice, bob, film, log = user(), user(), movie(), Log()
    await apply_all(ratings, [log.set(alice, film, 8), log.set(bob, film, 2), log.set(alice, film, None)])

    assert await ratings.get(alice, film) is None
    assert await ratings.movie(film) == summary_of(film, [2])

    await ratings.apply(log.set(user(), film, None))  # someone who never rated it
    await ratings.apply(log.set(alice, film, None))  # removed twice
    assert await ratings.movie(film) == summary_of(film, [2])


async def test_applying_a_change_again_writes_nothing(ratings: Ratings) -> None:
    alice, film, log = user(), movie(), Log()
    change = log.set(alice, film, 6)
    assert await ratings.apply(change) is True

    assert await ratings.apply(change) is False

    assert await ratings.movie(film) == summary_of(film, [6])


async def test_a_replayed_older_change_never_brings_back_a_removed_rating(ratings: Ratings) -> None:
    alice, film, log = user(), movie(), Log()
    first = log.set(alice, film, 9)
    await apply_all(ratings, [first, log.set(alice, film, None)])

    assert await ratings.apply(first) is False

    assert await ratings.get(alice, film) is None
    assert await ratings.movie(film) == summary_of(film, [])


@pytest.mark.parametrize("seed", range(3))
async def test_replaying_the_log_from_any_offset_keeps_every_summary_exact(ratings: Ratings, seed: int) -> None:
    generator = random.Random(seed)
    users, films, log = [user() for _ in range(6)], [movie() for _ in range(3)], Log()
    for second in range(120):
        score = None if generator.random() < 0.2 else generator.randint(0, 10)
        log.set(generator.choice(users), generator.choice(films), score, seconds=second)

    await apply_all(ratings, log.changes)
    # A projection restarted from an earlier committed offset applies a tail again, in order, several times.
    for _ in range(4):
        await apply_all(ratings, log.changes[generator.randrange(len(log.changes)) :])

    final: dict[tuple[str, str], RatingChange] = {(c.user_id, c.movie_id): c for c in log.changes}
    for film in films:
        scores = [c.score for (_, m), c in final.items() if m == film and c.score is not None]
        assert await ratings.movie(film) == summary_of(film, scores)
    for (user_id, film), change in final.items():
        assert await ratings.get(user_id, film) == change.rating()


async def test_movies_applied_concurrently_each_stay_exact(ratings: Ratings) -> None:
    # One writer per movie, many movies at once: what a projection with several partitions does.
    films, users = [movie() for _ in range(8)], [user() for _ in range(5)]
    logs = {film: Log() for film in films}
    for film in films:
        for index, user_id in enumerate(users):
            logs[film].set(user_id, film, index + 1)
        logs[film].set(users[0], film, None)

    await asyncio.gather(*(apply_all(ratings, logs[film].changes) for film in films))

    for film in films:
        assert await ratings.movie(film) == summary_of(film, [2, 3, 4, 5])


# --- a user's list -----------------------------------------------------------------------------------------------


async def walk(ratings: Ratings, user_id: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await ratings.list(user_id, limit, cursor)
        pages.append([r.movie_id for r in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("limit", [1, 4, 100])
async def test_pages_walk_every_rating_once_most_recent_first(ratings: Ratings, limit: int) -> None:
    alice, log = user(), Log()
    # Pairs set in the same millisecond: the movie id (descending) orders them; one is removed.
    films = [f"m{index:02d}-{uuid.uuid4().hex[:6]}" for index in range(20)]
    for index, film in enumerate(films):
        await ratings.apply(log.set(alice, film, index % 11, seconds=index // 2))
    await ratings.apply(log.set(alice, films[5], None, seconds=100))

    pages = await walk(ratings, alice, limit)

    kept = [(index // 2, film) for index, film in enumerate(films) if film != films[5]]
    assert [film for page in pages for film in page] == [film for _, film in sorted(kept, reverse=True)]
    assert all(len(page) == limit for page in pages[:-1])


async def test_users_never_see_each_others_ratings(ratings: Ratings) -> None:
    alice, bob, film, log = user(), user(), movie(), Log()
    await apply_all(ratings, [log.set(alice, film, 3), log.set(bob, movie(), 5)])

    assert await ratings.get(bob, film) is None
    assert [r.user_id for r in (await ratings.list(bob, 10)).items] == [bob]
    assert (await ratings.list(user(), 10)).items == ()


@pytest.mark.parametrize("limit", [0, 101])
async def test_a_limit_out_of_range_is_invalid(ratings: Ratings, limit: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await ratings.list(user(), limit)
    assert [v.field for v in raised.value.violations] == ["limit"]


async def test_a_cursor_of_another_list_is_invalid(ratings: Ratings) -> None:
    favourites_cursor = FavouritesKey.of(Favourite(user(), "m1", T0)).cursor()
    for bad in ["", "not a cursor", favourites_cursor]:
        with pytest.raises(InvalidArgument) as raised:
            await ratings.list(user(), 10, bad)
        assert [v.field for v in raised.value.violations] == ["cursor"], bad


# --- a crash between the two writes ------------------------------------------------------------------------------


class _DiesBeforeTheRating(MongoDbRatings):
    """The process stopping after a change's summary write and before its rating write: the one window where
    MongoDB holds half a change (SQLite writes both in one transaction)."""

    async def _write_rating(self, change: RatingChange) -> bool:
        raise _Crash


class _Crash(Exception):
    pass


@pytest.mark.ferretdb
async def test_a_change_cut_between_its_two_writes_is_completed_exactly_by_applying_it_again(
    ferretdb: FerretDB,
) -> None:
    client: AsyncMongoClient[Document] = AsyncMongoClient(ferretdb.endpoints()["url"], tz_aware=True)
    name = f"ugc_contract_{uuid.uuid4().hex[:12]}"
    try:
        database = MongoDatabase(client, name, timeout=5.0)
        alice, bob, film, log = user(), user(), movie(), Log()
        await apply_all(MongoDbRatings(database), [log.set(alice, film, 4), log.set(bob, film, 6)])
        cut = log.set(alice, film, 9)

        with pytest.raises(_Crash):
            await _DiesBeforeTheRating(database).apply(cut)
        restarted = MongoDbRatings(database)
        # The projection restarts from its last committed offset: the whole tail again, in order.
        assert await apply_all(restarted, log.changes) == [False, False, True]

        assert await restarted.movie(film) == summary_of(film, [9, 6])
        assert await restarted.get(alice, film) == cut.rating()
    finally:
        await client.drop_database(name)
        await client.close()
