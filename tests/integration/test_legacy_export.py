"""The ETL's reader on the real legacy export (tests/data), and on the demo catalogue `make run` serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import cleaning
from etl.check import check
from etl.cleaning import PLACEHOLDERS, Tally
from etl.demo import write_demo
from etl.legacy import count_movies, read_movies
from search_svc.domain.movie import Actor, Movie
from tests.data import LEGACY_EXPORT


@pytest.fixture(scope="module")
def legacy() -> Path:
    return LEGACY_EXPORT


@pytest.fixture(scope="module")
def legacy_movies(legacy: Path) -> list[Movie]:
    return list(read_movies(legacy))


@pytest.fixture(scope="module")
def demo_movies(tmp_path_factory: pytest.TempPathFactory) -> list[Movie]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    written = write_demo(path)
    movies = list(read_movies(path))
    assert len(movies) == written == count_movies(path)
    return movies


def strings(value: object) -> Iterator[tuple[str, str]]:
    """(where, text) for every string inside a movie, however deeply nested."""
    if isinstance(value, str):
        yield "", value
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            for where, text in strings(item):
                yield f"[{index}]{where}", text
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            for where, text in strings(getattr(value, field.name)):
                yield f".{field.name}{where}", text


def leftovers(movies: list[Movie]) -> list[str]:
    return [
        f"{movie.id}{where}: {text!r}"
        for movie in movies
        for where, text in strings(movie)
        if "N/A" in text or text.strip().lower() in PLACEHOLDERS or text != text.strip()
    ]


def test_exactly_999_movies_each_once(legacy: Path, legacy_movies: list[Movie]) -> None:
    assert len(legacy_movies) == 999
    assert count_movies(legacy) == 999
    assert len({movie.id for movie in legacy_movies}) == 999


def test_no_placeholder_or_padding_survives_anywhere(legacy_movies: list[Movie]) -> None:
    assert leftovers(legacy_movies) == []


def test_no_empty_name_survives(legacy_movies: list[Movie]) -> None:
    for movie in legacy_movies:
        assert movie.title
        assert all(movie.genre)
        assert all(movie.director)
        assert all(movie.actors_names)
        assert all(movie.writers_names)


def test_writers_are_deduplicated_in_first_seen_order(legacy_movies: list[Movie]) -> None:
    movie = next(m for m in legacy_movies if m.id == "tt0112270")
    assert [(w.id, w.name) for w in movie.writers] == [
        ("0b60f2f3ebbbf033f16fa72e56869ad904b20708", "Michael Capellupo"),
        ("0b60f2f3eff810257694782480d46a34cfc79342", "Massimo Mazzucco"),
        ("0b60f2f3dd9f3b2cf61aa0c52480cf1ed5078db5", "Scott Trost"),
    ]
    assert movie.actors == (
        Actor(2239, "Scott Trost"),
        Actor(2240, "Sean Michael Allen"),
        Actor(2241, "Scott Caan"),
        Actor(2242, "Michael Capellupo"),
    )


def test_actor_ids_are_integers_and_never_repeat_within_a_movie(legacy_movies: list[Movie]) -> None:
    for movie in legacy_movies:
        ids = [actor.id for actor in movie.actors]
        assert all(type(i) is int for i in ids)
        assert len(ids) == len(set(ids))
        assert len(movie.writers) == len({w.id for w in movie.writers})


def test_the_known_movies_come_out_as_expected(legacy_movies: list[Movie]) -> None:
    by_id = {movie.id: movie for movie in legacy_movies}
    new_hope = by_id["tt0076759"]
    assert new_hope.title == "Star Wars: Episode IV - A New Hope"
    assert new_hope.director == ("George Lucas",)
    assert new_hope.genre == ("Action", "Adventure", "Fantasy", "Sci-Fi")
    assert new_hope.imdb_rating == 8.6
    assert new_hope.writers_names == ("George Lucas",)
    assert [w.name for w in by_id["tt0086190"].writers] == ["Lawrence Kasdan", "George Lucas"]
    co_directed = [m for m in legacy_movies if "Ira Steven Behr" in m.director]
    assert [m.director for m in co_directed] == [("Ira Steven Behr", "David Zappone")]
    assert sum(movie.imdb_rating is None for movie in legacy_movies) == 1
    assert sum(movie.title == "Star" for movie in legacy_movies) == 7


def test_check_counts_what_the_file_is_known_to_hold(legacy: Path) -> None:
    report = check(legacy)
    assert report.movies == 999
    assert report.leftover_placeholders == 0
    assert report.shared_titles == 40
    assert report.tally == Tally(
        {
            cleaning.placeholder_removed("director"): 304,
            cleaning.placeholder_removed("plot"): 249,
            cleaning.placeholder_removed("imdb_rating"): 1,
            cleaning.CO_DIRECTOR: 6,
            cleaning.LINK_REPEATED: 46,
            cleaning.LINK_PLACEHOLDER: 71,
            cleaning.WRITER_PLACEHOLDER: 320,
            cleaning.WRITER_REPEATED: 107,
        }
    )


def test_small_chunks_read_the_same_movies(legacy: Path, legacy_movies: list[Movie]) -> None:
    assert list(read_movies(legacy, chunk_size=7)) == legacy_movies


def test_the_demo_catalogue_is_clean(demo_movies: list[Movie]) -> None:
    assert 150 <= len(demo_movies) <= 250
    assert leftovers(demo_movies) == []


def test_the_demo_catalogue_holds_the_films_search_is_shown_with(demo_movies: list[Movie]) -> None:
    titles = {movie.title for movie in demo_movies}
    for title in ("Бегущий по лезвию", "Blade Runner", "Терминатор", "The Terminator", "Чёрное зеркало"):
        assert title in titles, title
    star_wars_ru = [m for m in demo_movies if m.title.startswith("Звёздные войны")]
    assert any(m.director == ("Джордж Лукас",) for m in star_wars_ru)
    star_wars_en = [m for m in demo_movies if m.title.startswith("Star Wars")]
    assert any(m.director == ("George Lucas",) for m in star_wars_en)


def test_the_demo_catalogue_has_the_hard_cases(demo_movies: list[Movie]) -> None:
    titles = [movie.title for movie in demo_movies]
    # Titles of stop words only; titles shared by several films.
    assert {"It", "This Is It", "Это"} <= set(titles)
    assert titles.count("It") == 2
    assert titles.count("Солярис") == 2
    # A word in both a title and a director's name.
    assert any("Scott" in m.title for m in demo_movies)
    assert any(any("Scott" in d for d in m.director) for m in demo_movies)
    # The export's dirt was there to clean: missing ratings, descriptions, cast and writers.
    assert any(m.imdb_rating is None for m in demo_movies)
    assert any(not m.description for m in demo_movies)
    assert any(not m.actors for m in demo_movies)
    assert any(not m.writers for m in demo_movies)
    assert any(m.director == ("John Lasseter", "Ash Brannon", "Lee Unkrich") for m in demo_movies)


def test_the_demo_export_carries_the_legacy_dirt(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    write_demo(path)
    report = check(path)
    for rule in (
        cleaning.placeholder_removed("director"),
        cleaning.placeholder_removed("plot"),
        cleaning.placeholder_removed("imdb_rating"),
        cleaning.CO_DIRECTOR,
        cleaning.LINK_REPEATED,
        cleaning.LINK_PLACEHOLDER,
        cleaning.WRITER_REPEATED,
        cleaning.WRITER_PLACEHOLDER,
    ):
        assert report.tally[rule] > 0, rule
    assert report.shared_titles > 0


def test_the_demo_export_is_the_same_every_time(tmp_path: Path) -> None:
    write_demo(tmp_path / "a.sqlite")
    write_demo(tmp_path / "b.sqlite")
    assert (tmp_path / "a.sqlite").read_bytes() == (tmp_path / "b.sqlite").read_bytes()
