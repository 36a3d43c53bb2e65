"""The per-pod figures the plan rests on, each with where it came from: MEASURED (a section of
docs/benchmarks.md, named), ASSUMPTION (the value and why), DERIVED (computed here from our own code) or
CONFIGURED (read from the production manifests in k8s/)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bench.capacity.markdown import Table, millisecond_parts, number, tables


class Basis(Enum):
    MEASURED = "MEASURED"
    ASSUMED = "ASSUMPTION"
    DERIVED = "DERIVED"
    CONFIGURED = "CONFIGURED"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    basis: Basis
    source: str
    """The section it was read from (MEASURED), why this value (ASSUMED), or how it was computed (DERIVED)."""

    def describe(self) -> str:
        return f"{self.basis.value}: {self.source}"


def measured(name: str, value: float, unit: str, section: str, where: str = "") -> Figure:
    return Figure(name, value, unit, Basis.MEASURED, f"`{section}`" + (f", {where}" if where else ""))


def assumed(name: str, value: float, unit: str, why: str) -> Figure:
    return Figure(name, value, unit, Basis.ASSUMED, why)


# --- search -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFigures:
    engine: str
    catalogue: str
    rate_held: Figure | None
    """Highest open-loop rate one search service process answered within the p99 bound (None: not measured)."""
    service_cpu_ms: Figure
    envoy_cpu_ms: Figure
    engine_cpu_ms: Figure | None


def search_max_rate(found: dict[str, str], engine: str, catalogue: str) -> SearchFigures | None:
    """From `search-max-rate:<engine>:<catalogue>`: the highest rate whose p99 held the bound with no failures,
    and the CPU milliseconds a request of each process at that rate."""
    name = f"search-max-rate:{engine}:{catalogue}"
    if name not in found:
        return None
    text = found[name]
    bound_match = re.search(r"p99\s*≤\s*([\d.]+)\s*ms", text)
    table = _first_table(text, "rps")
    if bound_match is None or table is None:
        return None
    bound = float(bound_match.group(1))
    rate_at, p99_at, failed_at = table.column("rps"), table.column("p99"), table.column("failed")
    held = [row for row in table.rows if number(row[p99_at]) <= bound and number(row[failed_at]) == 0]
    if not held:
        return None
    best = max(held, key=lambda row: number(row[rate_at]))
    rate = number(best[rate_at])
    where = f"at {rate:g} rps"

    def cpu(process: str) -> Figure | None:
        try:
            index = table.column(f"CPU {process}")
        except KeyError:
            return None
        return measured(f"{process} CPU a request", number(best[index]), "ms", name, where)

    service, envoy = cpu("search service"), cpu("Envoy")
    if service is None or envoy is None:
        return None
    held_rate = measured("rate held within the p99 bound", rate, "rps", name, f"p99 ≤ {bound:g} ms")
    return SearchFigures(engine, catalogue, held_rate, service, envoy, cpu(engine))


def search_open_loop(found: dict[str, str], engine: str, catalogue: str) -> SearchFigures | None:
    """From `search-latency:<engine>:<catalogue>`: CPU milliseconds a request of each process in the open-loop
    run (no highest rate: that run is at one fixed rate)."""
    name = f"search-latency:{engine}:{catalogue}"
    if name not in found:
        return None
    match = re.search(r"CPU per request in the open-loop run:([^;\n]*)", found[name])
    if match is None:
        return None
    parts = millisecond_parts(match.group(1))
    rate = re.search(r"open loop at (\d+) rps", found[name])
    where = f"open loop at {rate.group(1)} rps" if rate else "open loop"
    if "search service" not in parts or "Envoy" not in parts:
        return None

    def cpu(process: str) -> Figure | None:
        if process not in parts:
            return None
        return measured(f"{process} CPU a request", parts[process], "ms", name, where)

    service, envoy = cpu("search service"), cpu("Envoy")
    assert service is not None  # checked above
    assert envoy is not None
    return SearchFigures(engine, catalogue, None, service, envoy, cpu(engine))


def search_catalogues(found: dict[str, str], engine: str) -> list[str]:
    """Catalogues measured for `engine`, in the order their sections appear."""
    names = []
    for section in found:
        for prefix in (f"search-max-rate:{engine}:", f"search-latency:{engine}:"):
            if section.startswith(prefix) and section[len(prefix) :] not in names:
                names.append(section[len(prefix) :])
    return names


# --- UGC ingest -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestFigures:
    request_cpu_ms: Figure
    """The UGC service's CPU a request of one event (gRPC, validation, Avro, Kafka ack)."""
    event_cpu_ms: Figure
    """What each further event of a batch adds."""
    envoy_cpu_ms: Figure | None


def ugc_ingest(found: dict[str, str]) -> IngestFigures | None:
    """From `ugc-ingest`: the CPU lines of the single-event and the batch runs; the per-event cost is the
    difference spread over the batch's further events."""
    name = "ugc-ingest"
    if name not in found:
        return None
    text = found[name]
    single = re.search(r"^- single-event ingest:(.*)$", text, re.MULTILINE)
    batch = re.search(r"^- (\d+)-event batches:(.*)$", text, re.MULTILINE)
    if single is None or batch is None:
        return None
    one, many, size = millisecond_parts(single.group(1)), millisecond_parts(batch.group(2)), int(batch.group(1))
    if "UGC service" not in one or "UGC service" not in many or size < 2:
        return None
    per_event = max(0.0, (many["UGC service"] - one["UGC service"]) / (size - 1))
    request = measured("UGC service CPU a 1-event request", one["UGC service"], "ms", name, "single-event run")
    event = Figure(
        "UGC service CPU a further event in a batch",
        per_event,
        "ms",
        Basis.MEASURED,
        f"`{name}`: ({many['UGC service']:g} − {one['UGC service']:g} ms) ÷ {size - 1}, the {size}-event and "
        "single-event runs",
    )
    envoy = (
        measured("Envoy CPU a UGC request", one["Envoy"], "ms", name, "single-event run") if "Envoy" in one else None
    )
    return IngestFigures(request, event, envoy)


# --- sink -----------------------------------------------------------------------------------------------------------


def sink_rate(found: dict[str, str]) -> Figure | None:
    """From `sink-throughput`: events a second one sink process carried from Kafka into ClickHouse, after its
    first commit (start-up left out), else from its spawn."""
    name = "sink-throughput"
    if name not in found:
        return None
    table = _first_table(found[name], "events/s")
    if table is None:
        return None
    rate = table.column("events/s")
    for start, where in (("sink: first commit", "first commit → last commit"), ("sink:", "spawn → last commit")):
        row = table.row(start)
        if row is not None:
            return measured("sink events a second, one process", number(row[rate]), "events/s", name, where)
    return None


# --- the catalogue ETL ---------------------------------------------------------------------------------------------


def etl_rate(found: dict[str, str], engine: str) -> Figure | None:
    """From `etl-throughput`: movies a second the ETL command loads into `engine` (workers, the default)."""
    name = "etl-throughput"
    if name not in found:
        return None
    table = _first_table(found[name], "movies/s")
    if table is None:
        return None
    engine_at, path_at, rate_at = table.column("engine"), table.column("path"), table.column("movies/s")
    for row in table.rows:
        if row[engine_at].lower() == engine and row[path_at].replace("`", "").startswith("ETL: python -m etl load"):
            return measured("ETL movies a second", number(row[rate_at]), "movies/s", name, f"{engine}, {row[path_at]}")
    return None


# --- analytics store ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compression:
    table: str
    """The benchmark's row: engine and table definition."""
    stored_bytes_per_row: Figure
    raw_bytes_per_row: Figure
    ratio: Figure


def compressions(found: dict[str, str]) -> list[Compression]:
    """Every row of the compression section (`analytics-compression`, or any section named for compression)."""
    names = [name for name in found if "compression" in name]
    if not names:
        return []
    name = "analytics-compression" if "analytics-compression" in names else names[0]
    table = _first_table(found[name], "bytes/row")
    if table is None:
        return []
    rows_at, raw_at = table.column("rows after merge", "rows"), table.column("uncompressed MiB")
    ratio_at, stored_at = table.column("ratio"), table.column("bytes/row")
    found_rows = []
    for row in table.rows:
        label = row[0]
        raw = number(row[raw_at]) * 2**20 / number(row[rows_at])
        found_rows.append(
            Compression(
                label,
                measured("stored bytes an event", number(row[stored_at]), "bytes", name, label),
                Figure(
                    "uncompressed bytes an event",
                    raw,
                    "bytes",
                    Basis.MEASURED,
                    f"`{name}`, {label}: {row[raw_at]} MiB ÷ {row[rows_at]} rows",
                ),
                measured("compression ratio", number(row[ratio_at]), "×", name, label),
            )
        )
    return found_rows


def _first_table(text: str, column: str) -> Table | None:
    for table in tables(text):
        try:
            table.column(column)
        except KeyError:
            continue
        return table
    return None
