"""The services of the mesh, in one table: the mesh plan, the gateway config and the production profile read it.

A row names the service, its module (`python -m <module>`), its settings class (whose env prefix names every
variable the devstack hands it), the gRPC service it serves and whether the gateway routes to it, and which
setting of its production profile takes which endpoint of which devstack engine. The table is checked when it is
imported: a production setting its settings class lacks would be set in the environment and silently ignored
(the settings ignore unknown variables), so it stops the devstack instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from meshkit.settings import ServiceSettings
from search_svc.settings import SearchSettings
from sink_svc.settings import SinkSettings
from ugc_svc.settings import UgcSettings


@dataclass(frozen=True)
class EngineEndpoint:
    """One endpoint of a devstack engine: `ENGINES[engine]().endpoints()[endpoint]`."""

    engine: str
    endpoint: str


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the mesh."""

    name: str
    """Short name: the process's log prefix, the gateway's cluster, the `gateway-config` option."""
    module: str
    """What `python -m` runs."""
    settings: type[ServiceSettings]
    grpc_service: str | None = None
    """Full name of the gRPC service it serves (health and reflection know it by it); None for none."""
    behind_gateway: bool = False
    """Envoy gets a cluster for it, routes native gRPC to it and transcodes its REST paths."""
    production: Mapping[str, EngineEndpoint] = field(default_factory=dict)
    """Settings field → the engine endpoint the production profile sets it to."""

    def __post_init__(self) -> None:
        if not self.env_prefix:
            raise ValueError(f"{self.settings.__name__} has no env_prefix")
        for name in self.production:
            self.env_var(name)
        if self.behind_gateway and not self.grpc_service:
            raise ValueError(f"{self.name} is behind the gateway but serves no gRPC service")

    @property
    def env_prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix", ""))

    @property
    def engines(self) -> frozenset[str]:
        """The devstack engines its production profile uses."""
        return frozenset(endpoint.engine for endpoint in self.production.values())

    def env_var(self, field_name: str) -> str:
        """The environment variable of a settings field; ValueError when the settings class has no such field."""
        if field_name not in self.settings.model_fields:
            raise ValueError(
                f"{self.settings.__name__} has no field {field_name!r}: "
                f"{self.env_prefix}{field_name.upper()} would be ignored"
            )
        return f"{self.env_prefix}{field_name.upper()}"

    def fields_in(self, env: Mapping[str, str]) -> dict[str, str]:
        """Its settings fields set in `env`, by field name (e.g. to build its settings as its process will)."""
        by_var = {self.env_var(name): name for name in self.settings.model_fields}
        return {by_var[var]: value for var, value in env.items() if var in by_var}

    def default_grpc_port(self) -> int:
        return int(self.settings.model_fields["grpc_port"].get_default())


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "search",
        "search_svc",
        SearchSettings,
        grpc_service="cinemesh.search.v1.SearchService",
        behind_gateway=True,
        production={"opensearch_url": EngineEndpoint("opensearch", "url")},
    ),
    ServiceSpec(
        "ugc",
        "ugc_svc",
        UgcSettings,
        grpc_service="cinemesh.ugc.v1.UgcService",
        behind_gateway=True,
        production={
            "mongodb_url": EngineEndpoint("ferretdb", "url"),
            "kafka_bootstrap_servers": EngineEndpoint("kafka", "bootstrap_servers"),
            "schema_registry_url": EngineEndpoint("apicurio", "url"),
        },
    ),
    ServiceSpec(
        "sink",
        "sink_svc",
        SinkSettings,
        grpc_service="cinemesh.analytics.v1.AnalyticsService",
        behind_gateway=True,
        production={
            "kafka_bootstrap_servers": EngineEndpoint("kafka", "bootstrap_servers"),
            "schema_registry_url": EngineEndpoint("apicurio", "url"),
            "clickhouse_url": EngineEndpoint("clickhouse", "url"),
        },
    ),
)


def by_name(name: str, services: Sequence[ServiceSpec] = SERVICES) -> ServiceSpec:
    for spec in services:
        if spec.name == name:
            return spec
    raise KeyError(f"no service {name!r}; the table has {', '.join(s.name for s in services)}")


def behind_gateway(services: Sequence[ServiceSpec] = SERVICES) -> tuple[ServiceSpec, ...]:
    return tuple(spec for spec in services if spec.behind_gateway)
