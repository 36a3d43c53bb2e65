"""Relevance of both search engines on judged queries: nDCG@10, MRR and zero-result rate, side by side.

    python -m bench.search_quality [--write docs/search-quality.md] [--save RUN.json] [--before RUN.json]
                                   [--keep-before] [--failures] [--engine tantivy|opensearch]

Loads each judged catalogue (bench/judgments/*.yaml names it: the legacy export, the demo catalogue)
through the ETL's reader into tantivy (a temporary directory) and OpenSearch (the devstack's, started
if needed, a temporary alias), runs every judged query through the SearchIndex port exactly as the
service does, and scores the first ten results. `--save` keeps a run's scores; `--before` puts a saved run's
table beside this one's (for a change's before and after, each run from its own commit); `--keep-before` keeps
the "before" table already written in the `--write` file. `--failures` prints each tuning query that fell short
of a perfect nDCG@10, with the first ten results and their grades (the held-out queries are never printed: they
are not looked at while tuning). `--engine` runs one engine only, for a quicker look (the file is then not written).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from opensearchpy import OpenSearch as OpenSearchClient

from bench.opensearch_server import devstack_opensearch
from bench.report import publish
from etl.demo import write_demo
from etl.legacy import read_movies
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.adapters.tantivy_index_loader import TantivyIndexLoader
from search_svc.adapters.tantivy_search_index import TantivySearchIndex
from search_svc.domain.video_query import SortOrder, VideoQuery
from search_svc.ports.index_loader import IndexLoader
from search_svc.ports.search_index import SearchIndex
from tests.data import LEGACY_EXPORT

REPO = Path(__file__).resolve().parents[1]
JUDGMENTS = REPO / "bench" / "judgments"
MARK = ("<!-- search-quality:begin -->", "<!-- search-quality:end -->")
K = 10
ENGINES = ("tantivy", "opensearch")
# Relevance, not latency, is measured here: a search the engine answers slowly (the first ones after a load, on a
# busy machine) must still be scored, not fail the run at the service's own 2 s bound.
SEARCH_TIMEOUT_SECONDS = 30.0
BEFORE = "\n\nBefore ("
WEAKEST = "\n\nWeakest queries now"


@dataclass(frozen=True)
class Judged:
    catalogue: str
    query: str
    kind: str
    relevant: dict[str, int]
    # The held-out third: reported on its own, never used to tune.
    heldout: bool = False


@dataclass(frozen=True)
class Scored:
    judged: Judged
    engine: str
    ndcg: float
    reciprocal_rank: float
    found: int
    # The first K results' ids and titles, for --failures; a saved run has none.
    ranked: tuple[tuple[str, str], ...] = ()


def judgments() -> list[Judged]:
    out = []
    for path in sorted(JUDGMENTS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for q in data["queries"]:
            grades = {str(k): int(v) for k, v in q["relevant"].items()}
            out.append(Judged(data["catalogue"], q["query"], q["kind"], grades, bool(q.get("heldout", False))))
    return out


def ndcg(ranked: list[str], relevant: dict[str, int]) -> float:
    def dcg(grades: Iterable[int]) -> float:
        return sum(float(2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))

    ideal = dcg(sorted(relevant.values(), reverse=True)[:K])
    return float(dcg(relevant.get(doc, 0) for doc in ranked[:K]) / ideal) if ideal else 0.0


def reciprocal_rank(ranked: list[str], relevant: dict[str, int]) -> float:
    """1/rank of the first result graded 2 or more (clearly relevant), within the first ten."""
    for i, doc in enumerate(ranked[:K]):
        if relevant.get(doc, 0) >= 2:
            return 1 / (i + 1)
    return 0.0


def load(loader: IndexLoader, source: Path) -> int:
    version = loader.new_version()
    batch, count = [], 0
    for movie in read_movies(source):
        batch.append(movie)
        if len(batch) == 1000:
            version.add(batch)
            count += len(batch)
            batch = []
    version.add(batch)
    count += len(batch)
    version.publish(expected=count)
    return count


async def score(index: SearchIndex, engine: str, queries: list[Judged]) -> list[Scored]:
    out = []
    for judged in queries:
        page = await index.search(VideoQuery(judged.query, K, 1, None, SortOrder.ASC))
        ranked = [item.id for item in page.items]
        out.append(
            Scored(
                judged,
                engine,
                ndcg(ranked, judged.relevant),
                reciprocal_rank(ranked, judged.relevant),
                page.total,
                tuple((item.id, item.title) for item in page.items),
            )
        )
    return out


async def evaluate(
    sources: dict[str, Path], opensearch_url: str | None, tmp: Path, engines: tuple[str, ...] = ENGINES
) -> list[Scored]:
    all_queries = judgments()
    results: list[Scored] = []
    for catalogue, source in sources.items():
        queries = [q for q in all_queries if q.catalogue == catalogue]
        if "tantivy" in engines:
            tantivy_dir = tmp / f"tantivy-{catalogue}"
            load(TantivyIndexLoader(tantivy_dir), source)
            results += await _scored(TantivySearchIndex(tantivy_dir), "tantivy", queries)
        if "opensearch" in engines and opensearch_url is not None:
            alias = f"quality-{catalogue}-{uuid.uuid4().hex[:6]}"
            os_loader = OpenSearchIndexLoader(opensearch_url, alias=alias)
            try:
                load(os_loader, source)
                results += await _scored(
                    OpenSearchSearchIndex(opensearch_url, alias=alias, timeout=SEARCH_TIMEOUT_SECONDS),
                    "opensearch",
                    queries,
                )
            finally:
                os_loader.close()
                _drop(opensearch_url, alias)
    return results


async def _scored(index: SearchIndex, engine: str, queries: list[Judged]) -> list[Scored]:
    try:
        return await score(index, engine, queries)
    finally:
        await index.close()


def _drop(url: str, alias: str) -> None:
    """The benchmark's own indices go when it is done; the serving `movies` alias is never touched."""
    client = OpenSearchClient(url)
    try:
        client.indices.delete(index=f"{alias}-*", allow_no_indices=True)
    finally:
        client.close()


def report(
    results: list[Scored], before: list[Scored] | None = None, before_label: str = "", kept_before: str = ""
) -> str:
    n = len({(r.judged.catalogue, r.judged.query) for r in results})
    heldout = len({(r.judged.catalogue, r.judged.query) for r in results if r.judged.heldout})
    lines = [
        MARK[0],
        f"`python -m bench.search_quality` — {datetime.now(UTC):%Y-%m-%d}. {n} judged queries "
        f"(bench/judgments/*.yaml, graded 0–3 from the data; {heldout} of them the held-out set, never tuned on), each "
        "run through the SearchIndex port as the service runs it. nDCG@10 with gains 2^grade−1; MRR over the first "
        "result graded ≥ 2 within ten; zero-result rate = share of queries answered with nothing.",
        "",
        *_table(results),
    ]
    if before is not None:
        lines += ["", f"Before ({before_label}), the same queries:", "", *_table(before)]
    elif kept_before:
        lines += ["", kept_before]
    worst = sorted(results, key=lambda r: r.ndcg)[:12]
    lines += ["", "Weakest queries now (nDCG@10):", "", "| engine | catalogue | query | kind | nDCG@10 | found |"]
    lines.append("|---|---|---|---|---|---|")
    lines += [
        f"| {r.engine} | {r.judged.catalogue} | {r.judged.query} | {r.judged.kind} | {r.ndcg:.3f} | {r.found} |"
        for r in worst
    ]
    lines.append(MARK[1])
    return "\n".join(lines)


def written_before(path: Path) -> str:
    """The "before" table of the section already written in `path` (its heading line to its last row), or ""."""
    text = path.read_text() if path.exists() else ""
    if MARK[0] not in text:
        return ""
    section = text.split(MARK[0], 1)[1].split(MARK[1], 1)[0]
    if BEFORE not in section:
        return ""
    return "Before (" + section.split(BEFORE, 1)[1].split(WEAKEST, 1)[0].strip()


def failures(results: list[Scored]) -> str:
    """Each tuning query below a perfect nDCG@10 on some engine: its first results, graded, per engine."""
    lines = []
    for r in sorted(results, key=lambda r: (r.judged.catalogue, r.judged.kind, r.judged.query, r.engine)):
        if r.judged.heldout or r.ndcg >= 1.0 - 1e-9:
            continue
        lines.append(
            f"\n{r.engine} | {r.judged.catalogue} | {r.judged.kind} | {r.judged.query!r} | "
            f"nDCG@10 {r.ndcg:.3f} | found {r.found} | judged {r.judged.relevant}"
        )
        lines += [
            f"  {rank:2}. [{r.judged.relevant.get(movie_id, 0)}] {movie_id} {title}"
            for rank, (movie_id, title) in enumerate(r.ranked, 1)
        ]
        missing = [movie_id for movie_id in r.judged.relevant if movie_id not in {m for m, _ in r.ranked}]
        if missing:
            lines.append(f"  not in the first {K}: {', '.join(missing)}")
    return "\n".join(lines)


def _table(results: list[Scored]) -> list[str]:
    engines = [engine for engine in ENGINES if any(r.engine == engine for r in results)]
    groups: dict[tuple[str, str], list[Scored]] = defaultdict(list)
    for r in results:
        groups[(r.engine, "all")].append(r)
        groups[(r.engine, "set: held-out" if r.judged.heldout else "set: tuning")].append(r)
        groups[(r.engine, f"catalogue: {r.judged.catalogue}")].append(r)
        groups[(r.engine, f"kind: {r.judged.kind}")].append(r)
    order = {"all": 0, "set": 1, "catalogue": 2, "kind": 3}
    rows = sorted({key for _, key in groups}, key=lambda k: (order[k.split(":")[0]], k))
    lines = [
        "| queries | n | " + " | ".join(f"{e} nDCG@10 | {e} MRR | {e} zero" for e in engines) + " |",
        "|---|---|" + "---|---|---|" * len(engines),
    ]
    for key in rows:
        cells = []
        for engine in engines:
            group = groups[(engine, key)]
            cells += [
                f"{sum(r.ndcg for r in group) / len(group):.3f}",
                f"{sum(r.reciprocal_rank for r in group) / len(group):.3f}",
                f"{sum(r.found == 0 for r in group) / len(group):.1%}",
            ]
        lines.append(f"| {key} | {len(groups[(engines[0], key)])} | " + " | ".join(cells) + " |")
    return lines


def save(results: list[Scored], path: Path, label: str) -> None:
    rows = [
        {
            "catalogue": r.judged.catalogue,
            "query": r.judged.query,
            "engine": r.engine,
            "ndcg": r.ndcg,
            "reciprocal_rank": r.reciprocal_rank,
            "found": r.found,
        }
        for r in results
    ]
    path.write_text(json.dumps({"label": label, "results": rows}, ensure_ascii=False, indent=1))


def saved(path: Path) -> tuple[list[Scored], str]:
    """A saved run, scored against today's judgments (a query judged since then is left out)."""
    data = json.loads(path.read_text())
    judged = {(j.catalogue, j.query): j for j in judgments()}
    results = [
        Scored(
            judged[(row["catalogue"], row["query"])], row["engine"], row["ndcg"], row["reciprocal_rank"], row["found"]
        )
        for row in data["results"]
        if (row["catalogue"], row["query"]) in judged
    ]
    return results, str(data["label"])


def _revision() -> str:
    command = ["git", "describe", "--always", "--dirty"]
    described = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True)
    return described.stdout.strip() or "unknown revision"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="update this Markdown file's section (e.g. docs/search-quality.md)")
    parser.add_argument("--save", type=Path, metavar="RUN.json", help="keep this run's scores, for a later --before")
    parser.add_argument("--before", type=Path, metavar="RUN.json", help="a saved run to show beside this one")
    parser.add_argument(
        "--keep-before", action="store_true", help="keep the 'before' table already in the --write file"
    )
    parser.add_argument("--failures", action="store_true", help="print the tuning queries short of a perfect score")
    parser.add_argument("--engine", choices=ENGINES, help="run this engine only (nothing is written)")
    args = parser.parse_args()
    engines = (args.engine,) if args.engine else ENGINES
    with contextlib.ExitStack() as stack:
        url = None
        if "opensearch" in engines:
            url = stack.enter_context(devstack_opensearch()).endpoints()["url"]
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cinemesh-quality-")))
        demo = tmp / "demo.sqlite"
        write_demo(demo)
        results = asyncio.run(evaluate({"legacy": LEGACY_EXPORT, "demo": demo}, url, tmp, engines))
    if args.failures:
        print(failures(results))
    if args.save is not None:
        save(results, args.save, f"commit {_revision()}")
    before, label = saved(args.before) if args.before is not None else (None, "")
    kept = written_before(args.write) if args.keep_before and args.write is not None else ""
    target = args.write if engines == ENGINES else None
    new_file = "# Search quality\n\nWritten by the command below.\n"
    publish(report(results, before, label, kept), target, MARK, new_file=new_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
