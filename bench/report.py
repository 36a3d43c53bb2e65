"""What every benchmark does with its figures: percentiles, and its own section of a Markdown file."""

from __future__ import annotations

from pathlib import Path

NEW_FILE = "# Benchmarks\n\nEach section is written by the command it names.\n"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def publish(section: str, path: Path | None, marks: tuple[str, str], new_file: str = NEW_FILE) -> None:
    """Print `section`; with a path, replace the part between `marks` there (or append it), leaving the rest."""
    print(section)
    if path is None:
        return
    begin, end = marks
    text = path.read_text() if path.exists() else new_file
    if begin in text:
        before, rest = text.split(begin, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
