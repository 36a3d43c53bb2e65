from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.engine_addresses import BootstrapServers, ClickHouseUrl, HttpUrlText
from meshkit.settings import ServiceSettings

_BUILD = Path(__file__).resolve().parent.parent / "build"
# The file the UGC service appends to in `make run`; a deployment names its own.
DEFAULT_EVENT_LOG = _BUILD / "event-log" / "events.sqlite3"
# Where `make run` keeps the embedded analytics store; a deployment names its own directory.
DEFAULT_ANALYTICS_PATH = _BUILD / "sink" / "analytics"
_TOPIC = r"^[A-Za-z0-9._-]{1,249}$"


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
    event_log_path: Path = Field(
        DEFAULT_EVENT_LOG, description="Embedded profile: the SQLite event log the UGC service appends to."
    )
    event_log_partitions: int = Field(
        6, ge=1, le=1024, description="Embedded profile: partitions of the topics the sink creates when missing."
    )
    events_topic: str = Field("ugc.playback-events", pattern=_TOPIC, description="The topic of playback events.")
    dead_letter_topic: str = Field(
        "ugc.playback-events.dlq",
        pattern=_TOPIC,
        description="Where records that can never load go, as they came, with the reason in headers.",
    )
    consumer_group: str = Field(
        "cinemesh-sink", min_length=1, max_length=255, description="The consumer group every sink instance joins."
    )
    batch_max_events: int = Field(5000, ge=1, le=1_000_000, description="A batch closes at this many records...")
    batch_max_seconds: float = Field(
        0.5, gt=0, le=60, description="...or when its oldest record has waited this long (the floor of freshness)."
    )
    session_timeout_seconds: float = Field(
        10.0,
        ge=1,
        le=300,
        description="A member that does not poll this long loses its partitions to the others (also the longest "
        "a batch may take to load before that happens).",
    )
    event_bus_timeout_seconds: float = Field(
        5.0, gt=0, le=300, description="Longest wait for the bus to commit offsets or take dead letters."
    )
    schema_registry_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Production profile: longest wait for one schema registry request."
    )
    stuck_seconds: float = Field(
        60.0, gt=0, le=3600, description="No poll for this long (not waiting on an engine): health NOT_SERVING."
    )
