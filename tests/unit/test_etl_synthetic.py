"""The synthetic export generator: deterministic, in the legacy schema, dirty the legacy way."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from etl import cleaning
from etl.cleaning import Tally
from etl.legacy import count_movies, read_movies
from etl.synthetic import write_synthetic


def digest(path: Path) -> str:
    """A hash of every row of every table, in a fixed order."""
    hashed = hashlib.sha256()
    with closing(sqlite3.connect(path)) as connection:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                hashed.update(repr((table, row)).encode())
    return hashed.hexdigest()


def test_the_same_seed_writes_the_same_rows_and_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    write_synthetic(first, 500, seed=3)
    write_synthetic(second, 500, seed=3)
    assert digest(first) == digest(second)
    assert first.read_bytes() == second.read_bytes()


def test_another_seed_writes_other_rows(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a.sqlite", 200, seed=1)
    write_synthetic(tmp_path / "b.sqlite", 200, seed=2)
    assert digest(tmp_path / "a.sqlite") != digest(tmp_path / "b.sqlite")


def test_every_generated_movie_is_read_back_clean(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    progress: list[int] = []
    write_synthetic(path, 2000, on_progress=progress.append)
    assert sum(progress) == 2000
    tally = Tally()
    movies = list(read_movies(path, tally=tally))
    assert len(movies) == count_movies(path) == 2000
    assert len({m.id for m in movies}) == 2000
    assert any(m.title.isascii() for m in movies)
    assert any(not m.title.isascii() for m in movies)
    # Each kind of the legacy file's dirt shows up.
    for rule in (
        cleaning.placeholder_removed("director"),
        cleaning.placeholder_removed("plot"),
        cleaning.CO_DIRECTOR,
        cleaning.LINK_REPEATED,
        cleaning.LINK_PLACEHOLDER,
        cleaning.WRITER_REPEATED,
        cleaning.WRITER_PLACEHOLDER,
    ):
        assert tally[rule] > 0, rule
    assert 0.2 < tally[cleaning.placeholder_removed("director")] / 2000 < 0.4


def test_the_schema_is_the_legacy_one(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    write_synthetic(path, 10)
    with closing(sqlite3.connect(path)) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        kinds = set(connection.execute("SELECT typeof(movie_id), typeof(actor_id) FROM movie_actors"))
    assert tables >= {"movies", "actors", "writers", "movie_actors", "rating_agency"}
    assert kinds == {("text", "text")}


def test_zero_movies_is_an_empty_export_and_a_negative_number_is_refused(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "s.sqlite", 0)
    assert count_movies(tmp_path / "s.sqlite") == 0
    with pytest.raises(ValueError, match="negative"):
        write_synthetic(tmp_path / "t.sqlite", -1)


def test_a_failed_run_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"

    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_synthetic(path, 20_000, on_progress=stop)
    assert list(tmp_path.iterdir()) == []
