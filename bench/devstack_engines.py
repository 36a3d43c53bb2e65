"""Devstack engines for a benchmark: those already running are reused and left running; the others are
installed, started here and stopped when the benchmark ends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devstack.engines.base import Engine
from devstack.engines.registry import select


@contextmanager
def devstack_engines(*names: str) -> Iterator[dict[str, Engine]]:
    engines = {engine.name: engine for engine in select(names)}
    started: list[Engine] = []
    try:
        for engine in engines.values():
            if not engine.status().healthy:
                print(f"starting {engine.name} from the devstack", file=sys.stderr, flush=True)
                engine.install()
                engine.start()
                started.append(engine)
        yield engines
    finally:
        for engine in reversed(started):
            engine.stop()
