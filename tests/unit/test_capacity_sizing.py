"""The capacity plan's arithmetic on small inputs computed by hand."""

from __future__ import annotations

import pytest

from bench.capacity import sizing


def test_a_pods_rate_is_its_cpu_at_the_target_capped_by_the_rate_it_held() -> None:
    assert sizing.per_pod_rate(2.0, 0.6) == pytest.approx(300)  # 0.6 × 1000 ms ÷ 2 ms
    assert sizing.per_pod_rate(2.0, 0.6, cores=2) == pytest.approx(600)
    assert sizing.per_pod_rate(2.0, 0.6, held_rate=250) == 250
    assert sizing.per_pod_rate(2.0, 0.6, held_rate=400) == pytest.approx(300)
    with pytest.raises(ValueError, match="positive"):
        sizing.per_pod_rate(0, 0.6)


def test_spread_over_zones_with_a_spare_each() -> None:
    spread = sizing.spread(1000, 100, zones=3, spare_per_zone=1)
    assert (spread.needed, spread.per_zone, spread.total) == (10, 5, 15)  # ceil(10 / 3) + 1 a zone
    # 10 pods' work at 60% on the 2 zones left, 5 pods each: 0.6 × 10 ÷ 10.
    assert spread.load_after_zone_loss(0.6) == pytest.approx(0.6)


def test_spread_rounds_up_and_never_below_one() -> None:
    assert sizing.spread(1001, 100, zones=3, spare_per_zone=0).needed == 11
    assert sizing.spread(1000, 100, zones=3, spare_per_zone=0).needed == 10
    assert sizing.spread(0.1, 100, zones=3, spare_per_zone=0).needed == 1
    tight = sizing.spread(1200, 100, zones=3, spare_per_zone=0)
    assert tight.load_after_zone_loss(0.6) == pytest.approx(0.9)  # 0.6 × 12 ÷ 8


def test_nodes_and_multiples() -> None:
    assert sizing.nodes(14, 7) == 2
    assert sizing.nodes(14.5, 7) == 3
    assert sizing.round_up(7, 3) == 9
    assert sizing.round_up(6, 3) == 6


def test_kafka_disk() -> None:
    disk = sizing.kafka_disk(1000, 100, retention_seconds=86_400, mean_to_peak=0.5, replication=3, brokers=3, free=0.25)
    assert disk.bytes_per_second == 100_000
    assert disk.retained_bytes == pytest.approx(1.296e10)  # 1e5 B/s × 0.5 × 86,400 s × 3
    assert disk.per_broker_bytes == pytest.approx(5.76e9)  # ÷ 3 brokers ÷ 0.75


def test_analytics_disk() -> None:
    disk = sizing.analytics_disk(10e12, 125, stored_bytes_per_event=25, node_disk_bytes=1e12, replicas=3, free=0.5)
    assert disk.events == pytest.approx(8e10)
    assert disk.stored_bytes == pytest.approx(2e12)
    assert disk.shards == 4  # 2 TB stored needs 4 TB of volume at half free
    assert disk.per_node_bytes == pytest.approx(1e12)
    assert disk.total_bytes == pytest.approx(1.2e13)


def test_documents_shard_for_size_or_for_writes() -> None:
    by_writes = sizing.documents(
        1e12, 0.5, writes_per_second=30_000, member_disk_bytes=1e12, primary_writes_per_second=20_000, utilisation=0.5
    )
    assert by_writes.data_bytes == pytest.approx(1.5e12)
    assert by_writes.shards == 3  # 30,000 ÷ (20,000 × 0.5); by size only 2
    by_size = sizing.documents(
        1e12, 0.5, writes_per_second=1000, member_disk_bytes=1e12, primary_writes_per_second=20_000, utilisation=0.5
    )
    assert by_size.shards == 2


def test_search_index_one_copy_a_node() -> None:
    small = sizing.search_index(1e6, 4000, 30e9, data_nodes=9)
    assert (small.index_bytes, small.primaries, small.replicas) == (4e9, 1, 8)
    large = sizing.search_index(10e6, 4000, 30e9, data_nodes=9)
    assert (large.primaries, large.replicas) == (2, 3)  # 40 GB in 2 shards; 9 nodes hold 2 × 4 copies
