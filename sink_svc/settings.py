from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.engine_addresses import BootstrapServers, ClickHouseUrl, HttpUrlText
from meshkit.settings import ServiceSettings

# Where `make run` keeps the embedded analytics store; a deployment names its own directory.
DEFAULT_ANALYTICS_PATH = Path(__file__).resolve().parent.parent / "build" / "sink" / "analytics"


class SinkSettings(ServiceSettings):
    """Environment variables prefixed SINK_, e.g. SINK_GRPC_PORT=50053; engine addresses default to the devstack's."""

    model_config = SettingsConfigDict(env_prefix="SINK_")

    grpc_port: int = Field(50053, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9103, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
    kafka_bootstrap_servers: BootstrapServers = Field(
        "127.0.0.1:9092", description="Production profile: the Kafka brokers the playback events are consumed from."
    )
    schema_registry_url: HttpUrlText = Field(
        "http://127.0.0.1:8081/apis/ccompat/v7",
        description="Production profile: the Confluent-compatible schema registry API the writers' schemas are "
        "fetched from (Apicurio's ccompat API in the devstack).",
    )
    clickhouse_url: ClickHouseUrl = Field(
        "clickhouse://127.0.0.1:9000/default",
        description="Production profile: the analytics store, clickhouse://[user[:password]@]host:port/database "
        "(native protocol).",
    )
    analytics_path: Path = Field(
        DEFAULT_ANALYTICS_PATH,
        description="Embedded profile: the chDB data directory of the analytics store (one process holds it).",
    )
    analytics_timeout_seconds: float = Field(
        5.0, gt=0, le=300, description="Production profile: longest wait for ClickHouse (to connect, per packet)."
    )
    analytics_retention_months: int | None = Field(
        None,
        ge=1,
        le=1200,
        description="Months of events kept, by when the service accepted them; unset keeps everything (a table "
        "TTL where the engine has one; ClickHouse 18.16 has none: docs/sink-analytics.md).",
    )
