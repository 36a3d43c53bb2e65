"""The contract gates on a scratch copy of the contracts: each kind of break, committed, is caught; growth is not.

A scratch git repository holds today's protos as the accepted baseline; each test commits one change on its main
branch, as a developer would, and runs the gate that `make check` runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devstack.contracts import gate, history
from devstack.contracts.tools import NAMES, tool_paths

REPO = Path(__file__).resolve().parents[2]
SEARCH_PROTO = Path("protos/cinemesh/search/v1/search.proto")


def _replace(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "cinemesh tests",
    "GIT_AUTHOR_EMAIL": "tests@cinemesh.invalid",
    "GIT_COMMITTER_NAME": "cinemesh tests",
    "GIT_COMMITTER_EMAIL": "tests@cinemesh.invalid",
}
ADD_LANGUAGE = _replace(
    "  // Only movies rated at most this (0..10).\n",
    "  // Only movies in this language.\n  string language = 9;\n  // Only movies rated at most this (0..10).\n",
)
# An enum is no part of today's search contract; the scratch baseline gets one so that its values can be broken.
ENUM = "\nenum Quality {\n  QUALITY_UNSPECIFIED = 0;\n  QUALITY_SD = 1;\n  QUALITY_HD = 2;\n}\n"


def _tools() -> gate.Tools:
    paths = tool_paths()
    missing = [name for name in NAMES if not Path(paths.get(name, "")).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not built: `make setup` builds the contract tools")
    return gate.Tools(*(Path(paths[name]) for name in NAMES))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_IDENTITY}, check=True, capture_output=True)


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


def _edit(repo: Path, change: Callable[[str], str]) -> None:
    path = repo / SEARCH_PROTO
    before = path.read_text()
    after = change(before)
    assert after != before, "the planted change did not apply: the proto no longer reads as this test expects"
    path.write_text(after)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Today's contracts, plus an enum, accepted as the baseline of a fresh repository on branch main."""
    scratch = tmp_path / "repo"
    for proto in (REPO / "protos").rglob("*.proto"):
        target = scratch / proto.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(proto, target)
    shutil.copy(REPO / "buf.yaml", scratch / "buf.yaml")
    deps = gate.dependencies(REPO)
    shutil.copytree(deps, scratch / deps.relative_to(REPO))
    (scratch / ".gitignore").write_text("build/\n")
    _git(scratch, "init", "-q", "-b", "main")
    (scratch / SEARCH_PROTO).write_text((scratch / SEARCH_PROTO).read_text() + ENUM)
    _commit(scratch, "feat: the accepted contract")
    history.write_baseline(scratch, _head(scratch))
    _commit(scratch, "chore: accept the contract")
    return scratch


def _head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout


def _breaks(repo: Path) -> set[tuple[str, str]]:
    """(gate, rule) of every finding: buf's rule id or oasdiff's check id."""
    found = set()
    for finding in gate.check(repo, _tools()):
        rule = re.search(r"\[([A-Za-z0-9_-]+)\]", finding.text)
        assert rule, finding.text
        found.add((finding.gate, rule.group(1)))
    return found


def test_an_unchanged_contract_passes(repo: Path) -> None:
    assert gate.check(repo, _tools()) == []


def test_an_added_optional_field_passes(repo: Path) -> None:
    _edit(repo, ADD_LANGUAGE)
    _commit(repo, "feat: filter by language")

    assert _breaks(repo) == set()


def test_a_removed_rpc_fails_both_gates(repo: Path) -> None:
    _edit(repo, lambda text: re.sub(r"\n  // SuggestTitles.*?\n  }\n", "\n", text, count=1, flags=re.S))
    _commit(repo, "refactor: no suggestions")

    found = _breaks(repo)
    assert ("buf", "RPC_NO_DELETE") in found
    assert ("rest", "api-path-removed-without-deprecation") in found


def test_a_renamed_field_fails_both_gates(repo: Path) -> None:
    _edit(repo, _replace("string search = 3 [", "string query = 3 ["))
    _commit(repo, "refactor: query, not search")

    found = _breaks(repo)
    assert {("buf", "FIELD_SAME_NAME"), ("buf", "FIELD_SAME_JSON_NAME")} <= found
    assert ("rest", "request-parameter-removed") in found


def test_a_changed_json_name_fails(repo: Path) -> None:
    _edit(repo, _replace("string search = 3 [", 'string search = 3 [json_name = "q", '))
    _commit(repo, "refactor: a shorter JSON name")

    assert ("buf", "FIELD_SAME_JSON_NAME") in _breaks(repo)


def test_a_removed_or_renamed_enum_value_fails(repo: Path) -> None:
    _edit(repo, _replace("  QUALITY_HD = 2;\n", ""))
    _commit(repo, "refactor: no HD")
    assert ("buf", "ENUM_VALUE_NO_DELETE") in _breaks(repo)

    _edit(repo, _replace("  QUALITY_SD = 1;\n", "  QUALITY_STANDARD = 1;\n"))
    _commit(repo, "refactor: a longer name")
    assert ("buf", "ENUM_VALUE_SAME_NAME") in _breaks(repo)


def test_a_moved_rest_path_fails_the_rest_gate(repo: Path) -> None:
    _edit(repo, _replace('get: "/api/v1/video/get/{id}"', 'get: "/api/v1/videos/{id}"'))
    _commit(repo, "refactor: plural paths")

    # The wire and JSON shapes are unchanged, so only the REST gate can see it.
    assert _breaks(repo) == {("rest", "api-path-removed-without-deprecation")}


def test_a_narrowed_parameter_fails_the_rest_gate(repo: Path) -> None:
    _edit(repo, lambda text: re.sub(r"(optional int32 limit = 1 \[[^]]*lte: )100", r"\g<1>50", text, count=1))
    _commit(repo, "perf: smaller pages")

    assert ("rest", "request-parameter-max-decreased") in _breaks(repo)


def test_every_contract_since_the_baseline_counts(repo: Path) -> None:
    """A field added after the baseline is on main already: renaming it later breaks its clients too."""
    _edit(repo, ADD_LANGUAGE)
    _commit(repo, "feat: filter by language")
    _edit(repo, _replace("string language = 9;", "string lang = 9;"))
    _commit(repo, "refactor: lang")

    found = gate.check(repo, _tools())
    assert found, "renaming a committed field passed"
    assert all(f.against.subject == "feat: filter by language" for f in found)


def test_a_break_is_accepted_only_on_purpose(repo: Path) -> None:
    _edit(repo, _replace("string search = 3 [", "string query = 3 ["))
    _commit(repo, "refactor!: query, not search")
    tools = _tools()

    assert gate.accept(repo, tools, breaking=False) == 1
    assert gate.check(repo, tools), "a refused acceptance must not move the baseline"

    assert gate.accept(repo, tools, breaking=True) == 0
    _commit(repo, "chore(contracts): accept query, not search")
    assert gate.check(repo, tools) == []


def test_the_command_exits_nonzero_on_a_break(repo: Path) -> None:
    _edit(repo, _replace("string search = 3 [", "string query = 3 ["))
    _commit(repo, "refactor: query, not search")

    result = subprocess.run(
        [sys.executable, "-m", "devstack.contracts.gate", "check", "--repo", str(repo)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FIELD_SAME_NAME" in result.stderr
