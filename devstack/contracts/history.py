"""Which contracts clients may already rely on: the accepted baseline and every contract main has had since.

`protos/BASELINE` names the commit whose contracts were last accepted on purpose. Every commit after it that
changed a `.proto` file also put a contract in front of clients, so the working tree must stay compatible with
each of them, not only with the newest: otherwise a field added in one commit could be renamed in the next and
neither comparison alone would see a break. Accepting (`make contracts-accept`) moves the baseline forward,
which also keeps this list short.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

BASELINE_FILE = Path("protos") / "BASELINE"
PROTO_PATHSPEC = ":(glob)protos/**/*.proto"

_BASELINE_HEADER = """\
# The last contract accepted on purpose: the commit whose protos `make check` compares the working tree against,
# together with every later commit that changed a .proto file. Written only by `make contracts-accept`
# (compatible changes) or `make contracts-accept-breaking` (a break, on purpose); see docs/contracts.md.
"""


class HistoryError(RuntimeError):
    """The repository cannot say what the accepted contract is; the message says how to fix that."""


@dataclass(frozen=True)
class Contract:
    """The `.proto` files of one commit (or of the working tree when `commit` is None)."""

    commit: str | None
    subject: str
    digest: str
    """Identifies the set of proto files and their contents, so equal contracts are compared once."""

    @property
    def label(self) -> str:
        return "the working tree" if self.commit is None else f"{self.commit[:12]} ({self.subject})"


def git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    result = subprocess.run(["git", *args], cwd=repo, input=input_bytes, capture_output=True, check=False)
    if result.returncode != 0:
        raise HistoryError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def read_baseline(repo: Path) -> str:
    """The commit named by protos/BASELINE, checked to exist here."""
    path = repo / BASELINE_FILE
    try:
        lines = [line.strip() for line in path.read_text().splitlines()]
    except FileNotFoundError:
        raise HistoryError(
            f"{BASELINE_FILE} is missing: `make contracts-accept` records the current contract"
        ) from None
    names = [line for line in lines if line and not line.startswith("#")]
    if len(names) != 1:
        raise HistoryError(f"{BASELINE_FILE} must name exactly one commit, found {len(names)}")
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{names[0]}^{{commit}}").decode().strip()
    except HistoryError:
        raise HistoryError(
            f"{BASELINE_FILE} names {names[0]}, which this clone does not have "
            "(a shallow clone? `git fetch --unshallow` brings the history the contract gate needs)"
        ) from None


def write_baseline(repo: Path, commit: str) -> None:
    (repo / BASELINE_FILE).write_text(f"{_BASELINE_HEADER}{commit}\n")


def accepted_contracts(repo: Path, baseline: str) -> list[Contract]:
    """The baseline's contract and each distinct one committed after it, oldest first."""
    later = git(repo, "rev-list", "--reverse", f"{baseline}..HEAD", "--", PROTO_PATHSPEC).decode().split()
    found: dict[str, Contract] = {}
    for commit in [baseline, *later]:
        contract = committed_contract(repo, commit)
        found.setdefault(contract.digest, contract)
    return list(found.values())


def committed_contract(repo: Path, commit: str) -> Contract:
    # ls-tree takes no glob pathspecs: list protos/ and keep the .proto files.
    lines = git(repo, "ls-tree", "-r", commit, "--", "protos").decode().splitlines(keepends=True)
    listing = "".join(line for line in lines if line.rstrip("\n").endswith(".proto")).encode()
    subject = git(repo, "log", "-1", "--format=%s", commit).decode().strip()
    return Contract(commit, subject, hashlib.sha256(listing).hexdigest())


def working_contract(repo: Path) -> Contract:
    """The working tree's protos, hashed the way git lists a commit's, so an unchanged tree matches its commit."""
    paths = sorted(str(p.relative_to(repo)) for p in (repo / "protos").rglob("*.proto"))
    blobs = git(repo, "hash-object", "--stdin-paths", input_bytes="\n".join(paths).encode()).decode().split()
    listing = "".join(f"100644 blob {blob}\t{path}\n" for blob, path in zip(blobs, paths, strict=True))
    return Contract(None, "", hashlib.sha256(listing.encode()).hexdigest())


def extract(repo: Path, commit: str, into: Path) -> Path:
    """Write `commit`'s protos/ under `into` and return that protos directory."""
    archive = git(repo, "archive", "--format=tar", commit, "protos")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "protos"
