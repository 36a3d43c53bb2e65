"""`python -m meshkit.healthcheck PREFIX`: exit 0 when the service on this host answers gRPC health SERVING.

The images' Docker HEALTHCHECK runs it (Docker has no gRPC probe of its own; Kubernetes uses its native gRPC probes
instead). The address comes from the same variables the service reads, `<PREFIX>HOST` and `<PREFIX>GRPC_PORT`, so
the check follows the service wherever its settings put it. A wildcard bind address is checked on loopback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1
EXIT_BAD_USAGE = 2
MAX_PORT = 65535
_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


def target(prefix: str, env: Mapping[str, str]) -> str:
    """host:port of the service whose variables start with `prefix`; ValueError when its port is not set."""
    port = env.get(f"{prefix}GRPC_PORT", "")
    if not port.isdigit() or not 0 < int(port) <= MAX_PORT:
        raise ValueError(f"{prefix}GRPC_PORT must name the service's port, got {port!r}")
    host = env.get(f"{prefix}HOST", "127.0.0.1").strip()
    if host in _WILDCARDS:
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def check(address: str, service: str, timeout: float) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    """The status `address` reports for `service` ("" is the server as a whole); UNKNOWN when it cannot answer."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return health_pb2.HealthCheckResponse.UNKNOWN
    return response.status


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshkit.healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("prefix", help="the service's env prefix, e.g. SEARCH_")
    parser.add_argument("--service", default="", help="the gRPC service to ask about (default: the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    try:
        address = target(args.prefix, os.environ if env is None else env)
    except ValueError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return EXIT_BAD_USAGE
    status = check(address, args.service, args.timeout)
    if status != health_pb2.HealthCheckResponse.SERVING:
        print(f"healthcheck: {address} is {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}", file=sys.stderr)
        return EXIT_NOT_SERVING
    return EXIT_SERVING


if __name__ == "__main__":
    sys.exit(main())
