"""`python -m devstack --help`: run the mesh on this machine, or render and validate the gateway config."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack import gateway, identity, mesh
from devstack.engines import cli as engines_cli
from devstack.services import SERVICES, behind_gateway


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Run cinemesh on this machine. Ports and options are environment variables: "
        f"{', '.join(spec.env_prefix + '*' for spec in SERVICES)} for the services "
        f"(see `python -m {SERVICES[0].module} --help`), GATEWAY_* for Envoy.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="start every service and the Envoy gateway; Ctrl-C stops all",
        description=f"Start {', '.join(spec.name for spec in SERVICES)}, wait until each reports SERVING over gRPC "
        "health, start Envoy, "
        "print where everything listens, and stop everything on Ctrl-C or SIGTERM.",
    )
    run.add_argument(
        "--profile",
        choices=["embedded", "production"],
        default="embedded",
        help="embedded (default): no servers needed; production: wire the services to the devstack engines, "
        "which must be running (`python -m devstack start`)",
    )
    engines_cli.add_commands(commands)
    token = commands.add_parser(
        "token",
        help="print a bearer token the gateway accepts for a user (development key; `make token USER=<id>`)",
        description="Sign a token for USER with the development key pair (build/dev-identity/, made on first use), "
        "for the issuer and audience the gateway checks (GATEWAY_JWT_ISSUER, GATEWAY_JWT_AUDIENCE).",
    )
    token.add_argument("user", help="the user id: the token's subject")
    token.add_argument("--ttl", type=int, default=identity.DEFAULT_TTL_SECONDS, help="seconds it stays valid")
    render = commands.add_parser("gateway-config", help="print the rendered Envoy config (GATEWAY_* settings)")
    for spec in behind_gateway():
        render.add_argument(
            f"--{spec.name}", default=f"127.0.0.1:{spec.default_grpc_port()}", help=f"{spec.name} upstream host:port"
        )
    render.add_argument("--validate", action="store_true", help="also run `envoy --mode validate` on it")
    render.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    return parser


def _upstream(text: str) -> gateway.Upstream:
    host, _, port = text.rpartition(":")
    return gateway.Upstream(host, int(port))


def _print_token(user: str, ttl: int) -> int:
    settings = gateway.GatewaySettings()
    if settings.jwks_path is not None:
        print(
            "devstack: GATEWAY_JWKS_PATH is set, so the gateway trusts another identity provider's keys; "
            "get tokens from it",
            file=sys.stderr,
        )
        return 2
    if not user.strip() or ttl <= 0:
        print("devstack: a token needs a user id and a positive --ttl", file=sys.stderr)
        return 2
    key = identity.dev_signing_key()
    print(identity.token(user, key=key, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=ttl))
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return mesh.main(args.profile)
    if args.command == "token":
        return _print_token(args.user, args.ttl)
    if args.command == "stop" and mesh.stop_running():
        print("devstack: stopped the running mesh")
    if args.command != "gateway-config":
        return engines_cli.run(args)
    upstreams = {spec.name: _upstream(getattr(args, spec.name)) for spec in behind_gateway()}
    config = gateway.render(gateway.GatewaySettings(), upstreams)
    if args.output:
        args.output.write_text(config)
    else:
        sys.stdout.write(config)
    if args.validate:
        target = args.output or mesh.run_dir() / "gateway-check.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config)
        result = gateway.validate(target)
        sys.stderr.write(result.stdout + result.stderr)
        return result.returncode
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        # The reader went away (`status | head`): not an error of ours. Stdout is pointed at /dev/null so that
        # flushing it at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
