"""The figures the capacity plan reads from benchmark sections, each with its provenance, on small hand-written
sections shaped as the benchmarks write them."""

from __future__ import annotations

from bench.capacity.figures import (
    Basis,
    compressions,
    etl_rate,
    search_catalogues,
    search_max_rate,
    search_open_loop,
    sink_rate,
    ugc_ingest,
)
from bench.capacity.markdown import sections

MAX_RATE = """<!-- search-max-rate:opensearch:tiny:begin -->
#### Highest rate within p99 ≤ 20 ms: opensearch, `tiny.sqlite` (10 movies)

| rps | requests | p50 | p99 | max | failed | CPU search service | CPU Envoy | CPU opensearch | CPU load generator |
|---|---|---|---|---|---|---|---|---|---|
| 200 | 3000 | 3.00 | 9.00 | 12.00 | 0 | 2.50 | 0.80 | 5.00 | 0.60 |
| 400 | 6000 | 4.00 | 15.00 | 30.00 | 0 | 2.20 | 0.70 | 4.50 | 0.50 |
| 600 | 9000 | 9.00 | 18.00 | 60.00 | 3 | 2.00 | 0.60 | 4.00 | 0.50 |
| 800 | 12000 | 40.00 | 250.00 | 400.00 | 0 | 1.90 | 0.60 | 4.00 | 0.50 |

Highest rate that held the bound: 400 rps.
<!-- search-max-rate:opensearch:tiny:end -->
"""

OPEN_LOOP = """<!-- search-latency:opensearch:tiny:begin -->
### opensearch, `tiny.sqlite` (10 movies)

| path | requests | p50 | p90 | p99 | max | failed |
|---|---|---|---|---|---|---|
| REST through Envoy, open loop at 200 rps | 4000 | 15.53 | 119.75 | 220.87 | 265.54 | 0 |

CPU per request in the open-loop run: search service 2.38 ms, Envoy 0.82 ms, opensearch 5.00 ms, load generator \
0.58 ms; together 88% of the machine's 2 cores. The floor: no-op service 1.00 ms, Envoy 0.70 ms a request.
<!-- search-latency:opensearch:tiny:end -->
"""

INGEST = """<!-- ugc-ingest:begin -->
| path | requests | requests/s | events/s | p50 | p99 | failed |
|---|---|---|---|---|---|---|
| UGC service → Kafka ack (acks=all), 1 event a request | 100 | 500 | 500 | 1 | 2 | 0 |

CPU a request (the load generator, Envoy, the service and Kafka share the cores):
- no-op, last run: no-op service 0.50 ms, Envoy 0.40 ms, load generator 0.30 ms a request.
- single-event ingest: UGC service 2.00 ms, Envoy 0.90 ms, Kafka 0.50 ms, load generator 0.30 ms a request.
- 101-event batches: UGC service 7.00 ms, Envoy 1.50 ms, Kafka 2.00 ms, load generator 0.40 ms a request.
<!-- ugc-ingest:end -->
"""

SINK = """<!-- sink-throughput:begin -->
| path | seconds | events/s |
|---|---|---|
| raw: clickhouse-driver insert of the decoded rows, 5,000 a batch, same table (best of 2) | 10.0 | 100,000 |
| sink: spawn → last commit (consume, Avro decode by writer id, insert, commit) | 50.0 | 20,000 |
| sink: first commit → last commit (start-up and group join of 10.0 s left out) | 40.0 | 25,000 |
<!-- sink-throughput:end -->
"""

COMPRESSION = """<!-- analytics-compression:begin -->
| engine and table | rows after merge | parts | uncompressed MiB | compressed MiB | ratio | bytes/row | insert s |
|---|---|---|---|---|---|---|---|
| chDB 26.9, codecs | 1,048,576 | 6 | 200.0 | 40.0 | 5.00 | 40.0 | 1.0 |
| ClickHouse 18.16.1 (LZ4) | 2,097,152 | 6 | 300.0 | 150.0 | 2.00 | 75.0 | 1.0 |

| column | chDB 26.9, codecs | ClickHouse 18.16.1 (LZ4) |
|---|---|---|
| event_id | 33.3 (2.3×) | 65.3 (1.0×) |
<!-- analytics-compression:end -->
"""


def test_max_rate_is_the_highest_rate_within_the_bound_without_failures_and_its_cpu() -> None:
    search = search_max_rate(sections(MAX_RATE), "opensearch", "tiny")
    assert search is not None
    assert search.rate_held is not None
    # 600 rps kept p99 under 20 ms but failed requests; 800 missed the bound.
    assert search.rate_held.value == 400
    assert (search.service_cpu_ms.value, search.envoy_cpu_ms.value) == (2.2, 0.7)
    assert search.engine_cpu_ms is not None
    assert search.engine_cpu_ms.value == 4.5
    assert search.service_cpu_ms.basis is Basis.MEASURED
    assert "search-max-rate:opensearch:tiny" in search.service_cpu_ms.source
    assert "400 rps" in search.service_cpu_ms.source


def test_no_max_rate_when_no_rate_held_or_no_section() -> None:
    missed = MAX_RATE.replace("| 9.00 | 12.00 | 0 |", "| 90.00 | 120.00 | 0 |").replace(
        "| 15.00 | 30.00 | 0 |", "| 25.00 | 30.00 | 0 |"
    )
    assert search_max_rate(sections(missed), "opensearch", "tiny") is None
    assert search_max_rate(sections(OPEN_LOOP), "opensearch", "tiny") is None


def test_open_loop_cpu_a_request_before_the_floor() -> None:
    search = search_open_loop(sections(OPEN_LOOP), "opensearch", "tiny")
    assert search is not None
    assert search.rate_held is None
    assert (search.service_cpu_ms.value, search.envoy_cpu_ms.value) == (2.38, 0.82)
    assert search.engine_cpu_ms is not None
    assert search.engine_cpu_ms.value == 5.0
    assert "open loop at 200 rps" in search.service_cpu_ms.source


def test_catalogues_of_an_engine_from_either_section() -> None:
    found = sections(MAX_RATE + OPEN_LOOP + OPEN_LOOP.replace("tiny", "big"))
    assert search_catalogues(found, "opensearch") == ["tiny", "big"]
    assert search_catalogues(found, "tantivy") == []


def test_ingest_request_and_per_event_cpu_from_the_two_runs() -> None:
    ingest = ugc_ingest(sections(INGEST))
    assert ingest is not None
    assert ingest.request_cpu_ms.value == 2.0
    # (7.00 − 2.00) ms over the batch's 100 further events.
    assert ingest.event_cpu_ms.value == 0.05
    assert ingest.envoy_cpu_ms is not None
    assert ingest.envoy_cpu_ms.value == 0.9


def test_ingest_without_its_cpu_lines_is_not_measured() -> None:
    assert ugc_ingest(sections(INGEST.replace("- single-event ingest", "- one event"))) is None
    assert ugc_ingest({}) is None


def test_sink_rate_after_the_first_commit_else_from_spawn() -> None:
    rate = sink_rate(sections(SINK))
    assert rate is not None
    assert rate.value == 25_000
    assert "first commit" in rate.source
    without = SINK.replace("| sink: first commit", "| other")
    rate = sink_rate(sections(without))
    assert rate is not None
    assert rate.value == 20_000
    assert sink_rate({}) is None


def test_compression_rows_with_raw_bytes_from_uncompressed_mib_over_rows() -> None:
    codecs, lz4 = compressions(sections(COMPRESSION))
    assert codecs.table == "chDB 26.9, codecs"
    assert codecs.stored_bytes_per_row.value == 40.0
    assert codecs.ratio.value == 5.0
    assert codecs.raw_bytes_per_row.value == 200.0  # 200 MiB over 1 Mi rows
    assert lz4.raw_bytes_per_row.value == 150.0
    assert compressions({}) == []


ETL = """<!-- etl-throughput:begin -->
| engine | path | seconds | movies/s | peak RSS | load average |
|---|---|---|---|---|---|
| opensearch | raw: prebuilt bulk lines → the ETL's loader | 47.0 | 2,126 | — | 3.1 |
| opensearch | ETL: `python -m etl load` (workers read, clean, encode) | 63.9 (62.9, 64.8) | 1,566 | 95 MiB | 2.7 |
| opensearch | ETL, `--workers 0`: the same in one process | 58.1 | 1,722 | 111 MiB | 2.5 |
| tantivy | ETL: `python -m etl load` (workers read, clean, encode) | 29.9 | 3,344 | 135 MiB | 3.8 |
<!-- etl-throughput:end -->
"""


def test_etl_rate_of_the_command_with_workers_for_the_engine() -> None:
    rate = etl_rate(sections(ETL), "opensearch")
    assert rate is not None
    assert rate.value == 1566
    tantivy = etl_rate(sections(ETL), "tantivy")
    assert tantivy is not None
    assert tantivy.value == 3344
    assert etl_rate({}, "opensearch") is None
