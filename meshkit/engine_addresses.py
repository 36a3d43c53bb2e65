"""Engine addresses as settings fields: checked when a service starts, kept as the exact text the driver takes.

pydantic's URL types would hand the adapters a `Url` object and may rewrite the text (a trailing slash
appended to a bare host); these check the scheme and the form, then return the value unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, AnyUrl, HttpUrl, MongoDsn, TypeAdapter, UrlConstraints, ValidationError


def _checked_by(url_type: Any) -> Callable[[str], str]:
    adapter: TypeAdapter[Any] = TypeAdapter(url_type)

    def check(value: str) -> str:
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            raise ValueError("; ".join(str(error["msg"]) for error in exc.errors())) from None
        return value

    return check


def _bootstrap_servers(value: str) -> str:
    """`host:port[,host:port...]`, as Kafka clients take `bootstrap.servers`; an IPv6 host is bracketed."""
    for server in value.split(","):
        host, colon, port = server.strip().rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        if (
            not colon
            or not host
            or (":" in host and not bracketed)
            or any(c.isspace() or c in "/@" for c in host)
            or not port.isdigit()
            or not 0 < int(port) <= 65535
        ):
            raise ValueError(f"expected host:port[,host:port...], got {server.strip()!r}")
    return value


HttpUrlText = Annotated[str, AfterValidator(_checked_by(HttpUrl))]
"""An http:// or https:// URL (a schema registry, a search engine)."""

MongoUrl = Annotated[str, AfterValidator(_checked_by(MongoDsn))]
"""A MongoDB connection string, mongodb:// or mongodb+srv://, one host or several."""

_ClickHouseDsn = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["clickhouse", "clickhouses"], host_required=True)]

ClickHouseUrl = Annotated[str, AfterValidator(_checked_by(_ClickHouseDsn))]
"""clickhouse://[user[:password]@]host:port/database, the native protocol (clickhouses:// over TLS)."""

BootstrapServers = Annotated[str, AfterValidator(_bootstrap_servers)]
"""Kafka brokers to start from, host:port[,host:port...]."""
