"""The devstack's OpenSearch for a benchmark: one already running is reused and left running; otherwise it is
started here, as production runs it, and stopped when the benchmark ends.

The devstack's own JVM options (`devstack.engines.opensearch`) suit tests: the C1 compiler alone and a 1 GiB heap
halve start time and memory, and cost CPU on every request once it runs (C1's code is not optimised further). A
figure measured on that JVM says little of a production node, so an engine started here gets the full JIT (C1 and
C2, the JVM's default) and a 2 GiB heap, fixed from the start as OpenSearch's own jvm.options advise. Its ports
and work directory stay the devstack's (DEVSTACK_OPENSEARCH_*, DEVSTACK_WORK_DIR). A running engine is measured as
it is: the benchmarks state which JVM it had (`jvm_note`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devstack.engines.opensearch import OpenSearch, OpenSearchSettings

# What production gives the node: a heap fixed at its size, the distribution's JVM options (full tiered JIT).
BENCH_HEAP = "2g"
BENCH_JAVA_OPTS = ""


def bench_settings() -> OpenSearchSettings:
    """The devstack's settings (version, ports, from the environment) with production's heap and JIT."""
    return OpenSearchSettings().model_copy(
        update={"heap_min": BENCH_HEAP, "heap_max": BENCH_HEAP, "java_opts": BENCH_JAVA_OPTS}
    )


@contextmanager
def devstack_opensearch() -> Iterator[OpenSearch]:
    server = OpenSearch(bench_settings())
    started = False
    try:
        if not server.status().healthy:
            print("starting opensearch from the devstack (2 GiB heap, full JIT)", file=sys.stderr, flush=True)
            server.install()
            server.start()
            started = True
        yield server
    finally:
        if started:
            server.stop()
