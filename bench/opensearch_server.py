"""The devstack's OpenSearch for a benchmark: one already running is reused and left running; otherwise it is
started here and stopped when the benchmark ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bench.devstack_engines import devstack_engines
from devstack.engines.opensearch import OpenSearch


@contextmanager
def devstack_opensearch() -> Iterator[OpenSearch]:
    with devstack_engines("opensearch") as engines:
        server = engines["opensearch"]
        if not isinstance(server, OpenSearch):
            raise TypeError(f"the devstack's opensearch engine is a {type(server).__name__}")
        yield server
