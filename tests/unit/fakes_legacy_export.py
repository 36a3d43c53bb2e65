"""Small hand-made legacy exports: a few rows each, written in the real file's schema."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from etl.export_schema import INSERT_ACTORS, INSERT_LINKS, INSERT_MOVIES, INSERT_WRITERS, new_export

Row = tuple[object, ...]


def movie_row(
    movie_id: object,
    title: object = "A film",
    *,
    genre: object = "Drama",
    director: object = "Jane Doe",
    writer: object = "",
    writers: object = "",
    plot: object = "Something happens.",
    imdb_rating: object = "7.0",
) -> Row:
    """A `movies` row in column order (the `ratings` column is always NULL in the legacy file)."""
    return (movie_id, genre, director, writer, title, plot, None, imdb_rating, writers)


def write_export(
    path: Path,
    movies: Iterable[Row],
    *,
    actors: Iterable[Row] = (),
    writers: Iterable[Row] = (),
    links: Iterable[Row] = (),
) -> Path:
    with new_export(path) as connection:
        connection.executemany(INSERT_ACTORS, list(actors))
        connection.executemany(INSERT_WRITERS, list(writers))
        connection.executemany(INSERT_MOVIES, list(movies))
        connection.executemany(INSERT_LINKS, list(links))
    return path
