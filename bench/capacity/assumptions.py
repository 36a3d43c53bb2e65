"""What the plan assumes where nothing of ours measured it, each with its reason. The command-line options of
`python -m bench.capacity` override the load and the headroom; the rest change here, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.capacity.figures import Figure, assumed


def _figure(name: str, value: float, unit: str, why: str) -> Figure:
    return assumed(name, value, unit, why)


@dataclass(frozen=True)
class Load:
    search_rps: float = 10_000
    events_per_second: float = 10_000
    events_per_request: float = 1
    raw_terabytes: float = 10
    users: float = 10_000_000

    def figures(self) -> list[Figure]:
        return [
            _figure("search requests a second (peak)", self.search_rps, "rps", "the load to plan for"),
            _figure("playback events a second (peak)", self.events_per_second, "events/s", "the load to plan for"),
            _figure(
                "events a UGC request",
                self.events_per_request,
                "",
                "players report each event as it happens; batching (up to 500 a request) only lowers the cost",
            ),
            _figure("events to keep in the analytics store", self.raw_terabytes, "TB", "10 TB as they arrive (Avro)"),
            _figure("users with UGC documents", self.users, "", "the audience to plan for"),
        ]


@dataclass(frozen=True)
class Headroom:
    utilisation: float = 0.6
    zones: int = 3
    spare_per_zone: int = 1

    def figures(self) -> list[Figure]:
        after = self.utilisation * self.zones / max(1, self.zones - 1)
        return [
            _figure(
                "target utilisation",
                self.utilisation,
                "",
                f"with {self.zones} zones, losing one puts the survivors at {after:.0%}, still below saturation",
            ),
            _figure("zones", self.zones, "", "k8s/overlays/prod spreads every workload and engine over three zones"),
            _figure(
                "spare units a zone (N+1)",
                self.spare_per_zone,
                "",
                "a pod or node lost or rolled in a zone costs none of the headroom",
            ),
        ]


@dataclass(frozen=True)
class Fixed:
    """Figures no benchmark of ours gives yet; each says why its value."""

    service_cores: Figure = field(
        default_factory=lambda: _figure(
            "cores a service pod uses",
            1,
            "cores",
            "one asyncio event loop uses one core at most; the Deployments' CPU limit is 1",
        )
    )
    envoy_cores: Figure = field(
        default_factory=lambda: _figure("cores a gateway pod uses", 1, "cores", "the gateway Deployment's CPU limit")
    )
    node_cores: Figure = field(
        default_factory=lambda: _figure(
            "allocatable cores a node", 7, "cores", "an 8-vCPU node less what the kubelet and the system reserve"
        )
    )
    event_cpu_ms: Figure = field(
        default_factory=lambda: _figure(
            "UGC CPU a further event of a request",
            1000 / 70_000,
            "ms",
            "one Python process serialised and produced about 70,000 Avro records a second with confluent-kafka "
            "on the build machines (seen, not in docs/benchmarks.md)",
        )
    )
    sink_rate: Figure = field(
        default_factory=lambda: _figure(
            "sink events a second, one process",
            10_000,
            "events/s",
            "a fifth of the ~50,000/s that consuming and decoding (~55,000 records/s seen on the build machines) and "
            "inserting (clickhouse-driver ~0.6M rows/s, docs/engines.md) alone allow one process: the rest for "
            "batching, dead letters and commits, until `sink-throughput` is measured",
        )
    )
    record_overhead: Figure = field(
        default_factory=lambda: _figure(
            "Kafka bytes a record beyond key and value",
            12,
            "bytes",
            "record framing (length, attributes, deltas, key and value lengths, header count) plus the batch "
            "header shared by the records of a batch; producers do not compress",
        )
    )
    mean_to_peak: Figure = field(
        default_factory=lambda: _figure(
            "mean rate ÷ peak rate", 0.5, "", "evening peaks: a day's volume is half of the peak rate all day"
        )
    )
    disk_free: Figure = field(
        default_factory=lambda: _figure(
            "volume kept free", 0.3, "", "merges (ClickHouse) and segment rolls (Kafka) need room; alerts at 70% full"
        )
    )
    analytics_node_disk: Figure = field(
        default_factory=lambda: _figure(
            "ClickHouse volume a node", 4, "TB", "a size cloud block volumes serve at full speed; restores stay hours"
        )
    )
    movie_index_bytes: Figure = field(
        default_factory=lambda: _figure(
            "OpenSearch bytes a movie",
            4096,
            "bytes",
            "title, people, description with lemma fields, edge n-grams and suggestions; not measured yet",
        )
    )
    shard_bytes: Figure = field(
        default_factory=lambda: _figure(
            "OpenSearch primary shard size", 30e9, "bytes", "OpenSearch's guidance: 10–50 GB a shard"
        )
    )
    positions_per_user: Figure = field(
        default_factory=lambda: _figure("resume positions a user", 100, "", "movies a user started, over years")
    )
    favourites_per_user: Figure = field(
        default_factory=lambda: _figure("favourites a user", 20, "", "a short list; not measured")
    )
    ratings_per_user: Figure = field(default_factory=lambda: _figure("ratings a user", 20, "", "not measured"))
    rated_movies: Figure = field(
        default_factory=lambda: _figure("movies with a rating summary", 1_000_000, "", "the 1M-movie catalogue")
    )
    index_overhead: Figure = field(
        default_factory=lambda: _figure(
            "MongoDB indexes ÷ documents",
            0.6,
            "",
            "three indexes a collection (_id, user+movie, the list order) over short keys, uncompressed",
        )
    )
    member_disk: Figure = field(
        default_factory=lambda: _figure(
            "MongoDB data a member", 2e12, "bytes", "initial sync and restore of a member stay within hours"
        )
    )
    primary_writes: Figure = field(
        default_factory=lambda: _figure(
            "single-document writes a second, one primary",
            20_000,
            "writes/s",
            "a planning figure for one replica set's primary on 8 vCPU with SSDs and w:majority; not measured "
            "here (FerretDB is not MongoDB, docs/ugc-mongodb.md)",
        )
    )
    position_writes_per_event: Figure = field(
        default_factory=lambda: _figure(
            "resume-position writes a playback event",
            1,
            "",
            "at most one: a projection of the events writes a user's position (ADR 0007: to decide)",
        )
    )
