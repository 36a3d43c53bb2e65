"""`python -m etl --help`: load a legacy export into the search index, inspect it, or write demo and test exports."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from etl.legacy import NotALegacyExport, count_movies
from etl.load import DEFAULT_BATCH_SIZE, DEFAULT_WORKERS, load_export
from etl.progress import progress
from meshkit.errors import DomainError
from meshkit.logs import configure_logging
from search_svc.index_engines import Engine, IndexTarget
from search_svc.settings import SearchSettings

# 2 is argparse's own code for a bad command line; a source that cannot be read is the same kind of mistake.
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
logger = logging.getLogger("etl")

_EPILOG = """\
A legacy export is an SQLite file with the tables movies, actors, writers and movie_actors (see etl/legacy.py).
Cleaning turns 'N/A' into nothing, splits genres and directors, drops repeated writers and actor links and
people named 'N/A'; `check` shows how much of each it does to a given file.

examples:
  python -m etl demo build/demo.sqlite && python -m etl load build/demo.sqlite --engine tantivy
  python -m etl check /path/to/movies-legacy.sqlite
  python -m etl synthetic /tmp/big.sqlite --movies 1000000 && python -m etl load /tmp/big.sqlite --engine opensearch
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="The catalogue ETL: read a legacy SQLite export, clean it, and publish it as a new version of "
        "the search index with no downtime.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    load = commands.add_parser(
        "load",
        help="clean an export and publish it as the new serving index",
        description="Count the movies SOURCE yields, build a new index version beside the serving one, add them in "
        "batches, and publish the version only if it holds exactly that many: one atomic swap, then older versions "
        "are dropped. On any failure (or Ctrl-C) the new version is discarded, the serving index stays as it was and "
        "the exit status is non-zero. Running it again is always safe.",
    )
    load.add_argument("source", type=Path, metavar="SOURCE", help="the legacy export (SQLite file)")
    load.add_argument("--engine", type=Engine, choices=list(Engine), required=True, help="the index to load into")
    load.add_argument(
        "--tantivy-dir",
        type=Path,
        metavar="DIR",
        help="tantivy: the index directory (default: SEARCH_TANTIVY_DIR, as the search service reads it)",
    )
    load.add_argument(
        "--opensearch-url",
        metavar="URL",
        help="opensearch: the base URL (default: SEARCH_OPENSEARCH_URL, http://127.0.0.1:9200)",
    )
    load.add_argument(
        "--alias",
        metavar="NAME",
        help="opensearch: the alias swapped to the new index (default: SEARCH_OPENSEARCH_ALIAS, movies)",
    )
    load.add_argument(
        "--batch-size",
        type=_positive,
        metavar="N",
        default=DEFAULT_BATCH_SIZE,
        help=f"movies sent to the engine at a time (default: {DEFAULT_BATCH_SIZE})",
    )
    load.add_argument(
        "--workers",
        type=_not_negative,
        metavar="N",
        default=DEFAULT_WORKERS,
        help="processes reading, cleaning and encoding the export while this one loads the engine; 0 does it all "
        f"in this process (default: {DEFAULT_WORKERS})",
    )

    count = commands.add_parser(
        "count", help="print how many movies a load of SOURCE would publish", description="Print one number."
    )
    count.add_argument("source", type=Path, metavar="SOURCE")

    check = commands.add_parser(
        "check",
        help="print what cleaning would change in SOURCE",
        description="Read SOURCE as a load would and print, per cleaning rule, how often it applied: placeholders "
        "removed, repeated writers and actor links dropped, and so on. Changes nothing.",
    )
    check.add_argument("source", type=Path, metavar="SOURCE")

    synthetic = commands.add_parser(
        "synthetic",
        help="write a large synthetic export, for benchmarks",
        description="Write a deterministic export of N generated movies (Russian and English) with the legacy "
        "file's kinds of dirt at its rates. The same seed gives the same rows. OUT is replaced when done.",
    )
    synthetic.add_argument("out", type=Path, metavar="OUT")
    synthetic.add_argument("--movies", type=_not_negative, required=True, metavar="N", help="how many movies")
    synthetic.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default: 1)")

    demo = commands.add_parser(
        "demo",
        help="write the demo catalogue, for `make run`",
        description="Write the demo catalogue as a legacy export: about a hundred real films, each as an English "
        "and a Russian entry, with the legacy file's dirt so that cleaning shows. OUT is replaced when done.",
    )
    demo.add_argument("out", type=Path, metavar="OUT")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("cannot be negative")
    return value


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    configure_logging("etl", args.log_level, "text")
    if args.log_level != "DEBUG":
        # The engine client logs every failed attempt with a traceback; the ETL says once, plainly, what failed.
        logging.getLogger("opensearch").setLevel(logging.CRITICAL)
    try:
        return _run(args)
    except NotALegacyExport as error:
        logger.error("%s", error)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        logger.error("interrupted")
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    if args.command == "count":
        print(count_movies(args.source))
    elif args.command == "check":
        from etl.check import check  # noqa: PLC0415

        for line in check(args.source).lines():
            print(line)
    elif args.command == "synthetic":
        from etl.synthetic import write_synthetic  # noqa: PLC0415

        with progress("generating", args.movies) as advance:
            write_synthetic(args.out, args.movies, args.seed, on_progress=advance)
        logger.info("wrote %d synthetic movies to %s", args.movies, args.out)
    elif args.command == "demo":
        from etl.demo import write_demo  # noqa: PLC0415

        logger.info("wrote the demo catalogue (%d movies) to %s", write_demo(args.out), args.out)
    else:
        return _load(args)
    return 0


def _load(args: argparse.Namespace) -> int:
    # The service's own settings are the defaults, so that the ETL writes where the service reads.
    service = IndexTarget.from_settings(SearchSettings(), args.engine)
    where = dataclasses.replace(
        service,
        tantivy_dir=args.tantivy_dir or service.tantivy_dir,
        opensearch_url=args.opensearch_url or service.opensearch_url,
        alias=args.alias or service.alias,
    )
    try:
        published = load_export(args.source, where.loader(), batch_size=args.batch_size, workers=args.workers)
    except (NotALegacyExport, KeyboardInterrupt):
        raise
    except DomainError as error:
        logger.error("load into %s failed, nothing published (the serving index is untouched): %s", where, error)
        return EXIT_FAILED
    except Exception:
        logger.exception("load into %s failed, nothing published (the serving index is untouched)", where)
        return EXIT_FAILED
    rate = published.movies / published.seconds if published.seconds else 0.0
    logger.info(
        "published version %s to %s: %d movies (before: %s) in %.1f s, %.0f movies/s",
        published.version,
        where,
        published.movies,
        "none" if published.previous is None else published.previous,
        published.seconds,
        rate,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
