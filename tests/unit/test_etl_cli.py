"""`python -m etl`: each command through `main`, loads going into the hand-written fake of the port."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import __main__ as cli
from search_svc.domain.movie import Movie
from search_svc.index_engines import IndexTarget
from search_svc.ports.index_loader import IndexLoader
from tests.unit.fakes_index_loader import FakeIndexLoader
from tests.unit.fakes_legacy_export import movie_row, write_export

OLD = {"old": Movie("old", "The serving catalogue")}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`main` configures logging for the process; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    engine_level = logging.getLogger("opensearch").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("opensearch").setLevel(engine_level)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    rows = [movie_row(f"tt{n:03d}", f"Film {n}", director="N/A") for n in range(25)]
    return write_export(tmp_path / "export.sqlite", [*rows, movie_row("tt999", "N/A")])


@pytest.fixture
def use_loader(monkeypatch: pytest.MonkeyPatch) -> list[FakeIndexLoader]:
    """Make the command line load into the last fake appended here instead of a real engine."""
    loaders: list[FakeIndexLoader] = []

    def fake(self: IndexTarget) -> IndexLoader:
        return loaders[-1]

    monkeypatch.setattr(IndexTarget, "loader", fake)
    return loaders


def test_the_command_line_loads_and_exits_zero(
    export: Path, tmp_path: Path, use_loader: list[FakeIndexLoader], capsys: pytest.CaptureFixture[str]
) -> None:
    use_loader.append(FakeIndexLoader(serving=dict(OLD)))
    args = ["load", str(export), "--engine", "tantivy", "--tantivy-dir", str(tmp_path / "index"), "--batch-size", "10"]
    assert cli.main(args) == 0
    assert use_loader[0].serving_count() == 25
    assert use_loader[0].versions[0].batches == [10, 10, 5]
    assert "published version v1" in capsys.readouterr().err


def test_the_command_line_loads_in_this_process_with_no_workers(
    export: Path, tmp_path: Path, use_loader: list[FakeIndexLoader]
) -> None:
    use_loader.append(FakeIndexLoader(serving=dict(OLD)))
    args = ["load", str(export), "--engine", "tantivy", "--tantivy-dir", str(tmp_path / "i"), "--workers", "0"]
    assert cli.main(args) == 0
    assert use_loader[0].serving_count() == 25


def test_the_command_line_discards_on_a_failing_batch_and_exits_non_zero(
    export: Path, use_loader: list[FakeIndexLoader], capsys: pytest.CaptureFixture[str]
) -> None:
    use_loader.append(FakeIndexLoader(serving=dict(OLD), fail_on_batch=2))
    assert cli.main(["load", str(export), "--engine", "opensearch", "--batch-size", "10"]) == cli.EXIT_FAILED
    (version,) = use_loader[0].versions
    assert version.state == "discarded"
    assert use_loader[0].serving == OLD
    err = capsys.readouterr().err
    assert "failed, nothing published" in err
    assert "the engine went away" in err
    assert "Traceback" not in err


def test_the_command_line_reports_an_unexpected_error_with_its_traceback(
    export: Path, use_loader: list[FakeIndexLoader], capsys: pytest.CaptureFixture[str]
) -> None:
    loader = FakeIndexLoader(serving=dict(OLD))
    use_loader.append(loader)

    def crash() -> None:
        raise RuntimeError("bug in the adapter")

    loader.serving_count = crash  # type: ignore[method-assign]
    assert cli.main(["load", str(export), "--engine", "tantivy"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "bug in the adapter" in err
    assert loader.serving == OLD


def test_the_command_line_refuses_a_source_that_is_no_export(
    tmp_path: Path, use_loader: list[FakeIndexLoader], capsys: pytest.CaptureFixture[str]
) -> None:
    use_loader.append(FakeIndexLoader())
    assert cli.main(["load", str(tmp_path / "absent.sqlite"), "--engine", "tantivy"]) == cli.EXIT_BAD_INPUT
    assert "no such file" in capsys.readouterr().err
    assert use_loader[0].versions == []


def test_load_defaults_to_the_search_service_settings(
    export: Path, tmp_path: Path, use_loader: list[FakeIndexLoader], monkeypatch: pytest.MonkeyPatch
) -> None:
    targets: list[IndexTarget] = []

    def remember(self: IndexTarget) -> IndexLoader:
        targets.append(self)
        return FakeIndexLoader()

    monkeypatch.setattr(IndexTarget, "loader", remember)
    monkeypatch.setenv("SEARCH_TANTIVY_DIR", str(tmp_path / "where-the-service-reads"))
    monkeypatch.setenv("SEARCH_OPENSEARCH_ALIAS", "catalogue")
    assert cli.main(["load", str(export), "--engine", "tantivy"]) == 0
    assert targets[0].tantivy_dir == tmp_path / "where-the-service-reads"
    assert targets[0].alias == "catalogue"


def test_count_prints_the_number_a_load_would_publish(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["count", str(export)]) == 0
    assert capsys.readouterr().out == "25\n"


def test_check_prints_what_cleaning_changed(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(export)]) == 0
    out = capsys.readouterr().out
    assert "movies a load would publish: 25" in out
    assert "25  director: placeholder ('N/A') removed" in out
    assert "1  movies: no title, dropped" in out
    assert "placeholders left in the cleaned movies: 0" in out


def test_demo_and_synthetic_write_exports_that_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", str(tmp_path / "demo.sqlite")]) == 0
    assert cli.main(["synthetic", str(tmp_path / "big.sqlite"), "--movies", "300", "--seed", "7"]) == 0
    capsys.readouterr()
    assert cli.main(["count", str(tmp_path / "big.sqlite")]) == 0
    assert capsys.readouterr().out == "300\n"
    assert cli.main(["count", str(tmp_path / "demo.sqlite")]) == 0
    assert int(capsys.readouterr().out) >= 150


@pytest.mark.parametrize(
    "argv",
    [
        ["load", "x.sqlite"],
        ["load", "x.sqlite", "--engine", "solr"],
        ["load", "x.sqlite", "--engine", "tantivy", "--batch-size", "0"],
        ["load", "x.sqlite", "--engine", "tantivy", "--workers", "-1"],
        ["synthetic", "x.sqlite", "--movies", "-1"],
        ["frobnicate"],
    ],
)
def test_a_wrong_command_line_exits_2_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "usage: python -m etl" in capsys.readouterr().err


def test_help_explains_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "etl", "--help"], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    for command in ("load", "count", "check", "synthetic", "demo"):
        assert command in result.stdout
    load_help = subprocess.run(
        [sys.executable, "-m", "etl", "load", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    options = ("--engine", "--tantivy-dir", "--opensearch-url", "--alias", "--batch-size", "--workers", "discarded")
    for option in options:
        assert option in load_help
