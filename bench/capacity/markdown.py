"""Reading docs/benchmarks.md: its marked sections, the Markdown tables in them, and numbers as the benchmarks
print them (thousands separators, units, bold)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")


def sections(text: str) -> dict[str, str]:
    """Every `<!-- name:begin --> ... <!-- name:end -->` section by name; a section nested in another is found
    too (a begin with no end is not a section)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"<!-- ([\w.:-]+):begin -->", text):
        name = match.group(1)
        end = text.find(f"<!-- {name}:end -->", match.end())
        if end != -1:
            found[name] = text[match.end() : end].strip("\n")
    return found


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]

    def column(self, *names: str) -> int:
        """Index of the first column whose header equals one of `names` (case and spacing ignored)."""
        wanted = [_fold(name) for name in names]
        for index, cell in enumerate(self.header):
            if _fold(cell) in wanted:
                return index
        raise KeyError(f"no column {names!r} in {self.header!r}")

    def row(self, starting: str) -> list[str] | None:
        """The first row whose first cell starts with `starting` (case ignored)."""
        for row in self.rows:
            if row and _fold(row[0]).startswith(_fold(starting)):
                return row
        return None


def tables(text: str) -> list[Table]:
    """Each Markdown table in `text`: a header row, a separator row of dashes, then rows (cells stripped)."""
    found: list[Table] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if _is_row(lines[index]) and index + 1 < len(lines) and _is_separator(lines[index + 1]):
            header = _cells(lines[index])
            rows = []
            index += 2
            while index < len(lines) and _is_row(lines[index]):
                rows.append(_cells(lines[index]))
                index += 1
            found.append(Table(header, rows))
        else:
            index += 1
    return found


def number(cell: str) -> float:
    """The first number in a cell: `1,851,950` → 1851950, `**0.24×**` → 0.24, `33.3 (2.3×)` → 33.3."""
    match = _NUMBER.search(cell.replace("\u2009", ""))
    if match is None:
        raise ValueError(f"no number in {cell!r}")
    return float(match.group().replace(",", ""))


def millisecond_parts(text: str) -> dict[str, float]:
    """`search service 2.41 ms, Envoy 0.76 ms, load generator 0.60 ms` → {"search service": 2.41, ...}."""
    return {name.strip(): float(value) for name, value in re.findall(r"([A-Za-z][\w .-]*?)\s+(\d+(?:\.\d+)?) ms", text)}


def _fold(text: str) -> str:
    return " ".join(text.replace("*", "").replace("`", "").lower().split())


def _is_row(line: str) -> bool:
    return line.strip().startswith("|")


def _is_separator(line: str) -> bool:
    cells = _cells(line)
    return bool(cells) and all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells)


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in inner.split("|")]
