"""The engines the devstack knows, in start order, and the environment each service gets from them.

FerretDB starts PostgreSQL itself; PostgreSQL is still listed so that it can be inspected or reset alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import Engine, EngineError
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch
from devstack.engines.postgres import Postgres

ENGINES: dict[str, Callable[[], Engine]] = {
    "opensearch": OpenSearch,
    "kafka": Kafka,
    "apicurio": Apicurio,
    "clickhouse": ClickHouse,
    "postgres": Postgres,
    "ferretdb": FerretDB,
}


def select(names: Iterable[str]) -> list[Engine]:
    """The named engines in start order; all of them when none is named."""
    wanted = list(names) or list(ENGINES)
    unknown = [name for name in wanted if name not in ENGINES]
    if unknown:
        raise EngineError(f"unknown engine {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    return [factory() for name, factory in ENGINES.items() if name in wanted]


def production_env(engines: Mapping[str, Engine]) -> dict[str, str]:
    """Settings that point each service's production adapters at the running engines.

    This is the whole difference between the profiles as far as a service can tell: its
    composition root reads `<PREFIX>_PROFILE` and the engine addresses, and picks adapters.
    Another deployment sets the same variables to its managed engines instead.
    """
    opensearch = engines["opensearch"].endpoints()
    kafka = engines["kafka"].endpoints()
    registry = engines["apicurio"].endpoints()
    clickhouse = engines["clickhouse"].endpoints()
    ferretdb = engines["ferretdb"].endpoints()
    return {
        "SEARCH_PROFILE": "production",
        "SEARCH_OPENSEARCH_URL": opensearch["url"],
        "UGC_PROFILE": "production",
        "UGC_MONGODB_URL": ferretdb["url"],
        "UGC_KAFKA_BOOTSTRAP_SERVERS": kafka["bootstrap_servers"],
        "UGC_SCHEMA_REGISTRY_URL": registry["url"],
        "SINK_PROFILE": "production",
        "SINK_KAFKA_BOOTSTRAP_SERVERS": kafka["bootstrap_servers"],
        "SINK_SCHEMA_REGISTRY_URL": registry["url"],
        "SINK_CLICKHOUSE_URL": f"clickhouse://{clickhouse['tcp']}/default",
    }
