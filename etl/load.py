"""Loading cleaned movies into a new version of the index and publishing it, or discarding it on any failure.

Each run builds its own version beside the serving one and swaps it in only after the engine confirms it holds
exactly the expected number of movies; so a run can be repeated or interrupted at any point and the service
keeps answering from the last complete catalogue.

An export is read, cleaned and encoded by worker processes (`etl.workers`) while this process feeds the engine,
so that both cores work; with no workers, all of it runs here, one batch after another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from etl.batches import batches, rebatched
from etl.legacy import count_movies, read_movies
from etl.progress import Advance, progress
from etl.workers import encoded_batches
from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import EncodedBatch, IndexLoader, IndexVersion

DEFAULT_BATCH_SIZE = 1000
# One per core. On a busy machine two workers measured as fast as one process (docs/benchmarks.md); an idle
# machine is not measured yet.
DEFAULT_WORKERS = 2
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

    def fill(version: IndexVersion) -> None:
        for batch in batches(movies, batch_size):
            version.add(batch)
            if advance is not None:
                advance(len(batch))

    return _build(loader, fill, expected)


def load_encoded(
    encoded: Iterable[EncodedBatch], expected: int, loader: IndexLoader, *, advance: Advance | None = None
) -> str:
    """load() for batches the loader's encoder() already made (in worker processes); the same promises."""

    def fill(version: IndexVersion) -> None:
        for batch in encoded:
            version.add_encoded(batch)
            if advance is not None:
                advance(len(batch.ids))

    return _build(loader, fill, expected)


def _build(loader: IndexLoader, fill: Callable[[IndexVersion], None], expected: int) -> str:
    version = loader.new_version()
    logger.info("building version %s", version.name)
    try:
        fill(version)
        version.publish(expected)
    except BaseException:
        _discard(version)
        raise
    return version.name


def load_export(
    source: Path, loader: IndexLoader, *, batch_size: int = DEFAULT_BATCH_SIZE, workers: int = DEFAULT_WORKERS
) -> Published:
    """Read, clean and publish a legacy export, with a progress bar on stderr; `workers` processes read it (0: this
    process does)."""
    started = time.monotonic()
    if workers == 0:
        expected, previous = _before(source, loader)
        with progress("loading", expected) as advance:
            name = load(read_movies(source), expected, loader, batch_size=batch_size, advance=advance)
    else:
        with encoded_batches(source, loader.encoder(), workers=workers, batch_size=batch_size) as encoded:
            # Counted while the workers start and fill their queue.
            expected, previous = _before(source, loader)
            with progress("loading", expected) as advance:
                name = load_encoded(rebatched(encoded, batch_size), expected, loader, advance=advance)
    return Published(name, expected, previous, time.monotonic() - started)


def _before(source: Path, loader: IndexLoader) -> tuple[int, int | None]:
    expected = count_movies(source)
    previous = loader.serving_count()
    logger.info("%s: %d movies to load; the serving version holds %s", source, expected, _movies(previous))
    return expected, previous


def _discard(version: IndexVersion) -> None:
    try:
        version.discard()
    except Exception:
        # The original failure is the one to report; this one at worst leaves behind a version that never serves.
        logger.exception("could not discard version %s", version.name)
    else:
        logger.warning("discarded version %s; the serving version is untouched", version.name)


def _movies(count: int | None) -> str:
    return "nothing (no version published yet)" if count is None else f"{count} movies"
