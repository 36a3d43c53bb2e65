"""Data files the tests and benchmarks read, with the one name each is known by."""

from __future__ import annotations

from pathlib import Path

# The real, dirty legacy export (see README.md here): the end-to-end tier serves it, the ETL's tests pin its counts,
# the search benchmarks and the legacy relevance judgments are measured on it.
LEGACY_EXPORT = Path(__file__).resolve().with_name("movies-legacy.sqlite")
