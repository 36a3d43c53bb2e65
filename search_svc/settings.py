from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    """Environment variables prefixed SEARCH_, e.g. SEARCH_GRPC_PORT=50051."""

    model_config = SettingsConfigDict(env_prefix="SEARCH_")

    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9101, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
    user_agent_cache_size: int = Field(10_000, ge=0, description="Parsed User-Agents kept in memory.")
