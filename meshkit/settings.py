"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Port = int


class ServiceSettings(BaseSettings):
    """Read from the environment once, at start; invalid values stop the service with a clear message."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    profile: Literal["embedded", "production"] = Field(
        "embedded",
        description="embedded: in-process engines, no servers; production: the engines named by the other settings.",
    )
    host: str = Field("127.0.0.1", description="Address the gRPC server binds to.")
    grpc_port: Port = Field(0, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    metrics_host: str = Field("127.0.0.1", description="Address of the Prometheus /metrics endpoint.")
    metrics_port: Port = Field(0, ge=0, le=65535, description="Prometheus port; 0 picks a free one.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = Field("json", description="json for machines, text for a terminal.")
    drain_seconds: float = Field(
        0.0,
        ge=0,
        description="How long health says NOT_SERVING before the server stops taking calls, "
        "so that load balancers notice first.",
    )
    grace_seconds: float = Field(10.0, ge=0, description="How long in-flight calls may finish after a stop.")
    max_concurrent_rpcs: int | None = Field(
        None, ge=1, description="Calls beyond this get RESOURCE_EXHAUSTED instead of queueing."
    )
    max_message_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest message in either direction.")


def describe_settings(settings_type: type[BaseSettings]) -> str:
    """One line per environment variable with its default and meaning, for `--help`."""
    prefix = str(settings_type.model_config.get("env_prefix", ""))
    lines = []
    for name, info in settings_type.model_fields.items():
        default = "" if info.is_required() else f" (default: {info.get_default(call_default_factory=True)!r})"
        lines.append(f"  {(prefix + name).upper():<32} {info.description or ''}{default}")
    return "\n".join(lines)
