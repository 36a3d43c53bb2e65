"""The engines the devstack knows, in start order, and the environment each service gets from them.

FerretDB starts PostgreSQL itself; PostgreSQL is still listed so that it can be inspected or reset alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import Engine, EngineError
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch
from devstack.engines.postgres import Postgres
from devstack.services import SERVICES, ServiceSpec

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


def production_env(engines: Mapping[str, Engine], services: Sequence[ServiceSpec] = SERVICES) -> dict[str, str]:
    """Settings that point each service's production adapters at the running engines (`devstack.services`).

    This is the whole difference between the profiles as far as a service can tell: its
    composition root reads `<PREFIX>_PROFILE` and the engine addresses, and picks adapters.
    Another deployment sets the same variables to its managed engines instead.
    """
    env = {}
    for spec in services:
        env[spec.env_var("profile")] = "production"
        for field_name, source in spec.production.items():
            if source.engine not in engines:
                raise EngineError(f"{spec.name} needs the engine {source.engine}, which is not running here")
            env[spec.env_var(field_name)] = engines[source.engine].endpoints()[source.endpoint]
    return env
