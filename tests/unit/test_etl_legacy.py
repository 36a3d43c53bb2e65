"""Reading small hand-made exports: every movie assembled from its rows, every kind of dirt cleaned."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from etl import cleaning
from etl.cleaning import Tally
from etl.legacy import IdRange, NotALegacyExport, count_movies, id_ranges, read_movies
from search_svc.domain.movie import Actor, Movie, Writer
from tests.unit.fakes_legacy_export import Row, movie_row, write_export

ACTORS: list[Row] = [(1, "Mark Hamill"), (2, "Harrison Ford"), (3, "Carrie Fisher"), (475, "N/A"), (9, "  ")]
WRITERS: list[Row] = [("wl", "George Lucas"), ("wk", "Lawrence Kasdan"), ("wb", "Leigh Brackett"), ("wna", "N/A")]


def read(path: Path, chunk_size: int = 1000) -> dict[str, Movie]:
    return {movie.id: movie for movie in read_movies(path, chunk_size=chunk_size)}


def only(path: Path) -> Movie:
    (movie,) = read(path).values()
    return movie


def test_a_clean_movie_is_assembled_from_its_tables(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.sqlite",
        [
            movie_row(
                "tt0076759",
                "Star Wars",
                genre="Action, Adventure, Sci-Fi",
                director="George Lucas",
                writer="wl",
                plot="A farm boy joins the rebels.",
                imdb_rating="8.6",
            )
        ],
        actors=ACTORS,
        writers=WRITERS,
        links=[("tt0076759", "1"), ("tt0076759", "2"), ("tt0076759", "3")],
    )
    assert only(path) == Movie(
        id="tt0076759",
        title="Star Wars",
        description="A farm boy joins the rebels.",
        imdb_rating=8.6,
        genre=("Action", "Adventure", "Sci-Fi"),
        director=("George Lucas",),
        actors=(Actor(1, "Mark Hamill"), Actor(2, "Harrison Ford"), Actor(3, "Carrie Fisher")),
        writers=(Writer("wl", "George Lucas"),),
    )


def test_placeholders_become_missing_values(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.sqlite",
        [movie_row("tt1", "Untold", director="N/A", plot="N/A", imdb_rating="N/A", genre="N/A", writer="wna")],
        actors=ACTORS,
        writers=WRITERS,
        links=[("tt1", "475")],
    )
    assert only(path) == Movie(id="tt1", title="Untold")


def test_nulls_become_missing_values(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.sqlite",
        [movie_row("tt1", "Untold", director=None, plot=None, imdb_rating=None, genre=None, writer=None)],
    )
    assert only(path) == Movie(id="tt1", title="Untold")


def test_people_named_n_a_or_nothing_are_dropped_the_others_kept(tmp_path: Path) -> None:
    tally = Tally()
    path = write_export(
        tmp_path / "e.sqlite",
        [movie_row("tt1", writers=json.dumps([{"id": "wna"}, {"id": "wk"}]))],
        actors=ACTORS,
        writers=WRITERS,
        links=[("tt1", "475"), ("tt1", "2"), ("tt1", "9")],
    )
    (movie,) = read_movies(path, tally=tally)
    assert movie.actors == (Actor(2, "Harrison Ford"),)
    assert movie.writers == (Writer("wk", "Lawrence Kasdan"),)
    assert tally[cleaning.LINK_PLACEHOLDER] == 2
    assert tally[cleaning.WRITER_PLACEHOLDER] == 1


def test_writers_lists_are_deduplicated_in_first_seen_order(tmp_path: Path) -> None:
    listed = json.dumps([{"id": i} for i in ("wk", "wk", "wl", "wb", "wb", "wl")])
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1", writers=listed)], writers=WRITERS)
    assert [writer.id for writer in only(path).writers] == ["wk", "wl", "wb"]


def test_repeated_links_are_dropped_and_actors_keep_the_export_order(tmp_path: Path) -> None:
    tally = Tally()
    links = [("tt1", "3"), ("tt1", "1"), ("tt1", "3"), ("tt1", " 1"), ("tt1", "2"), ("tt1", "3")]
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1")], actors=ACTORS, links=links)
    (movie,) = read_movies(path, tally=tally)
    assert [actor.id for actor in movie.actors] == [3, 1, 2]
    assert all(type(actor.id) is int for actor in movie.actors)
    assert tally[cleaning.LINK_REPEATED] == 3


def test_links_to_unknown_or_unreadable_actors_are_dropped(tmp_path: Path) -> None:
    tally = Tally()
    links = [("tt1", "1"), ("tt1", "404"), ("tt1", "abc"), ("tt1", None), ("tt1", "")]
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1")], actors=ACTORS, links=links)
    (movie,) = read_movies(path, tally=tally)
    assert movie.actors == (Actor(1, "Mark Hamill"),)
    assert tally[cleaning.LINK_UNKNOWN_ACTOR] == 1
    assert tally[cleaning.LINK_BAD_ACTOR_ID] == 3


def test_links_to_no_movie_are_ignored(tmp_path: Path) -> None:
    tally = Tally()
    links = [(None, "1"), ("tt0", "1"), ("tt1", "2"), ("tt15", "1"), ("tt9", "3"), (b"tt1", "1")]
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1"), movie_row("tt2")], actors=ACTORS, links=links)
    movies = list(read_movies(path, tally=tally))
    assert [(m.id, m.actors) for m in movies] == [("tt1", (Actor(2, "Harrison Ford"),)), ("tt2", ())]
    assert tally[cleaning.LINK_UNKNOWN_MOVIE] == 5


def test_unknown_writer_ids_are_dropped(tmp_path: Path) -> None:
    tally = Tally()
    listed = json.dumps([{"id": "nobody"}, {"id": "wl"}])
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1", writers=listed)], writers=WRITERS)
    (movie,) = read_movies(path, tally=tally)
    assert movie.writers == (Writer("wl", "George Lucas"),)
    assert tally[cleaning.WRITER_UNKNOWN] == 1


def test_directors_are_split_and_stripped_of_co_director_suffixes(tmp_path: Path) -> None:
    raw = "Ira Steven Behr(co-director), David Zappone(co-director)"
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1", director=raw)])
    assert only(path).director == ("Ira Steven Behr", "David Zappone")


def test_padding_is_trimmed_everywhere(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.sqlite",
        [movie_row(" tt1 ", "  Lone   Star ", genre=" Drama ,Western ", director=" A  B ", plot=" Plot. ")],
        actors=[(1, "  Chris   Cooper ")],
        links=[(" tt1 ", "1")],
    )
    assert only(path) == Movie(
        "tt1", "Lone Star", "Plot.", 7.0, ("Drama", "Western"), ("A B",), (Actor(1, "Chris Cooper"),)
    )


def test_titles_that_repeat_keep_both_movies(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1", "Star"), movie_row("tt2", "Star")])
    assert [m.title for m in read(path).values()] == ["Star", "Star"]
    assert count_movies(path) == 2


def test_movies_without_id_or_title_are_dropped_and_not_counted(tmp_path: Path) -> None:
    tally = Tally()
    rows = [movie_row(None), movie_row("  "), movie_row("tt1", "N/A"), movie_row("tt2", None), movie_row("tt3")]
    path = write_export(tmp_path / "e.sqlite", rows)
    assert [m.id for m in read_movies(path, tally=tally)] == ["tt3"]
    assert count_movies(path) == 1
    assert tally[cleaning.MOVIE_WITHOUT_ID] == 2
    assert tally[cleaning.MOVIE_WITHOUT_TITLE] == 2


def test_a_repeated_movie_id_yields_and_counts_one_movie(tmp_path: Path) -> None:
    # The legacy schema makes the id a primary key; an export written without that constraint may repeat ids.
    path = tmp_path / "e.sqlite"
    write_export(path, [])
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE movies RENAME TO keyed")
        connection.execute("CREATE TABLE movies AS SELECT * FROM keyed WHERE 0")
        connection.executemany(
            "INSERT INTO movies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [movie_row("tt2", "First"), movie_row("tt1"), movie_row("tt2", "Second"), movie_row("tt3")],
        )
        connection.executemany("INSERT INTO movie_actors VALUES (?, ?)", [("tt2", "1"), ("tt2", "2")])
        connection.executemany("INSERT INTO actors VALUES (?, ?)", ACTORS[:2])
    connection.close()
    tally = Tally()
    movies = list(read_movies(path, chunk_size=2, tally=tally))
    assert [m.id for m in movies] == ["tt1", "tt2", "tt3"]
    assert len(movies[1].actors) == 2
    assert count_movies(path) == 3
    assert tally[cleaning.DUPLICATE_MOVIE] == 1


def test_ids_equal_once_trimmed_are_one_movie(tmp_path: Path) -> None:
    tally = Tally()
    rows = [
        movie_row(" tt1", "Padded"),
        movie_row("tt1", "Clean"),
        movie_row("tt2 ", "Second padded"),
        movie_row(" tt2", "First padded"),
        movie_row(" tt3 ", "Alone"),
    ]
    path = write_export(tmp_path / "e.sqlite", rows)
    movies = list(read_movies(path, chunk_size=2, tally=tally))
    # The clean row wins over a padded one; of padded ones, the first in the export's id order.
    assert sorted((m.id, m.title) for m in movies) == [("tt1", "Clean"), ("tt2", "First padded"), ("tt3", "Alone")]
    assert count_movies(path) == 3
    assert tally[cleaning.DUPLICATE_MOVIE] == 2


def test_movies_come_in_id_order_whatever_the_chunk_size(tmp_path: Path) -> None:
    ids = [f"tt{n:07d}" for n in (5, 3, 9, 1, 7, 2, 8, 4, 6)]
    links = [(movie_id, str(1 + n % 3)) for n, movie_id in enumerate(ids)] + [("tt0000005", "2")]
    path = write_export(tmp_path / "e.sqlite", [movie_row(i) for i in ids], actors=ACTORS, links=links)
    whole = list(read_movies(path))
    assert [m.id for m in whole] == sorted(ids)
    for chunk_size in (1, 2, 4, 100):
        assert list(read_movies(path, chunk_size=chunk_size)) == whole
    assert count_movies(path) == len(ids)


def read_in_parts(path: Path, parts: int, tally: Tally | None = None) -> list[Movie]:
    return [movie for part in id_ranges(path, parts) for movie in read_movies(path, ids=part, tally=tally)]


def test_ranges_of_ids_together_yield_what_one_reader_yields(tmp_path: Path) -> None:
    # Padded ids whose trimmed forms meet in another range, a repeat of a padded row, rows without id or title,
    # links to no movie and to movies on either side of a boundary.
    rows = [
        movie_row(None, "No id"),
        movie_row(" tt2", "First padded"),
        movie_row(" tt2", "Its repeat"),
        movie_row(" tt5", "N/A"),
        movie_row("tt1", "One"),
        movie_row("tt2 ", "Second padded"),
        movie_row("tt3"),
        movie_row("tt4"),
        movie_row("tt5 ", "Padded after an untitled one"),
        movie_row("tt6", "Six"),
        movie_row(" tt6", "Padded, clean one later"),
        movie_row("tt7"),
    ]
    links: list[Row] = [("tt1", "1"), ("tt3", "2"), ("tt3", "3"), ("tt4", "1"), ("tt7", "2"), ("tt0", "1")]
    links += [("tt9", "3"), (None, "1"), ("tt2 ", "2")]
    path = write_export(tmp_path / "e.sqlite", [], actors=ACTORS, links=links)
    with sqlite3.connect(path) as connection:
        # Without the primary key, as in the test above, so that a row can repeat.
        connection.execute("DROP TABLE movies")
        connection.execute(
            "CREATE TABLE movies (id text, genre text, director text, writer text, title text, plot text, "
            "ratings text, imdb_rating text, writers text)"
        )
        connection.execute("CREATE INDEX movies_id ON movies (id)")
        connection.executemany("INSERT INTO movies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.close()
    whole_tally = Tally()
    whole = list(read_movies(path, tally=whole_tally))
    assert [m.id for m in whole] == ["tt2", "tt1", "tt3", "tt4", "tt6", "tt7"]
    for parts in range(1, len(rows) + 2):
        tally = Tally()
        assert read_in_parts(path, parts, tally) == whole, parts
        assert tally == whole_tally, parts


def test_ranges_are_consecutive_and_cover_every_row(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.sqlite", [movie_row(f"tt{n}") for n in range(10)])
    ranges = id_ranges(path, 3)
    assert len(ranges) == 3
    assert ranges[0].first is None
    assert ranges[-1].end is None
    assert all(a.end == b.first and a.end is not None for a, b in itertools.pairwise(ranges))
    assert id_ranges(path, 1) == [IdRange()]
    assert len(id_ranges(path, 50)) == 10
    with pytest.raises(ValueError, match="parts"):
        id_ranges(path, 0)


def test_an_empty_export_yields_nothing(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.sqlite", [])
    assert list(read_movies(path)) == []
    assert count_movies(path) == 0


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotALegacyExport, match="no such file"):
        count_movies(tmp_path / "absent.sqlite")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    path.write_text("id,title\ntt1,Star\n")
    with pytest.raises(NotALegacyExport, match="not an SQLite database"):
        list(read_movies(path))


def test_a_database_of_another_schema_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE movies (id text primary key, title text)")
    connection.close()
    with pytest.raises(
        NotALegacyExport, match=r"missing table actors, table movie_actors, table writers, column movies\.director"
    ):
        count_movies(path)


def test_reading_leaves_the_file_unchanged(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.sqlite", [movie_row("tt1")], actors=ACTORS, links=[("tt1", "1")])
    before = path.read_bytes()
    list(read_movies(path))
    count_movies(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("cached", [100_000, 2])
def test_people_recurring_across_chunks_keep_their_names_however_many_are_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: int
) -> None:
    # A reader looks each person up once while its cache holds them; a full cache starts afresh.
    monkeypatch.setattr("etl.legacy._NAMES_CACHED", cached)
    tally = Tally()
    ids = [f"tt{n}" for n in range(6)]
    links = [(movie_id, actor) for movie_id in ids for actor in ("1", "475", "404", "2", "3")]
    listed = json.dumps([{"id": "wna"}, {"id": "wk"}, {"id": "w404"}])
    movies = [movie_row(movie_id, writers=listed) for movie_id in ids]
    path = write_export(tmp_path / "e.sqlite", movies, actors=ACTORS, writers=WRITERS, links=links)
    read = list(read_movies(path, chunk_size=2, tally=tally))
    assert [movie.id for movie in read] == ids
    for movie in read:
        assert [actor.id for actor in movie.actors] == [1, 2, 3]
        assert movie.actors[0] == Actor(1, "Mark Hamill")
        assert movie.writers == (Writer("wk", "Lawrence Kasdan"),)
    assert tally[cleaning.LINK_PLACEHOLDER] == len(ids)
    assert tally[cleaning.LINK_UNKNOWN_ACTOR] == len(ids)
    assert tally[cleaning.WRITER_PLACEHOLDER] == len(ids)
    assert tally[cleaning.WRITER_UNKNOWN] == len(ids)
