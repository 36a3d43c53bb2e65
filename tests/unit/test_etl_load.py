"""Loading through the IndexLoader port (a hand-written fake): publish on success, discard on any failure."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.load import load, load_export
from etl.workers import WorkerFailed
from meshkit.errors import FailedPrecondition, Unavailable
from search_svc.domain.movie import Movie
from tests.unit.fakes_index_loader import FakeIndexLoader
from tests.unit.fakes_legacy_export import movie_row, write_export

OLD = {"old": Movie("old", "The serving catalogue")}


def movies(count: int) -> list[Movie]:
    return [Movie(f"tt{n:03d}", f"Film {n}") for n in range(count)]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    rows = [movie_row(f"tt{n:03d}", f"Film {n}") for n in range(25)]
    return write_export(tmp_path / "export.sqlite", [*rows, movie_row("tt999", "N/A")])


@pytest.fixture
def big_export(tmp_path: Path) -> Path:
    # Links and names too, so that every worker assembles whole movies from several tables.
    rows = [movie_row(f"tt{n:04d}", f"Film {n}", writer=f"w{n % 7}") for n in range(2500)]
    actors = [(n, f"Actor {n}") for n in range(50)]
    writers = [(f"w{n}", f"Writer {n}") for n in range(7)]
    links = [(f"tt{n:04d}", str((n * k) % 50)) for n in range(2500) for k in (1, 3)]
    return write_export(tmp_path / "big.sqlite", rows, actors=actors, writers=writers, links=links)


def test_every_movie_is_added_in_bounded_batches_then_published() -> None:
    loader = FakeIndexLoader(serving=dict(OLD))
    done: list[int] = []
    name = load(movies(25), 25, loader, batch_size=10, advance=done.append)
    (version,) = loader.versions
    assert name == version.name
    assert version.state == "published"
    assert version.batches == [10, 10, 5]
    assert done == [10, 10, 5]
    assert loader.serving is not None
    assert sorted(loader.serving) == [m.id for m in movies(25)]


def test_a_failing_batch_discards_the_version_and_leaves_the_serving_one() -> None:
    loader = FakeIndexLoader(serving=dict(OLD), fail_on_batch=2)
    with pytest.raises(Unavailable):
        load(movies(25), 25, loader, batch_size=10)
    (version,) = loader.versions
    assert version.state == "discarded"
    assert loader.serving == OLD


def test_a_count_mismatch_at_publish_discards_the_version() -> None:
    loader = FakeIndexLoader(serving=dict(OLD))
    with pytest.raises(FailedPrecondition):
        load(movies(25), 26, loader, batch_size=10)
    assert loader.versions[0].state == "discarded"
    assert loader.serving == OLD
    assert multiprocessing.active_children() == []


def test_an_interrupt_discards_the_version_too() -> None:
    def interrupted() -> Iterator[Movie]:
        yield from movies(3)
        raise KeyboardInterrupt

    loader = FakeIndexLoader()
    with pytest.raises(KeyboardInterrupt):
        load(interrupted(), 3, loader, batch_size=2)
    assert loader.versions[0].state == "discarded"
    assert loader.serving is None


def test_a_failing_discard_does_not_hide_the_original_error(caplog: pytest.LogCaptureFixture) -> None:
    loader = FakeIndexLoader(fail_on_batch=1)
    version = loader.new_version()

    def broken_discard() -> None:
        raise OSError("disk gone")

    version.discard = broken_discard  # type: ignore[method-assign]
    loader.new_version = lambda: version  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        load(movies(3), 3, loader, batch_size=2)
    assert "could not discard" in caplog.text


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        load(movies(1), 1, FakeIndexLoader(), batch_size=0)


def test_an_export_is_cleaned_counted_and_published(export: Path) -> None:
    loader = FakeIndexLoader()
    published = load_export(export, loader, batch_size=7)
    assert published.movies == 25
    assert published.previous is None
    assert loader.serving_count() == 25


def test_running_twice_replaces_the_catalogue_with_the_same_one(export: Path) -> None:
    loader = FakeIndexLoader()
    load_export(export, loader)
    first = loader.serving
    published = load_export(export, loader)
    assert published.previous == 25
    assert loader.serving == first
    assert [v.state for v in loader.versions] == ["published", "published"]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_publish_exactly_what_one_process_publishes(big_export: Path, workers: int) -> None:
    alone, together = FakeIndexLoader(), FakeIndexLoader()
    load_export(big_export, alone, batch_size=100, workers=0)
    published = load_export(big_export, together, batch_size=100, workers=workers)
    assert published.movies == 2500
    assert together.serving == alone.serving
    # The engine gets full batches whichever worker read them.
    assert together.versions[0].batches == [100] * 25


def test_a_failing_worker_discards_the_version(big_export: Path) -> None:
    loader = FakeIndexLoader(serving=dict(OLD), encoding_fails_on="tt2100")
    with pytest.raises(WorkerFailed, match="cannot encode tt2100"):
        load_export(big_export, loader, batch_size=100, workers=2)
    assert loader.versions[0].state == "discarded"
    assert loader.serving == OLD
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_discards_the_version(big_export: Path) -> None:
    loader = FakeIndexLoader(serving=dict(OLD), encoding_exits_on="tt0300")
    with pytest.raises(WorkerFailed, match="exit code 3"):
        load_export(big_export, loader, batch_size=100, workers=2)
    assert loader.versions[0].state == "discarded"
    assert loader.serving == OLD
    assert multiprocessing.active_children() == []


def test_an_engine_failure_ends_the_workers_and_discards(big_export: Path) -> None:
    loader = FakeIndexLoader(serving=dict(OLD), fail_on_batch=3)
    with pytest.raises(Unavailable):
        load_export(big_export, loader, batch_size=100, workers=2)
    assert loader.versions[0].state == "discarded"
    assert loader.serving == OLD
    assert multiprocessing.active_children() == []
