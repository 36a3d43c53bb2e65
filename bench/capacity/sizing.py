"""The arithmetic of the plan, on plain numbers: no files, no provenance. Every function rounds up; a fraction of
a pod, a node or a shard is a whole one."""

from __future__ import annotations

import math
from dataclasses import dataclass


def per_pod_rate(cpu_ms: float, utilisation: float, cores: float = 1.0, held_rate: float | None = None) -> float:
    """Requests a second one pod takes at the target utilisation of `cores`, given the CPU milliseconds a request
    costs it; never more than the rate it was seen to hold within its latency bound."""
    if cpu_ms <= 0:
        raise ValueError("CPU a request must be positive")
    by_cpu = utilisation * cores * 1000 / cpu_ms
    return by_cpu if held_rate is None else min(by_cpu, held_rate)


@dataclass(frozen=True)
class Spread:
    needed: int
    """Units that carry the load at the target utilisation."""
    per_zone: int
    """Units each zone runs: its share of `needed` plus the spares."""
    zones: int

    @property
    def total(self) -> int:
        return self.per_zone * self.zones

    def load_after_zone_loss(self, utilisation: float) -> float:
        """Utilisation of the survivors when one zone is gone (the same work on fewer units)."""
        survivors = self.per_zone * (self.zones - 1)
        return math.inf if survivors == 0 else utilisation * self.needed / survivors


def spread(load: float, per_unit: float, zones: int, spare_per_zone: int) -> Spread:
    """`load` over units of `per_unit` each, spread evenly over `zones`, plus `spare_per_zone` in each zone
    (N+1: a unit lost or rolled in a zone costs none of the headroom)."""
    if per_unit <= 0 or zones < 1:
        raise ValueError("a unit must carry something, and there is at least one zone")
    needed = max(1, math.ceil(load / per_unit - 1e-9))
    return Spread(needed, math.ceil(needed / zones) + spare_per_zone, zones)


def nodes(cores: float, node_cores: float) -> int:
    """Nodes of `node_cores` allocatable cores that hold `cores` of pods."""
    return max(1, math.ceil(cores / node_cores - 1e-9))


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class KafkaDisk:
    bytes_per_second: float
    """At the peak rate, one copy."""
    retained_bytes: float
    """The retention window at the mean rate, every replica."""
    per_broker_bytes: float
    """A broker's volume, leaving `free` of it empty."""


def kafka_disk(
    events_per_second: float,
    record_bytes: float,
    *,
    retention_seconds: float,
    mean_to_peak: float,
    replication: int,
    brokers: int,
    free: float,
) -> KafkaDisk:
    per_second = events_per_second * record_bytes
    retained = per_second * mean_to_peak * retention_seconds * replication
    return KafkaDisk(per_second, retained, retained / brokers / (1 - free))


@dataclass(frozen=True)
class AnalyticsDisk:
    events: float
    stored_bytes: float
    """One replica of everything, compressed."""
    shards: int
    per_node_bytes: float
    """A node's volume: its shard's share, leaving `free` empty."""
    total_bytes: float
    """Every replica's volume."""


def analytics_disk(
    raw_bytes: float,
    raw_bytes_per_event: float,
    *,
    stored_bytes_per_event: float,
    node_disk_bytes: float,
    replicas: int,
    free: float,
) -> AnalyticsDisk:
    """`raw_bytes` of events (each `raw_bytes_per_event` as it arrives) stored at `stored_bytes_per_event`,
    cut into shards whose volume (with `free` left empty for merges) fits `node_disk_bytes`."""
    events = raw_bytes / raw_bytes_per_event
    stored = events * stored_bytes_per_event
    needed = stored / (1 - free)
    shards = max(1, math.ceil(needed / node_disk_bytes - 1e-9))
    per_node = needed / shards
    return AnalyticsDisk(events, stored, shards, per_node, per_node * shards * replicas)


@dataclass(frozen=True)
class Documents:
    data_bytes: float
    """Documents and their indexes, one member's copy."""
    shards: int
    """Replica sets: enough for the data per member and for the writes."""


def documents(
    document_bytes: float,
    index_overhead: float,
    *,
    writes_per_second: float,
    member_disk_bytes: float,
    primary_writes_per_second: float,
    utilisation: float,
) -> Documents:
    data = document_bytes * (1 + index_overhead)
    by_size = math.ceil(data / member_disk_bytes - 1e-9)
    by_writes = math.ceil(writes_per_second / (primary_writes_per_second * utilisation) - 1e-9)
    return Documents(data, max(1, by_size, by_writes))


@dataclass(frozen=True)
class SearchIndex:
    index_bytes: float
    primaries: int
    replicas: int
    """Replicas a primary has, so that every data node holds a copy of every shard when the index is one shard."""


def search_index(movies: float, bytes_per_movie: float, shard_bytes: float, data_nodes: int) -> SearchIndex:
    size = movies * bytes_per_movie
    primaries = max(1, math.ceil(size / shard_bytes - 1e-9))
    return SearchIndex(size, primaries, max(1, data_nodes // primaries - 1))
