"""Writing files in the legacy export's schema (for the demo catalogue, synthetic exports and tests).

The DDL is the legacy file's own, quirks included (text ids for actors in the link table, ratings as text, no
index on the link table), so that whatever reads a real export reads these the same way.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE actors(
id integer primary key autoincrement,
name text
);
CREATE TABLE rating_agency(
id text(27),
name text
);
CREATE TABLE movies (
id text primary key,
genre text,
director text,
writer text,
title text,
plot text,
ratings text,
imdb_rating text, writers text);
CREATE TABLE writers(
id text(27) primary key,
name text
);
CREATE TABLE movie_actors(
movie_id text,
actor_id text
);
"""

# Columns in table order: id, genre, director, writer, title, plot, ratings, imdb_rating, writers.
INSERT_MOVIES = "INSERT INTO movies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_ACTORS = "INSERT INTO actors (id, name) VALUES (?, ?)"
INSERT_WRITERS = "INSERT INTO writers (id, name) VALUES (?, ?)"
INSERT_LINKS = "INSERT INTO movie_actors (movie_id, actor_id) VALUES (?, ?)"


@contextmanager
def new_export(path: Path) -> Iterator[sqlite3.Connection]:
    """An empty export at `path`, replacing any file there only once the body succeeds.

    The file is built under a temporary name and renamed at the end, so a failed or interrupted run never
    leaves a half-written export where a loader might read it.
    """
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(partial)) as connection:
            # Nothing needs to survive a crash of the writer: the rename publishes the finished file.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            connection.executescript(SCHEMA)
            yield connection
            connection.commit()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
