"""Reading a legacy SQLite export as a stream of cleaned movies, in id order, in bounded memory.

The export has no index on `movie_actors`, and the file is only read, never changed: so the reader walks movies
in id order (their primary key index) and the link table sorted by movie id (SQLite's external sort, which
spills to a temporary file), merging the two a chunk of movies at a time. Names of actors and writers are looked
up by primary key for each chunk, each id once while a bounded cache holds it (people recur across movies). Memory
holds one chunk and that cache, whatever the size of the file.

A reader can also take one range of ids (`id_ranges` cuts the export into such parts), so that several processes
read one export side by side; together they yield exactly the movies one reader of the whole file yields.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from etl import cleaning
from etl.cleaning import Tally
from search_svc.domain.movie import Actor, Movie, Writer

DEFAULT_CHUNK_SIZE = 1000
_COLUMNS = {
    "movies": {"id", "genre", "director", "writer", "title", "plot", "imdb_rating", "writers"},
    "actors": {"id", "name"},
    "writers": {"id", "name"},
    "movie_actors": {"movie_id", "actor_id"},
}
# Well under SQLite's limit on bound parameters in one statement, on any build.
_LOOKUP_GROUP = 500
# People whose cleaned names a reader keeps, per table: some tens of MB at most; when full it starts afresh.
_NAMES_CACHED = 200_000


@dataclass(frozen=True, slots=True)
class IdRange:
    """Movies whose id sorts at or after `first` and before `end` (None: no bound), in SQLite's order."""

    first: str | None = None
    end: str | None = None

    def condition(self, column: str) -> tuple[str, list[str]]:
        """A WHERE clause (or "") and its parameters."""
        terms, values = [], []
        if self.first is not None:
            terms.append(f"{column} >= ?")
            values.append(self.first)
        if self.end is not None:
            # NULL sorts first: the first range holds it (a row without id, a link to no movie).
            terms.append(f"({column} < ? OR {column} IS NULL)" if self.first is None else f"{column} < ?")
            values.append(self.end)
        return (f"WHERE {' AND '.join(terms)}" if terms else ""), values


class NotALegacyExport(ValueError):
    """The file is missing, is not SQLite, or lacks a table or column the legacy schema has."""


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to an export whose schema has been checked."""
    if not path.is_file():
        raise NotALegacyExport(f"{path}: no such file")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        present = {(table, row[1]) for table in _COLUMNS for row in connection.execute(f"PRAGMA table_info({table})")}
    except sqlite3.DatabaseError as error:
        connection.close()
        raise NotALegacyExport(f"{path}: not an SQLite database ({error})") from error
    tables = sorted(set(_COLUMNS) - {table for table, _ in present})
    columns = [
        f"{t}.{c}" for t, names in _COLUMNS.items() if t not in tables for c in sorted(names) if (t, c) not in present
    ]
    if tables or columns:
        connection.close()
        missing = [f"table {table}" for table in tables] + [f"column {column}" for column in columns]
        raise NotALegacyExport(f"{path}: not a legacy export, missing {', '.join(missing)}")
    return connection


def count_movies(path: Path) -> int:
    """How many movies `read_movies` yields: rows with an id and a title, a repeated id counted once."""
    with closing(connect(path)) as connection:
        ids = _Ids(connection)
        return sum(ids.keep(raw_id, title, None) is not None for raw_id, title in _ordered(connection, "id, title"))


def id_ranges(path: Path, parts: int) -> list[IdRange]:
    """Consecutive ranges covering every row of `movies`, about as many rows in each, at most `parts` of them.

    Boundaries are text ids taken from the table: rows with one id (repeats) always fall into one range, and text
    bounds compare alike in both tables (the link table's ids have text affinity).
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    with closing(connect(path)) as connection:
        (rows,) = connection.execute("SELECT count(*) FROM movies").fetchone()
        bounds: list[str] = []
        for offset in sorted({rows * part // parts for part in range(1, parts)} - {0}):
            found = connection.execute(
                "SELECT id FROM movies WHERE typeof(id) = 'text' ORDER BY id LIMIT 1 OFFSET ?", (offset,)
            ).fetchone()
            if found is not None and (not bounds or found[0] > bounds[-1]):
                bounds.append(found[0])
    edges: list[str | None] = [None, *bounds, None]
    return [IdRange(first, end) for first, end in itertools.pairwise(edges)]


def read_movies(
    path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE, tally: Tally | None = None, ids: IdRange | None = None
) -> Iterator[Movie]:
    """Cleaned movies in the order of the export's ids, all of them or those of one range of `ids`.

    A `tally`, when given, counts what each rule changed (for a range: in that range's movies and links).
    """
    part = ids or IdRange()
    with closing(connect(path)) as connection:
        where, values = part.condition("id")
        movies = connection.execute(
            f"SELECT id, title, plot, imdb_rating, genre, director, writer, writers FROM movies {where} ORDER BY id",
            values,
        )
        where, values = part.condition("movie_id")
        # rowid keeps each movie's actors in the order the export listed them.
        links = _Links(
            connection.execute(f"SELECT movie_id, actor_id FROM movie_actors {where} ORDER BY movie_id, rowid", values)
        )
        kept = _Ids(connection, before=part.first)
        names = _Names(connection, "actors"), _Names(connection, "writers")
        while rows := movies.fetchmany(chunk_size):
            chunk: list[tuple[str, _Row]] = []
            for row in rows:
                raw = _Row(*row)
                movie_id = kept.keep(raw.id, raw.title, tally)
                if movie_id is not None:
                    chunk.append((movie_id, raw))
            raw_ids = {row[0] for row in rows if isinstance(row[0], str)}
            if not raw_ids:
                continue
            actor_links = links.up_to(max(raw_ids), raw_ids, tally)
            yield from _assemble(names, chunk, actor_links, tally)
        links.drain(tally)


@dataclass(frozen=True, slots=True)
class _Row:
    id: object
    title: object
    plot: object
    imdb_rating: object
    genre: object
    director: object
    writer: object
    writers: object


def _ordered(connection: sqlite3.Connection, columns: str) -> sqlite3.Cursor:
    # The primary key's index gives id order without sorting the table.
    return connection.execute(f"SELECT {columns} FROM movies ORDER BY id")


class _Ids:
    """Which rows, read in id order, become movies: one per id, and only those with a title.

    The id is trimmed; a padded id whose trimmed form another row has is that movie again. Such rows are rare
    (the legacy file has none), so each costs one lookup and only their ids are remembered.
    """

    def __init__(self, connection: sqlite3.Connection, *, before: str | None = None) -> None:
        self._connection = connection
        self._previous: object = None
        # Starting at `before`, the padded ids of the rows before it are as a reader of the whole file would have
        # remembered them: each one's trimmed form (a repeated row shares it with the first).
        self._padded: set[str] = set()
        if before is not None:
            earlier = connection.execute(
                "SELECT id FROM movies WHERE typeof(id) = 'text' AND id < ? AND id <> trim(id, ?)",
                (before, _whitespace()),
            )
            self._padded = {raw.strip() for (raw,) in earlier if raw.strip()}

    def keep(self, raw_id: object, title: object, tally: Tally | None) -> str | None:
        """The movie's id, or None when the row is dropped."""
        movie_id = raw_id.strip() if isinstance(raw_id, str) else ""
        reason = None
        if not movie_id:
            reason = cleaning.MOVIE_WITHOUT_ID
        elif raw_id == self._previous or (movie_id != raw_id and self._seen(movie_id)):
            reason = cleaning.DUPLICATE_MOVIE
        elif cleaning.is_missing(title):
            reason = cleaning.MOVIE_WITHOUT_TITLE
        if movie_id:
            self._previous = raw_id
        if reason is None:
            return movie_id
        if tally is not None:
            tally[reason] += 1
        return None

    def _seen(self, movie_id: str) -> bool:
        """Whether the trimmed id belongs to another row, which wins (a clean row, or the first padded one)."""
        if movie_id in self._padded:
            return True
        self._padded.add(movie_id)
        return self._connection.execute("SELECT 1 FROM movies WHERE id = ?", (movie_id,)).fetchone() is not None


class _Links:
    """The link table sorted by movie id, consumed alongside the movies in the same order."""

    def __init__(self, rows: Iterable[tuple[object, object]]) -> None:
        self._rows = iter(rows)
        self._head = next(self._rows, None)

    def up_to(self, last_id: str, known: set[str], tally: Tally | None) -> dict[str, list[object]]:
        """Raw actor ids of every movie in `known`, from the links whose movie id sorts at or before `last_id`."""
        found: dict[str, list[object]] = {}
        while self._head is not None:
            movie_id, actor_id = self._head
            # SQLite sorts NULL before text and blobs after it: neither names a movie.
            if isinstance(movie_id, str):
                if movie_id > last_id:
                    break
                if movie_id in known:
                    found.setdefault(movie_id, []).append(actor_id)
                elif tally is not None:
                    tally[cleaning.LINK_UNKNOWN_MOVIE] += 1
            elif movie_id is None:
                if tally is not None:
                    tally[cleaning.LINK_UNKNOWN_MOVIE] += 1
            else:
                break
            self._head = next(self._rows, None)
        return found

    def drain(self, tally: Tally | None) -> None:
        if tally is None:
            return
        while self._head is not None:
            tally[cleaning.LINK_UNKNOWN_MOVIE] += 1
            self._head = next(self._rows, None)


def _assemble(
    names: tuple[_Names, _Names],
    chunk: Sequence[tuple[str, _Row]],
    actor_links: dict[str, list[object]],
    tally: Tally | None,
) -> Iterator[Movie]:
    actor_ids = {raw: cleaning.clean_actor_id(raw) for links in actor_links.values() for raw in links}
    actors, writers = names
    actor_names = actors.cleaned({i for i in actor_ids.values() if i is not None})
    movie_writers = {movie_id: cleaning.writer_ids(raw.writer, raw.writers, tally) for movie_id, raw in chunk}
    writer_names = writers.cleaned({i for ids in movie_writers.values() for i in ids})
    for movie_id, raw in chunk:
        links = actor_links.get(raw.id, []) if isinstance(raw.id, str) else []
        yield Movie(
            id=movie_id,
            title=cleaning.clean_text(raw.title, "title", tally),
            description=cleaning.clean_text(raw.plot, "plot", tally, one_line=False),
            imdb_rating=cleaning.clean_rating(raw.imdb_rating, tally),
            genre=cleaning.clean_names(raw.genre, "genre", tally),
            director=cleaning.clean_names(raw.director, "director", tally),
            actors=_actors(links, actor_ids, actor_names, tally),
            writers=_writers(movie_writers[movie_id], writer_names, tally),
        )


def _actors(
    links: list[object], ids: dict[object, int | None], names: dict[object, str], tally: Tally | None
) -> tuple[Actor, ...]:
    actors: dict[int, Actor] = {}
    for raw in links:
        actor_id = ids[raw]
        if actor_id is None:
            reason = cleaning.LINK_BAD_ACTOR_ID
        elif actor_id in actors:
            reason = cleaning.LINK_REPEATED
        elif actor_id not in names:
            reason = cleaning.LINK_UNKNOWN_ACTOR
        elif not (name := names[actor_id]):
            reason = cleaning.LINK_PLACEHOLDER
        else:
            actors[actor_id] = Actor(actor_id, name)
            continue
        if tally is not None:
            tally[reason] += 1
    return tuple(actors.values())


def _writers(ids: list[str], names: dict[object, str], tally: Tally | None) -> tuple[Writer, ...]:
    writers: list[Writer] = []
    for writer_id in ids:
        if writer_id not in names:
            reason = cleaning.WRITER_UNKNOWN
        elif not (name := names[writer_id]):
            reason = cleaning.WRITER_PLACEHOLDER
        else:
            writers.append(Writer(writer_id, name))
            continue
        if tally is not None:
            tally[reason] += 1
    return tuple(writers)


@functools.cache
def _whitespace() -> str:
    """What str.strip() removes, for SQLite's trim(): the same test of "padded" on both sides."""
    return "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())


class _Names:
    """Cleaned names ("" for a placeholder) of one table's people by id, each id looked up once while cached."""

    def __init__(self, connection: sqlite3.Connection, table: str) -> None:
        self._connection = connection
        self._table = table
        self._column = "actor name" if table == "actors" else "writer name"
        # None: no row has that id.
        self._known: dict[object, str | None] = {}

    def cleaned(self, ids: set[int] | set[str]) -> dict[object, str]:
        """id → cleaned name for the ids that exist in the table."""
        wanted = [i for i in ids if i not in self._known]
        if len(self._known) + len(wanted) > _NAMES_CACHED:
            self._known.clear()
            wanted = list(ids)
        for start in range(0, len(wanted), _LOOKUP_GROUP):
            group = wanted[start : start + _LOOKUP_GROUP]
            marks = ",".join("?" * len(group))
            found = self._connection.execute(f"SELECT id, name FROM {self._table} WHERE id IN ({marks})", group)
            # Keyed as SQLite gives the id back: a requested id of another type (text for an integer column) is
            # not that row, as a plain dict of the rows would not have it either.
            rows = {row_id: cleaning.clean_text(name, self._column) for row_id, name in found}
            self._known.update(rows)
            self._known.update((i, None) for i in group if i not in rows)
        return {i: name for i in ids if (name := self._known[i]) is not None}
