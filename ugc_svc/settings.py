from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.engine_addresses import BootstrapServers, HttpUrlText, MongoUrl
from meshkit.settings import ServiceSettings


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
