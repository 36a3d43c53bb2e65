"""Installed trees that an engine running as the unprivileged user must read.

As root the cache usually sits under /root (mode 700), which that user cannot enter. Rather than open up a
home directory, such a tree is mirrored under the work directory with hard links (same file system: instant, no
extra space) or, across file systems, copies. The links share the cache's inodes, so nothing here changes owners.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from devstack.engines.base import DevstackSettings, EngineError, is_root, unprivileged_prefix


def can_access(settings: DevstackSettings, path: Path, mode: str = "r") -> bool:
    """Whether the unprivileged user may read (`r`), write (`w`) or execute (`x`) `path`; always True unless root."""
    if not is_root():
        return True
    argv = [*unprivileged_prefix(settings), "test", f"-{mode}", str(path)]
    return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0


def readable_tree(settings: DevstackSettings, tree: Path, probe: Path, mirror: Path) -> Path:
    """`tree` itself when the unprivileged user can read `probe` inside it, else a fresh mirror of it at `mirror`."""
    if can_access(settings, probe):
        if mirror.exists():
            shutil.rmtree(mirror)
        return tree
    if mirror.exists():
        shutil.rmtree(mirror)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tree, mirror, symlinks=True, copy_function=_link_or_copy)
    # copytree gives new directories the source's modes; they must be enterable by everyone.
    for directory, _dirs, _files in os.walk(mirror):
        Path(directory).chmod(0o755)
    moved = mirror / probe.relative_to(tree)
    if not can_access(settings, moved):
        raise EngineError(
            f"user {settings.run_as!r} cannot read {moved}: choose a work directory it can enter (DEVSTACK_WORK_DIR)"
        )
    return mirror


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
