"""The embedded index's directory: versions side by side, and the pointer file naming the serving one.

    versions/<name>/   one tantivy index per version; names sort in creation order
    CURRENT            "versions/<name>", replaced atomically (temp file + os.replace) to publish

Only paths here, no tantivy: tools that only ask whether a catalogue was published need not load the engine.
"""

from __future__ import annotations

from pathlib import Path

POINTER = "CURRENT"
VERSIONS = "versions"


def serving_path(directory: Path) -> Path | None:
    """The serving version's directory, or None before the first publish."""
    try:
        name = (directory / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return directory / name


def is_published(directory: Path) -> bool:
    """Whether some version of the catalogue has been published in `directory`."""
    return (directory / POINTER).exists()
