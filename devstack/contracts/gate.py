"""`python -m devstack.contracts.gate --help`: the contract gates, and the one way to accept a contract.

Two gates, each against every accepted contract (see `devstack.contracts.history`):
- gRPC and JSON: `buf breaking` with buf.yaml's rules (a removed RPC, a removed or renamed field or enum value,
  a changed JSON name, a changed type);
- REST: oasdiff over the OpenAPI documents generated from both (a moved path, a removed operation, a narrowed
  parameter), which buf cannot see because `google.api.http` is an option, not a wire type.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from devstack.contracts import history
from devstack.contracts.history import Contract, HistoryError
from devstack.contracts.tools import tool_paths

REPO = Path(__file__).resolve().parents[2]
GENERATOR = Path(__file__).with_name("openapi.py")
# The gateway rejects query parameters it does not know (400), so an app still sending a removed or renamed one
# fails: oasdiff's default for that is a warning, ours is an error.
SEVERITY_LEVELS = Path(__file__).with_name("oasdiff-levels.txt")


@dataclass(frozen=True)
class Tools:
    buf: Path
    oasdiff: Path
    plugin: Path
    """The protoc plugin that turns protos into OpenAPI."""


@dataclass(frozen=True)
class Finding:
    gate: str
    against: Contract
    text: str


def check(repo: Path, tools: Tools, *, openapi: Path | None = None) -> list[Finding]:
    """Every incompatibility of the working tree with an accepted contract; empty when there is none."""
    baseline = history.read_baseline(repo)
    current = history.working_contract(repo)
    contracts = [c for c in history.accepted_contracts(repo, baseline) if c.digest != current.digest]
    if not contracts:
        print(f"contracts: unchanged since the accepted baseline {baseline[:12]}")
        return []
    cache = repo / "build" / "contracts"
    candidate = openapi or _openapi(repo, tools, repo / "protos", cache / f"{current.digest}.yaml")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="contracts-") as scratch:
        for contract in contracts:
            assert contract.commit is not None  # accepted contracts are committed ones
            workspace = _workspace(repo, contract.commit, Path(scratch) / contract.digest)
            found = _buf_breaking(repo, workspace, tools, contract)
            base = _openapi(repo, tools, workspace / "protos", cache / f"{contract.digest}.yaml")
            found += _oasdiff(base, candidate, tools, contract)
            print(f"contracts: against {contract.label}: {'compatible' if not found else f'{len(found)} break(s)'}")
            findings += found
    return findings


def _workspace(repo: Path, commit: str, into: Path) -> Path:
    """A buf workspace holding `commit`'s protos beside today's buf.yaml and third-party protos.

    The module layout is the build's business, not the contract's, so every contract is read with today's.
    """
    history.extract(repo, commit, into)
    shutil.copy(repo / "buf.yaml", into / "buf.yaml")
    shutil.copytree(dependencies(repo), into / dependencies(repo).relative_to(repo))
    return into


def dependencies(repo: Path) -> Path:
    """The one buf module of third-party protos (google/api, buf/validate, ...) that buf.yaml names."""
    modules: list[dict[str, str]] = yaml.safe_load((repo / "buf.yaml").read_text())["modules"]
    others = [repo / str(m["path"]) for m in modules if m["path"] != "protos"]
    if len(others) != 1:
        raise HistoryError(f"buf.yaml should name protos and one module of dependencies, not {len(others)}")
    return others[0]


def _buf_breaking(repo: Path, against: Path, tools: Tools, contract: Contract) -> list[Finding]:
    result = subprocess.run(
        [str(tools.buf), "breaking", "--against", str(against), "--error-format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    findings = []
    for line in result.stdout.splitlines():
        item = json.loads(line)
        where = f"{item.get('path', '?')}:{item.get('start_line', 0)}"
        findings.append(Finding("buf", contract, f"{where}: {item.get('message')} [{item.get('type')}]"))
    if not findings:  # buf itself failed: a build error says more than any rule would
        raise HistoryError(f"buf breaking failed:\n{result.stderr.strip()}")
    return findings


def _oasdiff(base: Path, revision: Path, tools: Tools, contract: Contract) -> list[Finding]:
    result = subprocess.run(
        [
            str(tools.oasdiff),
            "breaking",
            "--fail-on",
            "ERR",
            "--severity-levels",
            str(SEVERITY_LEVELS),
            "--format",
            "singleline",
            str(base),
            str(revision),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    lines = [line for line in result.stdout.splitlines() if line.startswith("error")]
    if not lines:
        raise HistoryError(f"oasdiff failed:\n{result.stdout.strip()}\n{result.stderr.strip()}")
    return [Finding("rest", contract, line) for line in lines]


def _openapi(repo: Path, tools: Tools, protos: Path, out: Path) -> Path:
    """The OpenAPI document of a proto tree, kept by the contract's digest and the generator's own identity."""
    generator = hashlib.sha256(GENERATOR.read_bytes() + str(tools.plugin).encode()).hexdigest()[:12]
    cached = out.with_name(f"{out.stem}-{generator}.yaml")
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "devstack.contracts.openapi", "--protos", str(protos)]
        command += ["--deps", str(dependencies(repo)), "--plugin", str(tools.plugin), "--out", str(cached)]
        subprocess.run(command, cwd=REPO, check=True)
    return cached


def _report(findings: Sequence[Finding]) -> None:
    against = None
    for finding in findings:
        if finding.against != against:
            against = finding.against
            print(f"against {against.label}:", file=sys.stderr)
        print(f"  {finding.gate}: {finding.text}", file=sys.stderr)


def accept(repo: Path, tools: Tools, *, breaking: bool) -> int:
    """Record HEAD's contract as the baseline: freely when compatible, with `breaking` when it is not."""
    head = history.git(repo, "rev-parse", "HEAD").decode().strip()
    if history.working_contract(repo).digest != history.committed_contract(repo, head).digest:
        print("contracts: commit the .proto changes first; the baseline names a commit", file=sys.stderr)
        return 1
    findings = check(repo, tools)
    if findings and not breaking:
        _report(findings)
        print(
            "contracts: not accepted. These changes break what clients use; to accept them on purpose "
            "(and tell the clients), run `make contracts-accept-breaking` and say so in the commit message.",
            file=sys.stderr,
        )
        return 1
    if findings:
        print("contracts: accepting these breaking changes on purpose:")
        _report(findings)
    history.write_baseline(repo, head)
    print(f"contracts: {history.BASELINE_FILE} now names {head[:12]}; commit it")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.contracts.gate",
        description="Compare the working tree's contracts with every accepted one (protos/BASELINE and each "
        "later commit that changed a .proto file): buf breaking for gRPC and JSON, oasdiff for REST. "
        "`make check` runs `check`; `make contracts-accept` and `make contracts-accept-breaking` run `accept`.",
    )
    parser.add_argument(
        "command",
        choices=["check", "accept"],
        help="check: exit 1 on any break; accept: move the baseline to HEAD (refused on a break unless --breaking)",
    )
    parser.add_argument("--breaking", action="store_true", help="with accept: accept breaking changes on purpose")
    parser.add_argument("--repo", type=Path, default=REPO, help="the repository (default: this one)")
    for option, variable, text in (
        ("--buf", "CONTRACTS_BUF", "the buf executable"),
        ("--oasdiff", "CONTRACTS_OASDIFF", "the oasdiff executable"),
        ("--plugin", "CONTRACTS_OPENAPI_PLUGIN", "the protoc plugin that generates OpenAPI"),
    ):
        default = tool_paths().get(variable)
        parser.add_argument(
            option,
            type=Path,
            default=default,
            required=default is None,
            help=f"{text} (default: ${variable}, else as `make setup` wrote it in build/tools.env)",
        )
    parser.add_argument("--openapi", type=Path, help="the working tree's OpenAPI document, if already generated")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    tools = Tools(args.buf, args.oasdiff, args.plugin)
    try:
        if args.command == "accept":
            return accept(args.repo, tools, breaking=args.breaking)
        findings = check(args.repo, tools, openapi=args.openapi)
    except HistoryError as exc:
        print(f"contracts: {exc}", file=sys.stderr)
        return 2
    if findings:
        _report(findings)
        print(
            f"contracts: {len(findings)} breaking change(s). Clients rely on the accepted contracts: keep the old "
            "names and paths (deprecate, add new ones beside them), or accept the break on purpose with "
            "`make contracts-accept-breaking`.",
            file=sys.stderr,
        )
        return 1
    print("contracts: compatible with every accepted contract")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
