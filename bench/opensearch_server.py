"""The devstack's OpenSearch for a benchmark: one already running is reused and left running; otherwise it is
started here and stopped when the benchmark ends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devstack.engines.opensearch import OpenSearch


@contextmanager
def devstack_opensearch() -> Iterator[OpenSearch]:
    server = OpenSearch()
    started_here = not server.status().healthy
    if started_here:
        print("starting OpenSearch from the devstack", file=sys.stderr, flush=True)
        server.install()
        server.start()
    try:
        yield server
    finally:
        if started_here:
            server.stop()
