"""Loading cleaned movies into a new version of the index and publishing it, or discarding it on any failure.

Each run builds its own version beside the serving one and swaps it in only after the engine confirms it holds
exactly the expected number of movies; so a run can be repeated or interrupted at any point and the service
keeps answering from the last complete catalogue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from etl.legacy import count_movies, read_movies
from etl.progress import Advance, progress
from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import IndexLoader, IndexVersion

DEFAULT_BATCH_SIZE = 1000
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    version: str
    movies: int
    previous: int | None
    seconds: float


def load(
    movies: Iterable[Movie], expected: int, loader: IndexLoader, *, batch_size: int, advance: Advance | None = None
) -> str:
    """Publish `movies` as a new version holding exactly `expected` of them; returns the version's name.

    Any failure, Ctrl-C included, discards the new version before it propagates.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    version = loader.new_version()
    logger.info("building version %s", version.name)
    try:
        for batch in _batches(movies, batch_size):
            version.add(batch)
            if advance is not None:
                advance(len(batch))
        version.publish(expected)
    except BaseException:
        _discard(version)
        raise
    return version.name


def load_export(source: Path, loader: IndexLoader, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Published:
    """Read, clean and publish a legacy export, with a progress bar on stderr."""
    started = time.monotonic()
    expected = count_movies(source)
    previous = loader.serving_count()
    logger.info("%s: %d movies to load; the serving version holds %s", source, expected, _movies(previous))
    with progress("loading", expected) as advance:
        name = load(read_movies(source), expected, loader, batch_size=batch_size, advance=advance)
    return Published(name, expected, previous, time.monotonic() - started)


def _discard(version: IndexVersion) -> None:
    try:
        version.discard()
    except Exception:
        # The original failure is the one to report; this one at worst leaves behind a version that never serves.
        logger.exception("could not discard version %s", version.name)
    else:
        logger.warning("discarded version %s; the serving version is untouched", version.name)


def _batches(movies: Iterable[Movie], size: int) -> Iterator[list[Movie]]:
    batch: list[Movie] = []
    for movie in movies:
        batch.append(movie)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _movies(count: int | None) -> str:
    return "nothing (no version published yet)" if count is None else f"{count} movies"
