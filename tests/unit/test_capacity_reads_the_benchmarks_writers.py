"""The capacity plan reads the sections exactly as the benchmarks write them: each writer's own report function
is fed figures chosen by hand, and the reader must get those figures back. A change of format on either side
fails here, not in a regenerated docs/capacity.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import search_latency, ugc_ingest
from bench.capacity.figures import search_max_rate
from bench.capacity.figures import ugc_ingest as read_ugc_ingest
from bench.capacity.markdown import sections
from bench.vegeta import Result


def result(requests: int, p99: float, failures: int = 0, throughput: float = 100.0) -> Result:
    return Result(requests, p99 / 3, p99 / 2, p99, p99 * 2, failures, (), throughput)


def test_highest_rate_as_search_latency_writes_it() -> None:
    args = argparse.Namespace(engine="opensearch", step_rates=[100, 200, 300], step_seconds=10.0)
    catalogue = search_latency.Catalogue(Path("tiny.sqlite"), "tiny", [], {"opensearch": 20.0}, 20.0, None)
    steps = [
        # CPU seconds over the step; a request's share is seconds ÷ requests.
        search_latency.Step(
            100,
            result(1000, 8.0),
            {"search service": 2.5, "Envoy": 0.9, "opensearch": 5.0, "load generator": 0.6},
        ),
        search_latency.Step(
            200,
            result(2000, 15.0),
            {"search service": 4.6, "Envoy": 1.6, "opensearch": 9.0, "load generator": 1.0},
        ),
        search_latency.Step(
            300,
            result(3000, 45.0),
            {"search service": 6.0, "Envoy": 2.1, "opensearch": 12.0, "load generator": 1.5},
        ),
    ]
    text = search_latency.steps_section(args, catalogue, steps, loaded_total=10)
    search = search_max_rate(sections(text), "opensearch", "tiny")
    assert search is not None
    assert search.rate_held is not None
    assert search.rate_held.value == 200  # 300 rps missed the 20 ms bound
    assert search.service_cpu_ms.value == 2.3  # 4.6 s over 2000 requests
    assert search.envoy_cpu_ms.value == 0.8
    assert search.engine_cpu_ms is not None
    assert search.engine_cpu_ms.value == 4.5


def test_ingest_as_ugc_ingest_writes_it() -> None:
    args = argparse.Namespace(seconds=20.0, concurrency=32, batch=100, users=500, rps=200)
    figures = ugc_ingest.Figures(
        noop_first=result(4000, 5.0),
        ingest=result(2000, 9.0),
        batch=result(500, 30.0),
        noop_last=result(4000, 5.0),
        cpu={
            "no-op, last run": {"no-op service": 2.0, "Envoy": 1.6, "load generator": 1.2},
            # 2000 single-event requests: 3.0 ms of the service each; 500 batches of 100: 12.9 ms each.
            "single-event ingest": {"UGC service": 6.0, "Envoy": 1.8, "Kafka": 1.0, "load generator": 0.6},
            "batches": {"UGC service": 6.45, "Envoy": 0.6, "Kafka": 2.0, "load generator": 0.3},
        },
        progress=None,
        catch_up_seconds=3.0,
    )
    text = ugc_ingest.report(args, figures)
    ingest = read_ugc_ingest(sections(text))
    assert ingest is not None
    assert ingest.request_cpu_ms.value == 3.0
    assert abs(ingest.event_cpu_ms.value - 0.1) < 1e-9  # (12.9 − 3.0) ms over 99 further events
    assert ingest.envoy_cpu_ms is not None
    assert ingest.envoy_cpu_ms.value == 0.9
