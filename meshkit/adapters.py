"""Which adapter serves each port of a service, published as a Prometheus info metric.

Both profiles run one code path, so nothing in a service's answers tells which engine produced them; the
composition root reports each adapter it wires, and `/metrics` then says, for example,
`cinemesh_adapter_info{port="search_index",engine="opensearch",adapter="OpenSearchSearchIndex"} 1`.
The engine is read from the adapter's module name (`<engine>_<port>.py`), so it cannot drift from the code.
"""

from __future__ import annotations

from prometheus_client import Gauge

ADAPTER_INFO = Gauge(
    "cinemesh_adapter_info",
    "The adapter wired to each port of this service, and the engine behind it (always 1).",
    ["port", "engine", "adapter"],
)


def engine_of(port: str, adapter_type: type) -> str:
    """The engine named by the adapter's module, `<engine>_<port>`; ValueError when the module breaks that rule."""
    module = adapter_type.__module__.rpartition(".")[2]
    engine, found, rest = module.rpartition(f"_{port}")
    if not found or rest or not engine:
        raise ValueError(f"adapter module {adapter_type.__module__!r} is not named <engine>_{port}")
    return engine


def report_adapter(port: str, adapter: object) -> str:
    """Publish that `adapter` serves `port`; returns the engine's name."""
    engine = engine_of(port, type(adapter))
    ADAPTER_INFO.labels(port=port, engine=engine, adapter=type(adapter).__name__).set(1)
    return engine
