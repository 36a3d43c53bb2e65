"""LoadMetrics as Prometheus metrics on the service's metrics port.

- sink_consumer_lag{topic,partition}: records on the bus beyond the consumer's position (a gauge per owned
  partition, set every few seconds);
- sink_batch_events: events a committed batch held (histogram);
- sink_insert_seconds: time the analytics store took to take a batch, retries included (histogram);
- sink_events_loaded_total, sink_dead_letters_total{reason}: counters;
- sink_freshness_seconds: from the server time of a batch's oldest event to the batch being committed, i.e.
  queryable (histogram, one observation a batch: its stalest event, so a percentile of it bounds every event's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence

from prometheus_client import Counter, Gauge, Histogram

from meshkit.event_consumer import TopicPartition
from sink_svc.domain.event_batch import EventBatch

_LAG = Gauge("sink_consumer_lag", "Records on the bus beyond the consumer's position.", ["topic", "partition"])
_BATCH = Histogram(
    "sink_batch_events", "Events in a committed batch.", buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000)
)
_INSERT = Histogram(
    "sink_insert_seconds",
    "Time the analytics store took to take a batch, retries included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
_LOADED = Counter("sink_events_loaded_total", "Events in committed batches (a redelivered event counts again).")
_DEAD = Counter("sink_dead_letters_total", "Records sent to the dead-letter topic.", ["reason"])
_FRESHNESS = Histogram(
    "sink_freshness_seconds",
    "From the server time of a batch's oldest event to the batch being committed (its rows queryable).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)


class PrometheusLoadMetrics:
    def batch(
        self, batch: EventBatch, dead_letter_reasons: Sequence[str], insert_seconds: float, freshness: Sequence[float]
    ) -> None:
        _BATCH.observe(len(batch.events))
        _INSERT.observe(insert_seconds)
        _LOADED.inc(len(batch.events))
        for reason in dead_letter_reasons:
            _DEAD.labels(reason=reason).inc()
        # One observation a batch, its stalest event: per event it cost more than the rest of the bookkeeping.
        if freshness:
            _FRESHNESS.observe(max(0.0, *freshness))

    def lag(self, lag: Mapping[TopicPartition, int]) -> None:
        for tp, records in lag.items():
            _LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(records)

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        for tp in partitions:
            with contextlib.suppress(KeyError):
                _LAG.remove(tp.topic, str(tp.partition))
