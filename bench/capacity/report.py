"""The plan as Markdown: the inputs with their provenance, then one table per question, each under a heading the
decision records cite (docs/capacity.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.capacity import sizing
from bench.capacity.assumptions import Fixed, Headroom, Load
from bench.capacity.figures import (
    Basis,
    Compression,
    Figure,
    IngestFigures,
    SearchFigures,
    assumed,
)
from bench.capacity.record_sizes import EventSize

MARKS = ("<!-- capacity:begin -->", "<!-- capacity:end -->")
TB = 1e12
GB = 1e9
GIB = 2**30


@dataclass(frozen=True)
class Inputs:
    load: Load
    headroom: Headroom
    fixed: Fixed
    searches: list[SearchFigures]
    """OpenSearch, one per catalogue measured."""
    ingest: IngestFigures | None
    sink_rate: Figure | None
    compressions: list[Compression]
    etl_rate: Figure | None
    event_size: EventSize
    document_sizes: dict[str, int]
    configured: dict[str, Figure]
    catalogue_sizes: dict[str, float]


def render(inputs: Inputs) -> str:
    used: list[Figure] = [*inputs.load.figures(), *inputs.headroom.figures(), *_derived(inputs)]
    pods: dict[str, int] = {}
    """Pods of each workload (search and gateway by catalogue), for the node count."""
    blocks = [
        _search(inputs, used, pods),
        _gateway(inputs, used, pods),
        _opensearch(inputs, used),
        _rebuild(inputs, used),
        _ugc(inputs, used, pods),
        _sink(inputs, used, pods),
        _kafka(inputs, used),
        _analytics(inputs, used),
        _documents(inputs, used),
        _nodes(inputs, pods),
    ]
    lines = [MARKS[0], "## Inputs", "", "| figure | value | basis: where from, or why |", "|---|---|---|"]
    seen: set[tuple[str, str]] = set()
    for figure in used:
        if (figure.name, figure.source) in seen:
            continue
        seen.add((figure.name, figure.source))
        lines.append(f"| {figure.name} | {_value(figure)} | {figure.describe()} |")
    lines.append("")
    for block in blocks:
        lines += [block, ""]
    lines.append(MARKS[1])
    return "\n".join(lines)


def _derived(inputs: Inputs) -> list[Figure]:
    size = inputs.event_size
    how = f"{size.events:,} generated playback events (tests/playback_streams.py) encoded by meshkit.avro_wire"
    found = [
        Figure("Kafka value a playback event (framed Avro)", size.value_bytes, "bytes", Basis.DERIVED, how),
        Figure("Kafka key a playback event (user id)", size.key_bytes, "bytes", Basis.DERIVED, how),
    ]
    for name, length in inputs.document_sizes.items():
        found.append(
            Figure(
                f"BSON bytes a {name} document",
                length,
                "bytes",
                Basis.DERIVED,
                "the document docs/ugc-mongodb.md shows, with a uuid user id, encoded by bson",
            )
        )
    return found


# --- the tables -----------------------------------------------------------------------------------------------------


def _search(inputs: Inputs, used: list[Figure], pods: dict[str, int]) -> str:
    h, cores = inputs.headroom, inputs.fixed.service_cores
    used.append(cores)
    lines = [
        "### Search: service pods",
        "",
        f"{_rate(inputs.load.search_rps)} search requests a second. A pod takes the rate its CPU a request allows at "
        f"{h.utilisation:.0%} of {cores.value:g} core, and never more than one process was seen to hold within the "
        "p99 bound, when a highest-rate run measured it with the engine inside that process. With the engine a "
        "process of its own on the benchmark's two cores (OpenSearch), the first rate to miss was the machine's "
        "limit, not the service's (which had most of a core to spare there): production gives the engine nodes of "
        "its own, so that rate is shown, not applied.",
        "",
        "| catalogue | CPU a request | rate held within p99 | a pod's rate | pods needed | a zone (N+1) | total "
        "| load after a zone is lost | HPA maximum today |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    hpa = inputs.configured["search max pods"]
    used.append(hpa)
    if not inputs.searches:
        return "\n".join([*lines[:2], "No search figures in docs/benchmarks.md: nothing to size."])
    for search in inputs.searches:
        used.append(search.service_cpu_ms)
        held = search.rate_held
        if held is not None:
            used.append(held)
        ceiling = held if search.engine_cpu_ms is None else None
        rate = sizing.per_pod_rate(
            search.service_cpu_ms.value, h.utilisation, cores.value, ceiling.value if ceiling else None
        )
        spread = sizing.spread(inputs.load.search_rps, rate, h.zones, h.spare_per_zone)
        pods[f"search:{search.catalogue}"] = spread.total
        lines.append(
            f"| {search.catalogue} | {search.service_cpu_ms.value:g} ms | "
            f"{_held(held, applied=ceiling is not None)} | {rate:,.0f} rps | {spread.needed} | "
            f"{spread.per_zone} | {spread.total} | {spread.load_after_zone_loss(h.utilisation):.0%} | "
            f"{hpa.value:g} |"
        )
    return "\n".join(lines)


def _held(held: Figure | None, *, applied: bool) -> str:
    if held is None:
        return "not measured"
    return f"{held.value:,.0f} rps" + ("" if applied else " (the machine's, not applied)")


def _ugc_requests(inputs: Inputs) -> float:
    return inputs.load.events_per_second / inputs.load.events_per_request


def _gateway(inputs: Inputs, used: list[Figure], pods: dict[str, int]) -> str:
    h, cores = inputs.headroom, inputs.fixed.envoy_cores
    used.append(cores)
    hpa = inputs.configured["gateway max pods"]
    used.append(hpa)
    lines = [
        "### Gateway: Envoy pods",
        "",
        "Every REST request crosses Envoy (JWT check for UGC, transcoding): search and UGC requests together.",
        "",
        "| catalogue | search rps × CPU | UGC requests/s × CPU | cores at the target | pods needed | a zone (N+1) "
        "| total | load after a zone is lost | HPA maximum today |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ugc_envoy = inputs.ingest.envoy_cpu_ms if inputs.ingest and inputs.ingest.envoy_cpu_ms else None
    for search in inputs.searches:
        used.append(search.envoy_cpu_ms)
        ugc_cpu = ugc_envoy or assumed(
            "Envoy CPU a UGC request",
            search.envoy_cpu_ms.value,
            "ms",
            f"as a search request ({search.envoy_cpu_ms.describe()}) until `ugc-ingest` measures it",
        )
        used.append(ugc_cpu)
        busy = (inputs.load.search_rps * search.envoy_cpu_ms.value + _ugc_requests(inputs) * ugc_cpu.value) / 1000
        spread = sizing.spread(busy, h.utilisation * cores.value, h.zones, h.spare_per_zone)
        pods[f"gateway:{search.catalogue}"] = spread.total
        lines.append(
            f"| {search.catalogue} | {_rate(inputs.load.search_rps)} × {search.envoy_cpu_ms.value:g} ms | "
            f"{_rate(_ugc_requests(inputs))} × {ugc_cpu.value:g} ms | {busy / h.utilisation:.1f} | {spread.needed} | "
            f"{spread.per_zone} | {spread.total} | {spread.load_after_zone_loss(h.utilisation):.0%} | {hpa.value:g} |"
        )
    return "\n".join(lines)


def _opensearch(inputs: Inputs, used: list[Figure]) -> str:
    h, node_cores = inputs.headroom, inputs.fixed.node_cores
    used += [node_cores, inputs.fixed.movie_index_bytes, inputs.fixed.shard_bytes]
    configured = inputs.configured["opensearch nodes"]
    used.append(configured)
    lines = [
        "### Search: OpenSearch data nodes and index",
        "",
        "Data nodes of one pool per zone, each a whole node. The catalogue fits one primary shard, so every node holds "
        "a copy (replicas = nodes − 1): any zone answers every search alone, and a search costs one shard copy.",
        "",
        "| catalogue | movies | engine CPU a request | cores at the target | nodes needed | a zone (N+1) | total "
        "| load after a zone is lost | index size | primaries | replicas | data nodes today |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for search in inputs.searches:
        if search.engine_cpu_ms is None:
            lines.append(f"| {search.catalogue} | | not measured | | | | | | | | | {configured.value:g} |")
            continue
        used.append(search.engine_cpu_ms)
        cores = inputs.load.search_rps * search.engine_cpu_ms.value / 1000 / h.utilisation
        spread = sizing.spread(cores, node_cores.value, h.zones, h.spare_per_zone)
        movies = inputs.catalogue_sizes.get(search.catalogue, math.nan)
        index = sizing.search_index(
            movies if not math.isnan(movies) else 0,
            inputs.fixed.movie_index_bytes.value,
            inputs.fixed.shard_bytes.value,
            spread.total,
        )
        lines.append(
            f"| {search.catalogue} | {movies:,.0f} | {search.engine_cpu_ms.value:g} ms | {cores:.1f} | {spread.needed} "
            f"| {spread.per_zone} | {spread.total} | {spread.load_after_zone_loss(h.utilisation):.0%} | "
            f"{_bytes(index.index_bytes)} | {index.primaries} | {index.replicas} | {configured.value:g} |"
        )
    return "\n".join(lines)


def _rebuild(inputs: Inputs, used: list[Figure]) -> str:
    lines = [
        "### Search: rebuilding the catalogue",
        "",
        "The index holds nothing the legacy export does not: a region that lost it, or a new cluster, gets it back "
        "by one ETL run (publish-and-swap), at the ETL's measured rate.",
        "",
        "| catalogue | movies | ETL rate | one run |",
        "|---|---|---|---|",
    ]
    if inputs.etl_rate is None:
        return "\n".join([*lines[:2], "No `etl-throughput` figure for OpenSearch in docs/benchmarks.md."])
    used.append(inputs.etl_rate)
    for search in inputs.searches:
        movies = inputs.catalogue_sizes.get(search.catalogue)
        if movies is None:
            continue
        seconds = movies / inputs.etl_rate.value
        lines.append(
            f"| {search.catalogue} | {movies:,.0f} | {inputs.etl_rate.value:,.0f} movies/s | {_duration(seconds)} |"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


def _ugc(inputs: Inputs, used: list[Figure], pods: dict[str, int]) -> str:
    h, cores = inputs.headroom, inputs.fixed.service_cores
    hpa = inputs.configured["ugc max pods"]
    used.append(hpa)
    if inputs.ingest is not None:
        request, event = inputs.ingest.request_cpu_ms, inputs.ingest.event_cpu_ms
    else:
        search = next(
            (s for s in inputs.searches if s.catalogue == "movies-legacy"),
            inputs.searches[0] if inputs.searches else None,
        )
        request = assumed(
            "UGC CPU a 1-event request",
            search.service_cpu_ms.value if search else 3.0,
            "ms",
            (
                f"as the search service's request ({search.service_cpu_ms.describe()}): the same interceptor, "
                "validation and one engine round trip"
                if search
                else "no search figure either"
            )
            + "; `ugc-ingest` is not in docs/benchmarks.md",
        )
        event = inputs.fixed.event_cpu_ms
    used += [request, event]
    per_request = request.value + event.value * (inputs.load.events_per_request - 1)
    rate = sizing.per_pod_rate(per_request, h.utilisation, cores.value)
    spread = sizing.spread(_ugc_requests(inputs), rate, h.zones, h.spare_per_zone)
    pods["ugc"] = spread.total
    return "\n".join(
        [
            "### UGC: ingest pods",
            "",
            "| events/s | events a request | requests/s | CPU a request | a pod's rate | pods needed | a zone (N+1) | "
            "total | load after a zone is lost | HPA maximum today |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {_rate(inputs.load.events_per_second)} | {inputs.load.events_per_request:g} | "
            f"{_rate(_ugc_requests(inputs))} | {per_request:.2f} ms | {rate:,.0f} rps | {spread.needed} | "
            f"{spread.per_zone} | {spread.total} | {spread.load_after_zone_loss(h.utilisation):.0%} | {hpa.value:g} |",
        ]
    )


def _partitions(inputs: Inputs) -> tuple[sizing.Spread, int]:
    h = inputs.headroom
    rate = inputs.sink_rate or inputs.fixed.sink_rate
    spread = sizing.spread(inputs.load.events_per_second, rate.value * h.utilisation, h.zones, h.spare_per_zone)
    brokers = int(inputs.configured["brokers"].value)
    return spread, sizing.round_up(max(spread.total, int(inputs.configured["topic partitions"].value)), brokers)


def _sink(inputs: Inputs, used: list[Figure], pods: dict[str, int]) -> str:
    h = inputs.headroom
    rate = inputs.sink_rate or inputs.fixed.sink_rate
    used.append(rate)
    for name in ("sink max pods", "topic partitions", "brokers"):
        used.append(inputs.configured[name])
    spread, partitions = _partitions(inputs)
    pods["sink"] = spread.total
    return "\n".join(
        [
            "### Sink: pods and Kafka partitions",
            "",
            "A partition has one consumer of the group, so the playback topic needs at least as many partitions as "
            "sink pods, spares included, rounded up to a multiple of the brokers (leaders spread evenly). Adding "
            "partitions later moves users to other partitions (keys are hashed over the count): size it once.",
            "",
            "| events/s | a sink pod's rate | pods needed | a zone (N+1) | total | load after a zone is lost | "
            "partitions needed | partitions today | HPA maximum today |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {_rate(inputs.load.events_per_second)} | {rate.value * h.utilisation:,.0f} events/s "
            f"({h.utilisation:.0%} of {rate.value:,.0f}) | {spread.needed} | {spread.per_zone} | {spread.total} | "
            f"{spread.load_after_zone_loss(h.utilisation):.0%} | {partitions} | "
            f"{inputs.configured['topic partitions'].value:g} | {inputs.configured['sink max pods'].value:g} |",
        ]
    )


def _record_bytes(inputs: Inputs) -> float:
    size = inputs.event_size
    return size.value_bytes + size.key_bytes + inputs.fixed.record_overhead.value


def _kafka(inputs: Inputs, used: list[Figure]) -> str:
    fixed, configured = inputs.fixed, inputs.configured
    used += [fixed.record_overhead, fixed.mean_to_peak, fixed.disk_free]
    used += [configured[name] for name in ("retention", "topic replicas", "broker volume")]
    size = inputs.event_size
    disk = sizing.kafka_disk(
        inputs.load.events_per_second,
        _record_bytes(inputs),
        retention_seconds=configured["retention"].value * 86_400,
        mean_to_peak=fixed.mean_to_peak.value,
        replication=int(configured["topic replicas"].value),
        brokers=int(configured["brokers"].value),
        free=fixed.disk_free.value,
    )
    day = disk.bytes_per_second * fixed.mean_to_peak.value * 86_400
    return "\n".join(
        [
            "### Kafka: retention of the playback topic",
            "",
            f"A record: {size.value_bytes:.1f} bytes of framed Avro value and {size.key_bytes:.0f} of key (DERIVED: "
            f"{size.events:,} generated events encoded by the UGC service's encoder) plus "
            f"{fixed.record_overhead.value:g} of framing. Brokers hold the replicas evenly.",
            "",
            "| record | peak MB/s (one copy) | a day at the mean rate | retention | retained, all replicas | "
            "a broker's volume (30% free) | a broker's volume today |",
            "|---|---|---|---|---|---|---|",
            f"| {_record_bytes(inputs):.0f} B | {disk.bytes_per_second / 1e6:.2f} | {_bytes(day)} | "
            f"{configured['retention'].value:g} days × RF {configured['topic replicas'].value:g} | "
            f"{_bytes(disk.retained_bytes)} | {_bytes(disk.per_broker_bytes)} | "
            f"{configured['broker volume'].value:g} GiB |",
        ]
    )


def _analytics(inputs: Inputs, used: list[Figure]) -> str:
    fixed, configured = inputs.fixed, inputs.configured
    used += [fixed.analytics_node_disk, fixed.disk_free]
    used += [configured[name] for name in ("clickhouse shards", "clickhouse replicas", "clickhouse volume")]
    replicas = int(configured["clickhouse replicas"].value)
    raw = inputs.load.raw_terabytes * TB
    per_day = inputs.load.events_per_second * fixed.mean_to_peak.value * 86_400
    lines = [
        "### Analytics: events in ClickHouse",
        "",
        f"{inputs.load.raw_terabytes:g} TB of events as they arrive ({inputs.event_size.value_bytes:.1f} bytes of "
        f"Avro each), stored at the measured bytes an event; shards of at most "
        f"{fixed.analytics_node_disk.value:g} TB a volume with {fixed.disk_free.value:.0%} kept free for merges; "
        f"{replicas} replicas of every shard, one a zone (ReplicatedMergeTree), and 3 Keeper nodes, one a zone. "
        f"Production runs ClickHouse 25.8 (k8s), which takes the table with codecs: the chDB-with-codecs row is its "
        f"estimate; the 18.16 rows are the devstack's server.",
        "",
        "| table as measured | ratio (uncompressed rows) | stored bytes an event | Avro ÷ stored | events in "
        f"{inputs.load.raw_terabytes:g} TB | one replica, compressed | shards | a node's volume | all {replicas} "
        "replicas | days at the mean rate | shards × volume today |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if not inputs.compressions:
        lines.append("| no compression figures in docs/benchmarks.md | | | | | | | | | | |")
    for compression in inputs.compressions:
        used += [compression.ratio, compression.stored_bytes_per_row]
        disk = sizing.analytics_disk(
            raw,
            inputs.event_size.value_bytes,
            stored_bytes_per_event=compression.stored_bytes_per_row.value,
            node_disk_bytes=fixed.analytics_node_disk.value * TB,
            replicas=replicas,
            free=fixed.disk_free.value,
        )
        lines.append(
            f"| {compression.table} | {compression.ratio.value:g}× | {compression.stored_bytes_per_row.value:g} | "
            f"{inputs.event_size.value_bytes / compression.stored_bytes_per_row.value:.1f}× | "
            f"{disk.events / 1e9:,.1f} billion | {_bytes(disk.stored_bytes)} | {disk.shards} | "
            f"{_bytes(disk.per_node_bytes)} | {_bytes(disk.total_bytes)} | {disk.events / per_day:,.0f} | "
            f"{configured['clickhouse shards'].value:g} × {configured['clickhouse volume'].value:g} GiB |"
        )
    return "\n".join(lines)


def _documents(inputs: Inputs, used: list[Figure]) -> str:
    fixed, load, h = inputs.fixed, inputs.load, inputs.headroom
    per_user = {
        "resume_positions": fixed.positions_per_user,
        "favourites": fixed.favourites_per_user,
        "ratings": fixed.ratings_per_user,
    }
    used += [*per_user.values(), fixed.rated_movies, fixed.index_overhead, fixed.member_disk, fixed.primary_writes]
    used += [fixed.position_writes_per_event, inputs.configured["mongodb members"]]
    lines = [
        "### UGC documents: MongoDB replica set",
        "",
        "Document bytes: DERIVED, BSON of the documents docs/ugc-mongodb.md shows, with a uuid user id. Every member "
        "holds all the data; writes go to the primary with w:majority (two of three zones).",
        "",
        "| collection | bytes a document | documents | documents and indexes |",
        "|---|---|---|---|",
    ]
    total_docs = 0.0
    for name, count in per_user.items():
        documents = load.users * count.value
        total_docs += documents * inputs.document_sizes[name]
        data = documents * inputs.document_sizes[name] * (1 + fixed.index_overhead.value)
        lines.append(f"| {name} | {inputs.document_sizes[name]} | {documents:,.0f} | {_bytes(data)} |")
    summaries = fixed.rated_movies.value * inputs.document_sizes["movie_ratings"]
    total_docs += summaries
    lines.append(
        f"| movie_ratings | {inputs.document_sizes['movie_ratings']} | {fixed.rated_movies.value:,.0f} | "
        f"{_bytes(summaries * (1 + fixed.index_overhead.value))} |"
    )
    writes = load.events_per_second * fixed.position_writes_per_event.value
    plan = sizing.documents(
        total_docs,
        fixed.index_overhead.value,
        writes_per_second=writes,
        member_disk_bytes=fixed.member_disk.value,
        primary_writes_per_second=fixed.primary_writes.value,
        utilisation=h.utilisation,
    )
    members = int(inputs.configured["mongodb members"].value)
    lines += [
        "",
        "| data a member | position writes/s (peak) | replica sets (shards) | members | members today |",
        "|---|---|---|---|---|",
        f"| {_bytes(plan.data_bytes)} | {_rate(writes)} | {plan.shards} | {plan.shards} × {members} | {members} |",
    ]
    return "\n".join(lines)


def _nodes(inputs: Inputs, pods: dict[str, int]) -> str:
    h, fixed = inputs.headroom, inputs.fixed
    lines = [
        "### Nodes for the mesh",
        "",
        f"Service and gateway pods at one core each, packed on nodes of {fixed.node_cores.value:g} allocatable "
        "cores, a zone at a time (engines run on nodes of their own, above).",
        "",
        "| catalogue | search | gateway | ugc | sink | pods | nodes a zone | nodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for search in inputs.searches:
        counts = [
            pods.get(f"search:{search.catalogue}", 0),
            pods.get(f"gateway:{search.catalogue}", 0),
            pods.get("ugc", 0),
            pods.get("sink", 0),
        ]
        total = sum(counts)
        per_zone = sizing.nodes(total / h.zones * fixed.service_cores.value, fixed.node_cores.value)
        lines.append(
            f"| {search.catalogue} | " + " | ".join(str(count) for count in counts) + f" | {total} | {per_zone} | "
            f"{per_zone * h.zones} |"
        )
    return "\n".join(lines)


# --- formatting -----------------------------------------------------------------------------------------------------


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _bytes(value: float) -> str:
    for unit, size in (("TB", TB), ("GB", GB), ("MB", 1e6)):
        if value >= size:
            return f"{value / size:,.{1 if value < 100 * size else 0}f} {unit}"
    return f"{value:,.0f} B"


def _value(figure: Figure) -> str:
    if figure.unit == "bytes" and figure.value >= 1e6:
        text = _bytes(figure.value)
    elif figure.value >= 1000:
        text = f"{figure.value:,.0f}"
    elif figure.unit == "bytes":
        text = f"{figure.value:.1f}".removesuffix(".0")
    else:
        text = f"{figure.value:.4g}"
    unit = "" if figure.unit in ("", "bytes") and text.endswith("B") else figure.unit
    if unit == "cores" and figure.value == 1:
        unit = "core"
    return f"{text} {unit}".strip()


__all__ = ["MARKS", "Basis", "Inputs", "render"]
