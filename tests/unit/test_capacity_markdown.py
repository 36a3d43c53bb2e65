"""Reading docs/benchmarks.md: sections by marker, Markdown tables, numbers as the benchmarks print them."""

from __future__ import annotations

import pytest

from bench.capacity.markdown import millisecond_parts, number, sections, tables

DOCUMENT = """# Benchmarks
<!-- outer:begin -->
## Outer
<!-- inner:x:1:begin -->
| path | rps | p99 |
|---|---:|---|
| a **b** | 1,200 | 3.5 |
| c | 50 | 0.75 |
<!-- inner:x:1:end -->
<!-- outer:end -->
<!-- broken:begin -->
no end
"""


def test_sections_by_name_nested_ones_too_and_none_without_an_end() -> None:
    found = sections(DOCUMENT)
    assert set(found) == {"outer", "inner:x:1"}
    assert found["inner:x:1"].startswith("| path |")
    assert "<!-- inner:x:1:begin -->" in found["outer"]


def test_tables_header_rows_and_lookup() -> None:
    (table,) = tables(sections(DOCUMENT)["inner:x:1"])
    assert table.header == ["path", "rps", "p99"]
    assert table.rows == [["a **b**", "1,200", "3.5"], ["c", "50", "0.75"]]
    assert table.column("RPS") == 1
    assert table.row("A B") == ["a **b**", "1,200", "3.5"]
    assert table.row("z") is None
    with pytest.raises(KeyError):
        table.column("p50")


def test_a_line_of_pipes_without_a_separator_is_not_a_table() -> None:
    assert tables("| a | b |\n| c | d |\n") == []


@pytest.mark.parametrize(
    ("cell", "value"),
    [("1,851,950", 1851950), ("**0.24×**", 0.24), ("33.3 (2.3×)", 33.3), ("6.67 ms", 6.67), ("-1.5", -1.5)],
)
def test_number(cell: str, value: float) -> None:
    assert number(cell) == value


def test_number_refuses_a_cell_without_one() -> None:
    with pytest.raises(ValueError, match="no number"):
        number("—")


def test_millisecond_parts() -> None:
    text = " search service 2.41 ms, Envoy 0.76 ms, opensearch 12.57 ms, load generator 0.6 ms"
    assert millisecond_parts(text) == {
        "search service": 2.41,
        "Envoy": 0.76,
        "opensearch": 12.57,
        "load generator": 0.6,
    }
