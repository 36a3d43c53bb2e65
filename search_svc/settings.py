from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.engine_addresses import HttpUrlText
from meshkit.settings import ServiceSettings

# Where `make run` keeps the embedded catalogue; a deployment names its own directory.
DEFAULT_TANTIVY_DIR = Path(__file__).resolve().parent.parent / "build" / "catalogue" / "tantivy"


class SearchSettings(ServiceSettings):
    """Environment variables prefixed SEARCH_, e.g. SEARCH_GRPC_PORT=50051."""

    model_config = SettingsConfigDict(env_prefix="SEARCH_")

    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9101, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
    user_agent_cache_size: int = Field(10_000, ge=0, description="Parsed User-Agents kept in memory.")
    tantivy_dir: Path = Field(
        DEFAULT_TANTIVY_DIR, description="Embedded profile: the tantivy index the ETL publishes (python -m etl load)."
    )
    opensearch_url: HttpUrlText = Field(
        "http://127.0.0.1:9200", description="Production profile: OpenSearch (or Elasticsearch 8/9) base URL."
    )
    opensearch_alias: str = Field("movies", description="Production profile: the alias the ETL swaps atomically.")
    opensearch_timeout_seconds: float = Field(
        2.0, gt=0, description="Production profile: longest wait for OpenSearch before UNAVAILABLE."
    )
