"""Cleaning rules for the values of a legacy export, and a tally of what each rule changed.

The export writes 'N/A' where it means "nothing", pads and repeats values, and joins lists into strings; the
catalogue wants "", None or () for a missing value and each person or genre once. Every rule is a pure function
of raw column values, so the reader, the counter and the tests share one definition.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable

# Compared case-insensitively after trimming; the legacy file only uses 'N/A', the others are the usual
# spellings of the same idea in hand-edited exports.
PLACEHOLDERS = frozenset({"n/a", "null", "none"})
# Lower-casing never shortens a string, so a longer one is no placeholder: most values (plots, names) skip lower().
_LONGEST_PLACEHOLDER = max(map(len, PLACEHOLDERS))
_CO_DIRECTOR = re.compile(r"\s*\(co-director\)\s*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
MAX_RATING = 10.0

# What the tally counts; the phrases are printed as they are by `python -m etl check`.
DUPLICATE_MOVIE = "movies: repeated id, later row dropped"
MOVIE_WITHOUT_ID = "movies: no id, dropped"
MOVIE_WITHOUT_TITLE = "movies: no title, dropped"
RATING_UNREADABLE = "imdb_rating: not a number from 0 to 10, dropped"
CO_DIRECTOR = "director: '(co-director)' suffix stripped"
REPEATED_NAME = "director/genre: repeated name dropped"
WHITESPACE = "text: surrounding or repeated whitespace trimmed"
LINK_REPEATED = "actor links: repeated pair dropped"
LINK_PLACEHOLDER = "actor links: to an actor named 'N/A' or nameless, dropped"
LINK_UNKNOWN_ACTOR = "actor links: to an unknown actor id, dropped"
LINK_BAD_ACTOR_ID = "actor links: actor id not an integer, dropped"
LINK_UNKNOWN_MOVIE = "actor links: to no movie of the export, ignored"
WRITER_REPEATED = "writers: repeated id in a movie's list dropped"
WRITER_PLACEHOLDER = "writers: writer named 'N/A' or nameless dropped"
WRITER_UNKNOWN = "writers: unknown writer id dropped"
WRITERS_UNREADABLE = 'writers: list not readable as JSON [{"id": ...}], ignored'
WRITER_AND_WRITERS = "writers: movie has both writer and writers, both used"


def placeholder_removed(column: str) -> str:
    return f"{column}: placeholder ('N/A') removed"


class Tally(Counter[str]):
    """How often each rule changed something; the reader adds to it only when asked for one."""


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def is_missing(value: object) -> bool:
    text = _as_text(value).strip()
    return not text or (len(text) <= _LONGEST_PLACEHOLDER and text.lower() in PLACEHOLDERS)


def clean_text(value: object, column: str, tally: Tally | None = None, *, one_line: bool = True) -> str:
    """The value trimmed ("" when missing); a one-line value also loses runs of inner whitespace."""
    raw = _as_text(value)
    text = " ".join(raw.split()) if one_line else raw.strip()
    if len(text) <= _LONGEST_PLACEHOLDER and text.lower() in PLACEHOLDERS:
        if tally is not None:
            tally[placeholder_removed(column)] += 1
        return ""
    if tally is not None and text != raw:
        tally[WHITESPACE] += 1
    return text


def clean_names(value: object, column: str, tally: Tally | None = None) -> tuple[str, ...]:
    """A comma-separated list of names or genres: each trimmed, placeholders and repeats dropped, order kept."""
    names: list[str] = []
    for part in _as_text(value).split(","):
        # The blank after each comma belongs to the separator, not to the name: no whitespace fix to tally.
        name = clean_text(part.strip(), column, tally)
        stripped = _CO_DIRECTOR.sub("", name)
        if stripped != name:
            if tally is not None:
                tally[CO_DIRECTOR] += 1
            name = clean_text(stripped, column, tally)
        if not name:
            continue
        if name in names:
            if tally is not None:
                tally[REPEATED_NAME] += 1
            continue
        names.append(name)
    return tuple(names)


def clean_rating(value: object, tally: Tally | None = None) -> float | None:
    if is_missing(value):
        if tally is not None and value is not None and _as_text(value).strip():
            tally[placeholder_removed("imdb_rating")] += 1
        return None
    if isinstance(value, int | float):
        rating = float(value)
    else:
        try:
            # A decimal comma is how some locales wrote the same number.
            rating = float(_as_text(value).strip().replace(",", "."))
        except ValueError:
            rating = math.nan
    if not 0.0 <= rating <= MAX_RATING:  # also false for nan
        if tally is not None:
            tally[RATING_UNREADABLE] += 1
        return None
    return rating


def clean_actor_id(value: object) -> int | None:
    """The link table stores actor ids as text; only a plain non-negative integer names an actor."""
    if isinstance(value, int):
        return value if value >= 0 else None
    text = _as_text(value).strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def writer_ids(writer: object, writers: object, tally: Tally | None = None) -> list[str]:
    """Ids from the single `writer` column, then from the JSON list in `writers`: first-seen order, once each."""
    candidates: list[object] = [writer]
    listed = _as_text(writers).strip()
    if listed:
        candidates.extend(_listed_ids(listed, tally))
        if tally is not None and not is_missing(writer):
            tally[WRITER_AND_WRITERS] += 1
    ids: list[str] = []
    for candidate in candidates:
        if is_missing(candidate):
            continue
        writer_id = _as_text(candidate).strip()
        if writer_id in ids:
            if tally is not None:
                tally[WRITER_REPEATED] += 1
            continue
        ids.append(writer_id)
    return ids


def _listed_ids(listed: str, tally: Tally | None) -> Iterable[object]:
    try:
        items = json.loads(listed)
    except ValueError:
        items = None
    if not isinstance(items, list):
        if tally is not None:
            tally[WRITERS_UNREADABLE] += 1
        return ()
    # A bare string is taken as an id too: it says the same thing less formally.
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    readable = [i for i in ids if isinstance(i, str | int)]
    if tally is not None and len(readable) != len(ids):
        tally[WRITERS_UNREADABLE] += 1
    return readable
