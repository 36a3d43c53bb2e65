"""ETL throughput beside a raw load of the same prebuilt documents, on tantivy and OpenSearch, in one run.

    python -m bench.etl_throughput [--movies 200000 | --catalogue PATH] [--repeat 2] [--write docs/benchmarks.md]
    python -m bench.etl_throughput --movies 1000000 --engines tantivy --etl-only --repeat 1 [--write ...]

Targets: the ETL loads at least 0.5x (tantivy) and 0.8x (OpenSearch) as fast as a raw load of the documents it
produces. Per engine the paths run alternately (raw, ETL, ETL in one process, raw, ...), so that machine noise hits
all alike; the machine's load average is sampled during each run and reported.
- ETL: `python -m etl load SOURCE --engine E` as a subprocess, wall time from spawn to exit: count the export,
  read, clean and encode it in worker processes (the default), load the batches into a new index version, check
  the count, publish (tantivy: pointer swap; OpenSearch: alias swap). Peak RSS: the largest process's (wait4),
  and the whole process tree's, sampled.
- ETL, one process: the same with `--workers 0`: reading, cleaning and encoding between the engine's batches.
- raw: the same documents, built beforehand by the ETL's own encoders and held in memory; only loading is timed.
  tantivy: prebuilt tantivy Documents (the fastest form the writer takes) added to an IndexWriter with the ETL's
  schema, heap and threads; commit, wait for merges, count. The schema's text fields hold analysed terms, so the
  analysis is part of building those documents, outside what this path times, as the reading and cleaning are.
  "raw, documents built" times the building too (from the movies held in memory, the analysers' bounded caches
  emptied first): the work tantivy's writer did itself while it analysed the text, so the ratio against it
  compares the ETL with the engine's load as it was defined before the analysis moved out of the writer.
  OpenSearch: the prebuilt batches handed to a version of the ETL's own loader (`add_encoded`), then published:
  the same index settings and mapping, the same `_bulk` requests with the same number in flight (the loader's
  sender thread: one request in flight, the next sent as soon as it returns), refresh, count, alias swap: the raw
  path has exactly as many requests in flight as the ETL. And, for information, a plain `_bulk` loop into an index
  with OpenSearch's default settings and dynamic mapping.
CPU: user + system seconds of the ETL's process tree (wait4: the command and the worker processes it waited for),
or of this process during a raw run (tantivy's writer threads included); OpenSearch's own CPU is in neither.
Throughput is the export's movies over the median seconds of a path; the ratio is ETL over raw.
--etl-only runs only the ETL command (with its workers), --repeat times per engine, and reports its seconds, CPU and
peak RSS in a section of its own (`etl-scale`), leaving the ratio's section as it is: the form for a large export
(1M movies into tantivy: target <= 150 s), where prebuilt documents would not fit in memory.
Without --catalogue, a synthetic export of --movies movies is written first (`python -m etl synthetic`).
OpenSearch is the devstack's (a healthy one is reused and left running; one started here runs as production
would, full JIT and a 2 GiB heap, not the devstack's C1-only test JVM, and is stopped at the end: see
bench/opensearch_server.py) unless --opensearch-url names another. Every index and directory made here is
deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import tantivy
from opensearchpy import OpenSearch as OpenSearchClient

from bench.opensearch_server import devstack_opensearch
from bench.report import publish
from etl.legacy import count_movies, read_movies
from etl.load import DEFAULT_BATCH_SIZE
from search_svc.adapters import tantivy_schema
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader, bulk_body, encode
from search_svc.adapters.tantivy_index_loader import WRITER_HEAP_BYTES, WRITER_THREADS
from search_svc.domain import lemmas
from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import EncodedBatch

REPO = Path(__file__).resolve().parent.parent
MARK = ("<!-- etl-throughput:begin -->", "<!-- etl-throughput:end -->")
SCALE_MARK = ("<!-- etl-scale:begin -->", "<!-- etl-scale:end -->")
# Seconds the ETL may take to load 1M movies, per engine (only tantivy has a goal).
SCALE_TARGETS = {"tantivy": (1_000_000, 150.0)}
TARGETS = {"tantivy": 0.5, "opensearch": 0.8}
ENGINES = ("tantivy", "opensearch")
DEFAULT_MOVIES = 200_000
DEFAULT_REPEAT = 2
ETL = "ETL"
ETL_ONE = "ETL, one process"
RAW = "raw"
RAW_BUILT = "raw, documents built"
RAW_DEFAULT = "raw, default mapping"

DESCRIPTIONS = {
    ("tantivy", RAW): "raw: prebuilt Documents → IndexWriter (same schema, heap, threads), commit, count",
    ("tantivy", RAW_BUILT): (
        "raw, documents built in the run: the movies, held in memory, → the same Documents (the analysers' work) → "
        "IndexWriter, commit, count"
    ),
    ("tantivy", ETL): "ETL: `python -m etl load` (workers read, clean, encode; add_json, commit, count, publish)",
    ("tantivy", ETL_ONE): "ETL, `--workers 0`: the same in one process",
    ("opensearch", RAW): "raw: prebuilt bulk lines → the ETL's loader (same `_bulk` requests, one in flight), publish",
    ("opensearch", RAW_DEFAULT): "raw: a plain `_bulk` loop into a default index, dynamic mapping (for information)",
    ("opensearch", ETL): "ETL: `python -m etl load` (workers read, clean, encode; `_bulk`, one in flight; publish)",
    ("opensearch", ETL_ONE): "ETL, `--workers 0`: the same in one process",
}


@dataclass(frozen=True)
class Setup:
    source: Path
    movies: Sequence[Movie]
    repeat: int
    batch_size: int
    tmp: Path
    # How many movies the ETL publishes; read_movies gives the movies themselves (only the raw paths need them).
    expected: int


@dataclass
class Runs:
    """One path's repeated runs on one engine."""

    seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)  # bytes, the largest process; measured for the ETL only
    tree_rss: list[int] = field(default_factory=list)  # bytes, the process tree's peak sum, sampled; the ETL only
    load: list[float] = field(default_factory=list)  # the machine's 1-minute load average, mean over the run
    cpu: list[float] = field(default_factory=list)  # user + system seconds (see the module's docstring)

    def rate(self, movies: int) -> float:
        return movies / statistics.median(self.seconds)


class BenchError(RuntimeError):
    """A run failed or loaded the wrong number of movies: its figures would mean nothing."""


# --- ETL: the real command, end to end ---------------------------------------------------------------------------

# Forked from this process, the ETL would inherit its memory high-water mark (Linux carries the pre-exec one into
# ru_maxrss), and this process holds every prebuilt document. A small launcher forks it instead, and times it.
_LAUNCHER = """
import json, os, subprocess, sys, threading, time
def tree_rss(root):
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/statm") as statm:
                    rss[int(entry)] = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                pass
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(rss.get(pid, 0) for pid in tree)
peak, loads, done = [0], [], threading.Event()
def sample(pid):
    while not done.wait(0.5):
        peak[0] = max(peak[0], tree_rss(pid))
        loads.append(os.getloadavg()[0])
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=sys.stderr)
sampler = threading.Thread(target=sample, args=(process.pid,), daemon=True)
sampler.start()
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
done.set()
sampler.join()
print(json.dumps({
    "seconds": seconds, "code": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss,
    "cpu": usage.ru_utime + usage.ru_stime,
    "tree_rss": peak[0], "load": sum(loads) / len(loads) if loads else os.getloadavg()[0],
}))
"""


def etl_run(setup: Setup, engine: str, target: Sequence[str], runs: Runs, *, workers: int | None = None) -> float:
    """One `python -m etl load`, from spawn to exit: its seconds, peak RSS and load average, recorded in `runs`."""
    command = [sys.executable, "-m", "etl", "--log-level", "WARNING", "load", str(setup.source), "--engine", engine]
    command += [*target, "--batch-size", str(setup.batch_size)]
    if workers is not None:
        command += ["--workers", str(workers)]
    log = setup.tmp / "etl.log"
    with log.open("wb") as out:
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, *command], cwd=REPO, stdout=subprocess.PIPE, stderr=out, check=True
        )
    outcome = json.loads(launched.stdout)
    if outcome["code"] != 0:
        raise BenchError(f"{' '.join(command)} exited {outcome['code']}:\n{log.read_text()[-3000:]}")
    runs.seconds.append(float(outcome["seconds"]))
    runs.peak_rss.append(int(outcome["maxrss_kib"]) * 1024)
    runs.tree_rss.append(int(outcome["tree_rss"]))
    runs.load.append(float(outcome["load"]))
    runs.cpu.append(float(outcome["cpu"]))
    return runs.seconds[-1]


@contextmanager
def load_sampled(runs: Runs) -> Iterator[None]:
    """Record the machine's mean 1-minute load average over a raw run (sampled every half second), and this
    process's CPU seconds during it."""
    samples: list[float] = []
    cpu = _cpu_seconds()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            samples.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        runs.load.append(statistics.mean(samples) if samples else os.getloadavg()[0])
        runs.cpu.append(_cpu_seconds() - cpu)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- tantivy -----------------------------------------------------------------------------------------------------


def raw_tantivy(documents: Sequence[tantivy.Document], expected: int, directory: Path) -> float:
    directory.mkdir(parents=True)
    started = time.perf_counter()
    index = tantivy.Index(tantivy_schema.schema(), path=str(directory), reuse=False)
    tantivy_schema.register_analyzers(index)
    writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
    for document in documents:
        writer.add_document(document)
    writer.commit()
    # The ETL waits for the merges before it publishes; a raw run that did not would leave them to eat into the
    # next run's time.
    writer.wait_merging_threads()
    found = tantivy.Index.open(str(directory)).searcher().num_docs
    seconds = time.perf_counter() - started
    if found != expected:
        raise BenchError(f"raw tantivy index holds {found} movies, expected {expected}")
    return seconds


def raw_tantivy_built(movies: Sequence[Movie], expected: int, directory: Path) -> float:
    """The raw load with its documents built in the run, from caches as cold as a new ETL process's."""
    _cold_analysis()
    started = time.perf_counter()
    documents = [tantivy_schema.document(movie) for movie in movies]
    return time.perf_counter() - started + raw_tantivy(documents, expected, directory)


def _cold_analysis() -> None:
    """Empties the bounded caches of words and pieces of text the document builders keep per process."""
    for module in (tantivy_schema, lemmas):
        for value in vars(module).values():
            parameters = getattr(value, "cache_parameters", None)
            # Bounded ones only: the unbounded ones hold the schema and the dictionaries, loaded once per process.
            if parameters is not None and parameters()["maxsize"] is not None:
                value.cache_clear()


def bench_tantivy(setup: Setup) -> dict[str, Runs]:
    # A Document is copied into the writer, not consumed: one set serves every run.
    documents = [tantivy_schema.document(movie) for movie in setup.movies]
    runs = {RAW: Runs(), RAW_BUILT: Runs(), ETL: Runs(), ETL_ONE: Runs()}
    for n in range(1, setup.repeat + 1):
        raw_dir = setup.tmp / f"raw-tantivy-{n}"
        with load_sampled(runs[RAW]):
            runs[RAW].seconds.append(raw_tantivy(documents, setup.expected, raw_dir))
        shutil.rmtree(raw_dir)
        _say(f"tantivy {RAW} #{n}", runs[RAW], setup.expected)
        with load_sampled(runs[RAW_BUILT]):
            runs[RAW_BUILT].seconds.append(raw_tantivy_built(setup.movies, setup.expected, raw_dir))
        shutil.rmtree(raw_dir)
        _say(f"tantivy {RAW_BUILT} #{n}", runs[RAW_BUILT], setup.expected)
        for path, workers in ((ETL, None), (ETL_ONE, 0)):
            etl_dir = setup.tmp / f"etl-tantivy-{n}"
            etl_run(setup, "tantivy", ["--tantivy-dir", str(etl_dir)], runs[path], workers=workers)
            shutil.rmtree(etl_dir)
            _say(f"tantivy {path} #{n}", runs[path], setup.expected)
    return runs


# --- OpenSearch --------------------------------------------------------------------------------------------------


def raw_opensearch(url: str, batches: Sequence[EncodedBatch], expected: int, alias: str) -> float:
    """The prebuilt batches through a version of the ETL's own loader: the requests the ETL sends, as it sends them."""
    loader = OpenSearchIndexLoader(url, alias=alias)
    try:
        started = time.perf_counter()
        version = loader.new_version()
        try:
            for batch in batches:
                version.add_encoded(batch)
            version.publish(expected)
        except BaseException:
            version.discard()
            raise
        return time.perf_counter() - started
    finally:
        loader.close()


def raw_opensearch_default(client: OpenSearchClient, bodies: Sequence[bytes], expected: int, index: str) -> float:
    started = time.perf_counter()
    client.indices.create(index=index)
    try:
        return _bulk_loop(client, bodies, expected, index, started)
    finally:
        client.indices.delete(index=index)


def _bulk_loop(client: OpenSearchClient, bodies: Sequence[bytes], expected: int, index: str, started: float) -> float:
    for body in bodies:
        response = client.bulk(index=index, body=body)
        if response["errors"]:
            first = next(item for item in response["items"] if next(iter(item.values())).get("error"))
            raise BenchError(f"raw _bulk into {index} refused documents, first: {first}")
    client.indices.refresh(index=index)
    found = int(client.count(index=index)["count"])
    seconds = time.perf_counter() - started
    if found != expected:
        raise BenchError(f"raw index {index} holds {found} movies, expected {expected}")
    return seconds


# Batches loaded before the OpenSearch paths are timed.
WARM_UP_BATCHES = 20


def bench_opensearch(setup: Setup, url: str) -> dict[str, Runs]:
    movies = setup.movies
    size = setup.batch_size
    batches = [encode(movies[start : start + size]) for start in range(0, len(movies), size)]
    bodies = [bulk_body(batch.documents) for batch in batches]
    client = OpenSearchClient(hosts=[url], timeout=120)
    # Everything made here starts with this, so that cleaning up cannot touch anything else.
    prefix = f"bench-etl-{secrets.token_hex(4)}"
    runs = {RAW: Runs(), RAW_DEFAULT: Runs(), ETL: Runs(), ETL_ONE: Runs()}
    try:
        # A JVM just started compiles its indexing code while it loads: untimed, so that the first path timed does
        # not pay for it alone.
        warm = batches[:WARM_UP_BATCHES]
        raw_opensearch(url, warm, sum(len(batch.documents) for batch in warm), f"{prefix}-warm-up")
        client.indices.delete(index=f"{prefix}-warm-up*")
        for n in range(1, setup.repeat + 1):
            with load_sampled(runs[RAW]):
                runs[RAW].seconds.append(raw_opensearch(url, batches, setup.expected, f"{prefix}-raw-{n}"))
            _say(f"opensearch {RAW} #{n}", runs[RAW], setup.expected)
            index = f"{prefix}-default-{n}"
            with load_sampled(runs[RAW_DEFAULT]):
                runs[RAW_DEFAULT].seconds.append(raw_opensearch_default(client, bodies, setup.expected, index))
            _say(f"opensearch {RAW_DEFAULT} #{n}", runs[RAW_DEFAULT], setup.expected)
            for path, workers in ((ETL, None), (ETL_ONE, 0)):
                alias = f"{prefix}-etl-{n}-{0 if workers is None else 1}"
                etl_run(setup, "opensearch", ["--opensearch-url", url, "--alias", alias], runs[path], workers=workers)
                client.indices.delete(index=f"{alias}-*")
                _say(f"opensearch {path} #{n}", runs[path], setup.expected)
    finally:
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
        client.close()
    return runs


# --- the ETL alone, at scale --------------------------------------------------------------------------------------


def scale_tantivy(setup: Setup) -> Runs:
    runs = Runs()
    for n in range(1, setup.repeat + 1):
        etl_dir = setup.tmp / f"etl-tantivy-{n}"
        etl_run(setup, "tantivy", ["--tantivy-dir", str(etl_dir)], runs)
        shutil.rmtree(etl_dir)
        _say(f"tantivy {ETL} #{n}", runs, setup.expected)
    return runs


def scale_opensearch(setup: Setup, url: str) -> Runs:
    client = OpenSearchClient(hosts=[url], timeout=120)
    prefix = f"bench-etl-{secrets.token_hex(4)}"
    runs = Runs()
    try:
        for n in range(1, setup.repeat + 1):
            alias = f"{prefix}-etl-{n}"
            etl_run(setup, "opensearch", ["--opensearch-url", url, "--alias", alias], runs)
            client.indices.delete(index=f"{alias}-*")
            _say(f"opensearch {ETL} #{n}", runs, setup.expected)
    finally:
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
        client.close()
    return runs


@contextmanager
def opensearch_url(given: str | None) -> Iterator[str]:
    """The given URL, or the devstack's OpenSearch."""
    if given is not None:
        yield given
        return
    with devstack_opensearch() as server:
        yield server.endpoints()["url"]


def _say(what: str, runs: Runs, movies: int) -> None:
    seconds = runs.seconds[-1]
    print(
        f"{what}: {seconds:.1f} s, {movies / seconds:,.0f} movies/s, CPU {runs.cpu[-1]:.1f} s, "
        f"load average {runs.load[-1]:.1f}",
        file=sys.stderr,
        flush=True,
    )


# --- the report --------------------------------------------------------------------------------------------------


def section(command: str, setup: Setup, catalogue: str, results: dict[str, dict[str, Runs]]) -> str:
    movies = setup.expected
    lines = [
        MARK[0],
        "## ETL throughput beside a raw load of the same documents",
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{movies:,} movies ({catalogue}), batches of {setup.batch_size}. Each path ran {setup.repeat} times, "
        "alternated (raw, [tantivy: raw with documents built,] ETL, ETL in one process, raw, ...); the medians, then "
        "every run's seconds. The ETL is the real command, timed from spawn to exit (interpreter start included); a "
        "raw path times only the engine loading documents that the ETL's own encoders made beforehand, except "
        "tantivy's second, which times building them too. Load average: the machine's 1-minute "
        "figure, mean over each run (the run's own processes included), then the range over the runs.",
        "",
        "| engine | path | seconds | movies/s | CPU s | peak RSS: largest process / tree | load average |",
        "|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for engine, runs in results.items():
        for path, run in runs.items():
            every = ", ".join(f"{s:.1f}" for s in run.seconds)
            rss = f"{max(run.peak_rss) / 2**20:.0f} / {max(run.tree_rss) / 2**20:.0f} MiB" if run.peak_rss else "—"
            load = f"{statistics.mean(run.load):.1f} ({min(run.load):.1f}–{max(run.load):.1f})"
            lines.append(
                f"| {engine} | {DESCRIPTIONS[engine, path]} | {statistics.median(run.seconds):.1f} ({every}) | "
                f"{run.rate(movies):,.0f} | {statistics.median(run.cpu):.1f} | {rss} | {load} |"
            )
        ratio = runs[ETL].rate(movies) / runs[RAW].rate(movies)
        alone = runs[ETL_ONE].rate(movies) / runs[RAW].rate(movies)
        target = TARGETS[engine]
        verdict = (
            f"{engine} **{ratio:.2f}×** (target ≥ {target}×, {'met' if ratio >= target else 'not met'}; "
            f"in one process {alone:.2f}×)"
        )
        if RAW_BUILT in runs:
            built = runs[ETL].rate(movies) / runs[RAW_BUILT].rate(movies)
            verdict += (
                f", and **{built:.2f}×** against the raw load with its documents built in the run "
                f"({'met' if built >= target else 'not met'})"
            )
        verdicts.append(verdict)
    lines += [
        "",
        f"ETL ÷ raw throughput: {'; '.join(verdicts)}.",
        "",
        f"Reproduce: `{command}` (uses the devstack's OpenSearch, starting it if needed). Peak RSS of the largest "
        "process comes from wait4; the tree's is the sum over the ETL and its worker processes, sampled every 0.5 s. "
        "A raw path holds every prebuilt document in the benchmark's memory. CPU s: user + system seconds, median "
        "over the runs, of the ETL's process tree (wait4) or of the benchmark's process during a raw run (tantivy's "
        "writer threads included); OpenSearch's own CPU counts in neither.",
        MARK[1],
    ]
    return "\n".join(lines)


def scale_section(command: str, setup: Setup, catalogue: str, results: dict[str, Runs]) -> str:
    movies = setup.expected
    lines = [
        SCALE_MARK[0],
        "## ETL at scale: one load's time, CPU and memory",
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{movies:,} movies ({catalogue}), batches of {setup.batch_size}, {setup.repeat} run(s) per engine. The ETL "
        "is the real command with its worker processes (the default), timed from spawn to exit; CPU is user + "
        "system seconds of its whole process tree (wait4), OpenSearch's own excluded. Load average: the machine's "
        "1-minute figure, mean over each run (the run's own processes included).",
        "",
        "| engine | seconds (every run) | movies/s | CPU s | CPU µs a movie | peak RSS: largest process / tree | "
        "load average |",
        "|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for engine, run in results.items():
        seconds = statistics.median(run.seconds)
        cpu = statistics.median(run.cpu)
        every = ", ".join(f"{s:.1f}" for s in run.seconds)
        rss = f"{max(run.peak_rss) / 2**20:.0f} / {max(run.tree_rss) / 2**20:.0f} MiB"
        load = f"{statistics.mean(run.load):.1f} ({min(run.load):.1f}–{max(run.load):.1f})"
        lines.append(
            f"| {engine} | {seconds:.1f} ({every}) | {run.rate(movies):,.0f} | {cpu:.1f} | {1e6 * cpu / movies:.0f} "
            f"| {rss} | {load} |"
        )
        if engine in SCALE_TARGETS:
            per, limit = SCALE_TARGETS[engine]
            # A synthetic export of N rows publishes slightly fewer movies (its dirt drops some); a much smaller
            # one says nothing of the target: start-up and the final merge would dominate it.
            if movies < per * 0.9:
                verdicts.append(f"{engine}: the target (≤ {limit:.0f} s) is for {per:,} movies")
            else:
                scaled = seconds * per / movies
                verdicts.append(
                    f"{engine}: **{scaled:.0f} s** per {per:,} movies (target ≤ {limit:.0f} s, "
                    f"{'met' if scaled <= limit else 'not met'})"
                )
    if verdicts:
        lines += ["", "; ".join(verdicts) + "."]
    lines += ["", f"Reproduce: `{command}`.", SCALE_MARK[1]]
    return "\n".join(lines)


# --- the command -------------------------------------------------------------------------------------------------


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    summary, rest = (__doc__ or "").split("\n\n", 1)
    parser = argparse.ArgumentParser(
        prog="python -m bench.etl_throughput",
        description=summary,
        epilog=rest.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--movies",
        type=positive,
        default=DEFAULT_MOVIES,
        metavar="N",
        help=f"size of the synthetic export to write and load (default: {DEFAULT_MOVIES})",
    )
    source.add_argument("--catalogue", type=Path, metavar="PATH", help="load this legacy export instead")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="the synthetic export's seed (default: 1)")
    parser.add_argument(
        "--repeat", type=positive, default=DEFAULT_REPEAT, metavar="N", help="runs of each path (default: 2)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"movies per batch (`_bulk` request), ETL and raw alike (default: the ETL's, {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--engines", nargs="+", choices=ENGINES, default=list(ENGINES), help="which engines (default: both)"
    )
    parser.add_argument("--opensearch-url", metavar="URL", help="use this OpenSearch instead of the devstack's")
    parser.add_argument(
        "--etl-only",
        action="store_true",
        help="run only the ETL command (with workers) and report its time, CPU and peak RSS in a section of its "
        "own (etl-scale): for exports too large to hold prebuilt documents in memory",
    )
    parser.add_argument("--write", type=Path, metavar="FILE", help="also update this Markdown file's section")
    return parser.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    words = ["python -m bench.etl_throughput"]
    words.append(f"--catalogue {args.catalogue}" if args.catalogue else f"--movies {args.movies}")
    if args.catalogue is None and args.seed != 1:
        words.append(f"--seed {args.seed}")
    if args.repeat != DEFAULT_REPEAT:
        words.append(f"--repeat {args.repeat}")
    if args.batch_size != DEFAULT_BATCH_SIZE:
        words.append(f"--batch-size {args.batch_size}")
    if list(args.engines) != list(ENGINES):
        words.append("--engines " + " ".join(args.engines))
    if args.etl_only:
        words.append("--etl-only")
    return " ".join(words)


def synthetic(out: Path, movies: int, seed: int) -> None:
    command = [sys.executable, "-m", "etl", "synthetic", str(out), "--movies", str(movies), "--seed", str(seed)]
    generated = subprocess.run(command, cwd=REPO, stderr=subprocess.PIPE, text=True, check=False)
    if generated.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {generated.returncode}:\n{generated.stderr[-3000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="cinemesh-etl-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.catalogue is None:
            source = tmp / "synthetic.sqlite"
            print(f"writing a synthetic export of {args.movies:,} movies", file=sys.stderr, flush=True)
            synthetic(source, args.movies, args.seed)
            catalogue = f"a synthetic export, seed {args.seed}"
        else:
            source = args.catalogue
            catalogue = f"`{source.name}`"
        expected = count_movies(source)
        print(f"{expected:,} movies in {source}", file=sys.stderr, flush=True)
        if args.etl_only:
            setup = Setup(source, (), args.repeat, args.batch_size, tmp, expected)
            alone: dict[str, Runs] = {}
            if "tantivy" in args.engines:
                alone["tantivy"] = scale_tantivy(setup)
            if "opensearch" in args.engines:
                with opensearch_url(args.opensearch_url) as url:
                    alone["opensearch"] = scale_opensearch(setup, url)
            publish(scale_section(command_line(args), setup, catalogue, alone), args.write, SCALE_MARK)
            return 0
        # What the ETL publishes: cleaned, one per id, in its order. The count is the ETL's own check.
        setup = Setup(source, list(read_movies(source)), args.repeat, args.batch_size, tmp, expected)
        if len(setup.movies) != expected:
            raise BenchError(f"{source}: count_movies and read_movies disagree")
        results: dict[str, dict[str, Runs]] = {}
        if "tantivy" in args.engines:
            results["tantivy"] = bench_tantivy(setup)
        if "opensearch" in args.engines:
            with opensearch_url(args.opensearch_url) as url:
                results["opensearch"] = bench_opensearch(setup, url)
        publish(section(command_line(args), setup, catalogue, results), args.write, MARK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
