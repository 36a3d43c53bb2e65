"""Installed trees in the cache, each with a manifest of what was installed (sha256 and mode of every file).

A warm install re-reads the manifest and re-hashes the tree (a second or two even for a few hundred MB): a file
edited, truncated, lost or stripped of its exec bit makes the tree count as damaged, and it is built again.
A tree is built beside its final place and renamed into it, so an interrupted install leaves nothing half-done.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.engines.base import EngineError, sha256_of

log = logging.getLogger(__name__)

MANIFEST_NAME = ".devstack-manifest.json"


@dataclass(frozen=True)
class Manifest:
    source: str
    """What was installed (coordinates and versions): a different source means a different tree."""
    files: dict[str, str]
    """Relative path → `sha256:<hex>:<octal mode>` for files, `link:<target>` for symbolic links."""

    @classmethod
    def of(cls, root: Path, source: str) -> Manifest:
        return cls(source, {path.relative_to(root).as_posix(): _entry(path) for path in _walk(root)})

    @classmethod
    def load(cls, root: Path) -> Manifest | None:
        try:
            data = json.loads((root / MANIFEST_NAME).read_text())
            return cls(str(data["source"]), {str(k): str(v) for k, v in data["files"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, root: Path) -> None:
        text = json.dumps({"source": self.source, "files": self.files}, indent=1, sort_keys=True)
        (root / MANIFEST_NAME).write_text(text + "\n")

    def problems(self, root: Path) -> list[str]:
        """Differences between this record and the tree as it is now (empty when intact)."""
        found: list[str] = []
        for relative, expected in self.files.items():
            path = root / relative
            try:
                actual = _entry(path)
            except FileNotFoundError:
                found.append(f"{relative} is missing")
                continue
            if actual != expected:
                found.append(f"{relative} changed")
        return found


def ensure_installed(root: Path, source: str, build: Callable[[Path], object]) -> bool:
    """Make `root` hold what `build(directory)` produces for `source`; returns True when it had to build.

    `build` fills an empty directory; it runs only when `root` is absent, was built from another source,
    or no longer matches its manifest.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f".{root.name}.lock"):
        problems = _check(root, source)
        if not problems:
            return False
        if root.exists():
            log.warning("%s is damaged or stale (%s): installing it again", root, "; ".join(problems[:5]))
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            build(partial)
            Manifest.of(partial, source).save(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
        return True


def _check(root: Path, source: str) -> list[str]:
    if not root.is_dir():
        return ["not installed"]
    manifest = Manifest.load(root)
    if manifest is None:
        return ["no readable manifest"]
    if manifest.source != source:
        return [f"installed from {manifest.source!r}, wanted {source!r}"]
    if not manifest.files:
        return ["empty manifest"]
    return manifest.problems(root)


def _walk(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(directory)
        for name in sorted(files):
            if base == root and name == MANIFEST_NAME:
                continue
            yield base / name
        # os.walk lists symbolic links to directories among dirs and does not follow them: record them as links.
        yield from (base / name for name in dirs if (base / name).is_symlink())


def _entry(path: Path) -> str:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return f"link:{os.readlink(path)}"
    return f"sha256:{sha256_of(path)}:{stat.S_IMODE(mode):o}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time per tree (two test sessions, or a test session and `devstack install`)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as exc:
            raise EngineError(f"cannot lock {path}: {exc}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
