from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.engine_addresses import BootstrapServers, HttpUrlText, MongoUrl
from meshkit.settings import ServiceSettings

# Where `make run` keeps the embedded event log; the sink reads the same file. A deployment names its own.
DEFAULT_EVENT_LOG = Path(__file__).resolve().parent.parent / "build" / "event-log" / "events.sqlite3"
# Where `make run` keeps the embedded profile's documents; a deployment names its own file.
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / "build" / "ugc" / "documents.sqlite3"


class UgcSettings(ServiceSettings):
    """Environment variables prefixed UGC_, e.g. UGC_GRPC_PORT=50052; engine addresses default to the devstack's."""

    model_config = SettingsConfigDict(env_prefix="UGC_")

    grpc_port: int = Field(50052, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
    mongodb_url: MongoUrl = Field(
        "mongodb://127.0.0.1:27017/?directConnection=true",
        description="Production profile: the document store (positions, favourites, ratings), a MongoDB "
        "connection string (FerretDB in the devstack).",
    )
    kafka_bootstrap_servers: BootstrapServers = Field(
        "127.0.0.1:9092", description="Production profile: the Kafka brokers playback events are published to."
    )
    schema_registry_url: HttpUrlText = Field(
        "http://127.0.0.1:8081/apis/ccompat/v7",
        description="Production profile: the Confluent-compatible schema registry API the event schemas live in "
        "(Apicurio's ccompat API in the devstack).",
    )
    events_topic: str = Field(
        "ugc.playback-events",
        pattern=r"^[A-Za-z0-9._-]{1,249}$",
        description="The topic playback events are published to (its registry subject is <topic>-value).",
    )
    ratings_topic: str = Field(
        "ugc.rating-changes",
        pattern=r"^[A-Za-z0-9._-]{1,249}$",
        description="The topic rating changes are published to, keyed by movie (its registry subject is "
        "<topic>-value).",
    )
    event_bus_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Longest wait for the event bus to acknowledge a batch before UNAVAILABLE "
        "(Kafka's message.timeout.ms; the embedded log's wait for its write lock).",
    )
    event_log_path: Path = Field(
        DEFAULT_EVENT_LOG, description="Embedded profile: the SQLite event log (the sink reads the same file)."
    )
    event_log_partitions: int = Field(
        6,
        ge=1,
        le=1024,
        description="Partitions of the playback topic, fixed once it exists: the embedded log's, and the count "
        "`make schemas` creates the Kafka topic with (the same, so a user's events land in the same partition).",
    )
    positions_consumer_group: str = Field(
        "ugc.resume-positions",
        pattern=r"^[A-Za-z0-9._-]{1,249}$",
        description="The consumer group that projects playback events into resume positions (one member per "
        "service process; the bus gives each partition, so each user, to one member).",
    )
    ratings_consumer_group: str = Field(
        "ugc.ratings",
        pattern=r"^[A-Za-z0-9._-]{1,249}$",
        description="The consumer group that applies rating changes (one member per service process; the bus gives "
        "each partition, so each movie, to one member).",
    )
    event_consumer_session_timeout_seconds: float = Field(
        10.0,
        ge=1,
        le=300,
        description="A projecting member silent this long loses its partitions to the others (Kafka's "
        "session.timeout.ms and max.poll.interval.ms; its broker refuses less than 6 s by default).",
    )
    schema_registry_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Production profile: longest wait for one schema registry request."
    )
    sqlite_path: Path = Field(
        DEFAULT_SQLITE_PATH,
        description="Embedded profile: the SQLite file (WAL) of resume positions and favourites.",
    )
    mongodb_database: str = Field(
        "ugc", pattern=r"^[A-Za-z0-9_-]{1,63}$", description="Production profile: the database of the UGC documents."
    )
    document_store_timeout_seconds: float = Field(
        2.0, gt=0, le=60, description="Longest wait for the document store before UNAVAILABLE."
    )
