from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class UgcSettings(ServiceSettings):
    """Environment variables prefixed UGC_, e.g. UGC_GRPC_PORT=50052."""

    model_config = SettingsConfigDict(env_prefix="UGC_")

    grpc_port: int = Field(50052, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
