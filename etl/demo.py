"""The demo catalogue `make run` serves: real films in Russian and English entries, written as a legacy export.

The films live in demo_films.txt. They are written with the legacy file's dirt on purpose ('N/A' for missing
directors, ratings and descriptions, a person named 'N/A' for missing cast and writers, '(co-director)'
suffixes, repeated link rows, repeated ids in `writers` lists, titles shared by several films), so the demo
goes through every cleaning rule a real export does.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from etl.export_schema import INSERT_ACTORS, INSERT_LINKS, INSERT_MOVIES, INSERT_WRITERS, new_export

FILMS = Path(__file__).with_name("demo_films.txt")
PLACEHOLDER = "N/A"
# Every so many entries get their actor links written twice, and every so many lists of writers repeat ids,
# as some rows of the legacy file do.
_DOUBLED_LINKS_EVERY = 10
_REPEATED_WRITERS_EVERY = 3
_HEADER_FIELDS = 3
_CARD_FIELDS = 5


@dataclass(frozen=True)
class Entry:
    """One catalogue entry as the export writes it."""

    id: str
    title: str
    genre: str
    imdb_rating: str
    director: str
    cast: tuple[str, ...]
    writers: tuple[str, ...]
    plot: str


def entries(source: Path = FILMS) -> list[Entry]:
    """The entries of the demo catalogue, in file order."""
    found: list[Entry] = []
    header: tuple[str, str, str] | None = None
    english_title = ""
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        language, colon, card = line.partition(": ")
        if not colon or language not in {"en", "ru"}:
            year, genre, rating = _fields(line, _HEADER_FIELDS, source, number)
            header = (year, genre, rating)
            english_title = ""
            continue
        if header is None:
            raise ValueError(f"{source}:{number}: an entry before any film line")
        title, director, cast, writers, plot = _fields(card, _CARD_FIELDS, source, number)
        year, genre, rating = header
        if language == "en":
            english_title = title
        elif not english_title:
            raise ValueError(f"{source}:{number}: the English entry, which names the film's id, must come first")
        stem = f"{_slug(english_title)}-{year}"
        found.append(
            Entry(
                id=stem if language == "en" else f"{stem}-ru",
                title=title,
                genre=genre,
                imdb_rating=rating,
                director=director,
                cast=_names(cast),
                writers=_names(writers),
                plot=plot,
            )
        )
    ids = [entry.id for entry in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{source}: two entries share an id")
    return found


def write_demo(path: Path) -> int:
    """Write the demo catalogue to `path` (replaced atomically); returns how many movies it holds."""
    demo = entries()
    actor_ids: dict[str, int] = {}
    movies: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    multi_writer_lists = 0
    for number, entry in enumerate(demo, start=1):
        # A film without known cast or writers points at the person named 'N/A', as the legacy export does.
        cast = entry.cast or (PLACEHOLDER,)
        writers = [_writer_id(name) for name in entry.writers or (PLACEHOLDER,)]
        if len(writers) > 1:
            multi_writer_lists += 1
            if multi_writer_lists % _REPEATED_WRITERS_EVERY == 0:
                writers = [writers[0], *writers, writers[-1]]
        writer, listed = (writers[0], "") if len(writers) == 1 else ("", json.dumps([{"id": w} for w in writers]))
        movies.append(
            (entry.id, entry.genre, entry.director, writer, entry.title, entry.plot, None, entry.imdb_rating, listed)
        )
        entry_links = [(entry.id, str(actor_ids.setdefault(name, len(actor_ids) + 1))) for name in cast]
        links.extend(entry_links * (2 if number % _DOUBLED_LINKS_EVERY == 0 else 1))
    people = {name for entry in demo for name in entry.writers} | {PLACEHOLDER}
    with new_export(path) as connection:
        connection.executemany(INSERT_ACTORS, [(actor_id, name) for name, actor_id in actor_ids.items()])
        connection.executemany(INSERT_WRITERS, [(_writer_id(name), name) for name in sorted(people)])
        connection.executemany(INSERT_MOVIES, movies)
        connection.executemany(INSERT_LINKS, links)
    return len(movies)


def _fields(line: str, count: int, source: Path, number: int) -> list[str]:
    fields = [field.strip() for field in line.split("|")]
    if len(fields) != count:
        raise ValueError(f"{source}:{number}: expected {count} fields separated by '|', found {len(fields)}")
    return fields


def _names(field: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in field.split(", ")) if field else ()


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def _writer_id(name: str) -> str:
    # Forty hex digits, like the legacy ids; derived from the name so that the same person is one writer.
    return hashlib.sha1(f"demo-writer:{name}".encode(), usedforsecurity=False).hexdigest()
