"""`python -m bench.capacity` on the repository's own docs/benchmarks.md and manifests: every table comes out,
every figure says its basis, and --write replaces only its section."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.capacity.__main__ import main
from bench.capacity.report import MARKS
from tests.unit.test_capacity_figures import MAX_RATE, OPEN_LOOP

REPO = Path(__file__).resolve().parents[2]
HEADINGS = (
    "## Inputs",
    "### Search: service pods",
    "### Gateway: Envoy pods",
    "### Search: OpenSearch data nodes and index",
    "### Search: rebuilding the catalogue",
    "### UGC: ingest pods",
    "### Sink: pods and Kafka partitions",
    "### Kafka: retention of the playback topic",
    "### Analytics: events in ClickHouse",
    "### UGC documents: MongoDB replica set",
    "### Nodes for the mesh",
)


def test_the_plan_from_the_repositorys_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith(MARKS[0])
    assert out.rstrip().endswith(MARKS[1])
    for heading in HEADINGS:
        assert heading in out
    inputs = out.split("## Inputs", 1)[1].split("###", 1)[0]
    rows = [line for line in inputs.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    assert rows
    for row in rows:
        assert re.search(r"\| (MEASURED|ASSUMPTION|DERIVED|CONFIGURED): ", row), row
    assert re.search(r"\| Kafka value a playback event \(framed Avro\) \| [\d.]+ bytes \| DERIVED: ", out)
    # The benchmarks hold the OpenSearch search runs: their CPU a request is measured, not assumed.
    assert "MEASURED: `search-latency:opensearch:" in out or "MEASURED: `search-max-rate:opensearch:" in out


def test_a_missing_section_is_said_and_assumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmarks = tmp_path / "benchmarks.md"
    benchmarks.write_text("# Benchmarks\n")
    assert main(["--benchmarks", str(benchmarks)]) == 0
    out = capsys.readouterr().out
    assert "> Fallback: `ugc-ingest` is not in the benchmarks" in out
    assert "> Fallback: `sink-throughput` is not in the benchmarks" in out
    assert "| sink events a second, one process | 10,000 events/s | ASSUMPTION: " in out
    assert "No search figures in docs/benchmarks.md" in out


def test_write_replaces_only_its_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "capacity.md"
    target.write_text(f"# Plan\n\nBefore.\n\n{MARKS[0]}\nstale\n{MARKS[1]}\n\nAfter.\n")
    assert main(["--write", str(target), "--search-rps", "2000"]) == 0
    text = target.read_text()
    assert text.startswith("# Plan\n\nBefore.\n\n")
    assert text.endswith("\n\nAfter.\n")
    assert "stale" not in text
    assert "2,000 search requests a second" in text
    assert text.count(MARKS[0]) == 1
    capsys.readouterr()


def test_help_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.capacity", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "--write" in done.stdout
    assert "MEASURED" in done.stdout


def test_bad_headroom_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--utilisation", "1.5"])
    assert exited.value.code == 2
    assert "utilisation" in capsys.readouterr().err


def test_the_tables_carry_the_arithmetic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmarks = tmp_path / "benchmarks.md"
    benchmarks.write_text(OPEN_LOOP)
    assert main(["--benchmarks", str(benchmarks)]) == 0
    out = capsys.readouterr().out
    # 0.6 × 1000 ÷ 2.38 = 252 rps a pod; 10,000 ÷ 252 → 40 pods; ceil(40 ÷ 3) + 1 = 15 a zone; 0.6 × 40 ÷ 30 = 80%.
    assert "| tiny | 2.38 ms | not measured | 252 rps | 40 | 15 | 45 | 80% | 10 |" in out
    # Envoy: (10,000 + 10,000) × 0.82 ms = 16.4 cores busy, 27.3 at 60%; 28 pods, 11 a zone; 0.6 × 28 ÷ 22 = 76%.
    assert "| tiny | 10,000 × 0.82 ms | 10,000 × 0.82 ms | 27.3 | 28 | 11 | 33 | 76% | 10 |" in out
    # OpenSearch: 10,000 × 5 ms ÷ 0.6 = 83.3 cores; 12 nodes of 7; 5 a zone; 10 movies in one shard, 14 replicas.
    assert "| tiny | 10 | 5 ms | 83.3 | 12 | 5 | 15 | 72% | 40,960 B | 1 | 14 | 3 |" in out


def test_a_rate_held_beside_an_engine_process_is_shown_not_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmarks = tmp_path / "benchmarks.md"
    # 400 rps missed the bound here, so 200 rps is the highest held.
    benchmarks.write_text(MAX_RATE.replace("| 400 | 6000 | 4.00 | 15.00 |", "| 400 | 6000 | 4.00 | 25.00 |"))
    assert main(["--benchmarks", str(benchmarks)]) == 0
    out = capsys.readouterr().out
    # OpenSearch shared the two cores: 200 rps held is the machine's limit, not a pod's. From its CPU alone,
    # 0.6 × 1000 ÷ 2.5 = 240 rps a pod; 10,000 ÷ 240 → 42 pods (capped at 200 rps it would be 50).
    assert "| tiny | 2.5 ms | 200 rps (the machine's, not applied) | 240 rps | 42 |" in out
