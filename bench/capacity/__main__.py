"""`python -m bench.capacity`: the capacity plan from docs/benchmarks.md, printed; with --write, also into
docs/capacity.md between its markers.

Reads the measured per-pod figures by their section markers (search: `search-max-rate:opensearch:<catalogue>`,
else the CPU a request of `search-latency:opensearch:<catalogue>`; `ugc-ingest`; `sink-throughput`; the
analytics store's compression section), the production manifests in k8s/, and sizes of our own records computed
with our encoders. Every figure is printed with its basis: MEASURED (the section it came from), ASSUMPTION (the
value and why), DERIVED or CONFIGURED. Then the arithmetic as Markdown tables.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bench.capacity import figures
from bench.capacity.assumptions import Fixed, Headroom, Load
from bench.capacity.manifests import configured
from bench.capacity.markdown import number, sections
from bench.capacity.record_sizes import document_sizes, playback_event_size
from bench.capacity.report import MARKS, Inputs, render
from bench.report import publish

REPO = Path(__file__).resolve().parents[2]
ENGINE = "opensearch"  # production's search engine; tantivy is the embedded profile's
NEW_FILE = "# Capacity plan\n\nWritten by `make capacity` (`python -m bench.capacity --write docs/capacity.md`).\n"


def read_inputs(benchmarks: Path, repo: Path, load: Load, headroom: Headroom) -> tuple[Inputs, list[str]]:
    """Every figure the plan needs, and notes on the ones that fell back."""
    found = sections(benchmarks.read_text())
    notes: list[str] = []
    searches = []
    sizes: dict[str, float] = {}
    for catalogue in figures.search_catalogues(found, ENGINE):
        search = figures.search_max_rate(found, ENGINE, catalogue)
        if search is None:
            search = figures.search_open_loop(found, ENGINE, catalogue)
            notes.append(
                f"`search-max-rate:{ENGINE}:{catalogue}` is not in {benchmarks.name}: the open-loop CPU a request of "
                f"`search-latency:{ENGINE}:{catalogue}` is used, with no measured ceiling on a pod's rate."
            )
        if search is not None:
            searches.append(search)
        for name in (f"search-max-rate:{ENGINE}:{catalogue}", f"search-latency:{ENGINE}:{catalogue}"):
            movies = re.search(r"\(([\d,]+) movies\)", found.get(name, ""))
            if movies:
                sizes[catalogue] = number(movies.group(1))
    ingest = figures.ugc_ingest(found)
    if ingest is None:
        notes.append("`ugc-ingest` is not in the benchmarks (or lacks its CPU lines): UGC's CPU is assumed.")
    sink = figures.sink_rate(found)
    if sink is None:
        notes.append("`sink-throughput` is not in the benchmarks: the sink's rate is assumed.")
    compressions = figures.compressions(found)
    if not compressions:
        notes.append("No compression section in the benchmarks: ClickHouse storage is not sized.")
    inputs = Inputs(
        load=load,
        headroom=headroom,
        fixed=Fixed(),
        searches=searches,
        ingest=ingest,
        sink_rate=sink,
        compressions=compressions,
        etl_rate=figures.etl_rate(found, ENGINE),
        event_size=playback_event_size(),
        document_sizes=document_sizes(),
        configured=configured(repo),
        catalogue_sizes=sizes,
    )
    return inputs, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[1:]),
    )
    defaults, room = Load(), Headroom()
    parser.add_argument("--benchmarks", type=Path, default=REPO / "docs/benchmarks.md", help="measured figures")
    parser.add_argument("--search-rps", type=float, default=defaults.search_rps, help="peak search requests/s")
    parser.add_argument("--events", type=float, default=defaults.events_per_second, help="peak playback events/s")
    parser.add_argument(
        "--events-per-request", type=float, default=defaults.events_per_request, help="events a UGC request"
    )
    parser.add_argument("--terabytes", type=float, default=defaults.raw_terabytes, help="events to keep, TB of Avro")
    parser.add_argument("--users", type=float, default=defaults.users, help="users with UGC documents")
    parser.add_argument("--utilisation", type=float, default=room.utilisation, help="target CPU utilisation")
    parser.add_argument("--zones", type=int, default=room.zones, help="zones the workloads spread over")
    parser.add_argument("--spare-per-zone", type=int, default=room.spare_per_zone, help="N+1 spares a zone")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section (docs/capacity.md)")
    args = parser.parse_args(argv)
    if not 0 < args.utilisation <= 1 or args.zones < 2 or args.events_per_request < 1:
        parser.error("utilisation is in (0, 1], zones at least 2, events a request at least 1")
    load = Load(args.search_rps, args.events, args.events_per_request, args.terabytes, args.users)
    inputs, notes = read_inputs(
        args.benchmarks, REPO, load, Headroom(args.utilisation, args.zones, args.spare_per_zone)
    )
    section = render(inputs)
    if notes:
        begin, rest = section.split("\n", 1)
        section = begin + "\n" + "".join(f"> Fallback: {note}\n" for note in notes) + "\n" + rest
    publish(section, args.write, MARKS, NEW_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
