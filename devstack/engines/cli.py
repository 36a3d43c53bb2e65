"""`python -m devstack install|start|stop|status|logs|reset [engine ...]`."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from devstack.engines.base import EngineError, same_release
from devstack.engines.registry import ENGINES, select


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = ", ".join(ENGINES)
    for command, text in (
        ("install", "install engines into the cache (seconds when already there)"),
        ("start", "install if needed, start detached, and wait until each is healthy"),
        ("stop", "stop engines by their recorded process ids"),
        ("status", "show which engines run, are healthy, and where they listen"),
        ("reset", "stop engines and delete their data (the installed engines stay)"),
    ):
        sub = commands.add_parser(command, help=text, description=f"{text[0].upper()}{text[1:]}. Engines: {names}.")
        sub.add_argument("engines", nargs="*", metavar="engine", help="default: all")
    logs = commands.add_parser("logs", help="print the end of an engine's log")
    logs.add_argument("engine", choices=list(ENGINES))
    logs.add_argument("-n", "--lines", type=int, default=60, help="how many lines (default 60)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="devstack: %(message)s")
    try:
        if args.command == "logs":
            (engine,) = select([args.engine])
            lines = engine.log_path().read_text(errors="replace").splitlines()[-args.lines :]
            print("\n".join(lines))
            return 0
        engines = select(args.engines)
        if args.command == "status":
            return _status(args.engines)
        for engine in engines if args.command != "stop" else reversed(engines):
            started = time.monotonic()
            if args.command == "install":
                engine.install()
            elif args.command == "start":
                engine.install()
                engine.start()
            elif args.command == "stop":
                engine.stop()
            elif args.command == "reset":
                engine.reset()
            endpoints = " ".join(f"{k}={v}" for k, v in engine.endpoints().items())
            suffix = f"  {endpoints}" if args.command == "start" else ""
            print(f"{engine.name:<11} {args.command} done in {time.monotonic() - started:.1f} s{suffix}", flush=True)
    except (EngineError, FileNotFoundError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(names: list[str]) -> int:
    print(f"{'engine':<11} {'state':<13} {'pid':>7}  {'version':<16} endpoints")
    unusable = 0
    for engine in select(names):
        status = engine.status()
        state = "healthy" if status.healthy else ("starting" if status.running else "stopped")
        version = status.version or "-"
        if status.version is not None and not same_release(status.version, engine.pinned_version):
            # Running, but not what the devstack would start: a test run or `devstack start` would refuse it.
            version += f" (pinned {engine.pinned_version})"
            state = "wrong-version"
        unusable += state != "healthy"
        endpoints = " ".join(f"{k}={v}" for k, v in status.endpoints.items())
        print(f"{status.name:<11} {state:<13} {status.pid or '-':>7}  {version:<16} {endpoints}")
    return 0 if not names or not unusable else 3
