from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class SinkSettings(ServiceSettings):
    """Environment variables prefixed SINK_, e.g. SINK_GRPC_PORT=50053."""

    model_config = SettingsConfigDict(env_prefix="SINK_")

    grpc_port: int = Field(50053, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9103, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
