"""What a load of an export would produce and what cleaning would change on the way, for a person to read."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from etl.cleaning import PLACEHOLDERS, Tally
from etl.legacy import connect, read_movies
from etl.progress import progress

_TABLES = ("movies", "actors", "writers", "movie_actors", "rating_agency")
_PROGRESS_STEP = 1000


@dataclass(frozen=True)
class CheckReport:
    source: Path
    rows: dict[str, int]
    movies: int
    shared_titles: int
    movies_sharing_titles: int
    tally: Tally = field(default_factory=Tally)
    leftover_placeholders: int = 0

    def lines(self) -> Iterator[str]:
        yield f"source: {self.source}"
        yield "rows: " + ", ".join(f"{table} {count}" for table, count in self.rows.items())
        yield f"movies a load would publish: {self.movies}"
        yield (
            f"titles shared by several movies: {self.shared_titles} titles, {self.movies_sharing_titles} movies "
            "(all kept: they have different ids)"
        )
        if not self.tally:
            yield "cleaning changed nothing"
        else:
            yield "what cleaning changed:"
            width = len(str(max(self.tally.values())))
            for rule, count in sorted(self.tally.items()):
                yield f"  {count:>{width}}  {rule}"
        yield f"placeholders left in the cleaned movies: {self.leftover_placeholders}"


def check(source: Path) -> CheckReport:
    """Read the whole export as a load would, tallying every cleaning rule."""
    with closing(connect(source)) as connection:
        rows = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in _TABLES}
        shared, sharing = connection.execute(
            "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM movies GROUP BY trim(title) "
            "HAVING n > 1)"
        ).fetchone()
    tally = Tally()
    movies = leftovers = 0
    with progress("checking", rows["movies"]) as advance:
        for movie in read_movies(source, tally=tally):
            movies += 1
            leftovers += sum(1 for text in _strings(movie) if text.strip().lower() in PLACEHOLDERS)
            if movies % _PROGRESS_STEP == 0:
                advance(_PROGRESS_STEP)
        advance(movies % _PROGRESS_STEP)
    return CheckReport(source, rows, movies, shared, sharing, tally, leftovers)


def _strings(movie: object) -> Iterator[str]:
    """Every string inside a movie, however deeply nested."""
    if isinstance(movie, str):
        yield movie
    elif isinstance(movie, tuple):
        for item in movie:
            yield from _strings(item)
    elif dataclasses.is_dataclass(movie):
        for item in dataclasses.fields(movie):
            yield from _strings(getattr(movie, item.name))
