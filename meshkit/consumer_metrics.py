"""Prometheus metrics of the bus's consumers: how far each member is behind, per partition it owns."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Gauge

from meshkit.event_consumer import TopicPartition

CONSUMER_LAG = Gauge(
    "cinemesh_consumer_lag_records",
    "Records on the bus beyond this member's position, per partition it owns (EventConsumer.lag).",
    ["group", "topic", "partition"],
)


def report_lag(group: str, lags: Mapping[TopicPartition, int], previous: set[TopicPartition]) -> set[TopicPartition]:
    """Set the lag of the owned partitions and drop the series of those owned before but not now; returns the
    partitions reported, for the next call."""
    for tp, lag in lags.items():
        CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
    for tp in previous - set(lags):
        CONSUMER_LAG.remove(group, tp.topic, str(tp.partition))
    return set(lags)
