"""A listing's rows (id, title, rating) and whole movies read from the movies' stored cards, kept per searcher.

Reading a card is a stored-document fetch and a JSON decode of the whole card (description, cast and all) for
three fields; a listing of 50 does it 50 times, and it was a fifth of a search's CPU in the service. A published
version never changes, so what an address holds in one searcher holds for as long as that searcher serves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import tantivy

from search_svc.adapters import tantivy_schema as schema
from search_svc.adapters.tantivy_searcher_cache import SearcherCache
from search_svc.domain.movie import Movie, VideoSummary

# Rows kept; about 200 bytes each.
MAX_SUMMARIES = 1 << 16
# Whole movies kept: a card by id, and the first hit of a search whose words are checked against it for a repaired
# search; a few kilobytes each.
MAX_MOVIES = 1 << 12

T = TypeVar("T")

# By segment and document number.
_SUMMARIES: SearcherCache[tuple[int, int], VideoSummary] = SearcherCache(MAX_SUMMARIES)
_MOVIES: SearcherCache[tuple[int, int], Movie] = SearcherCache(MAX_MOVIES)


def summary(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> VideoSummary:
    """The listing row of the movie at `address`."""
    return _kept(_SUMMARIES, schema.summary_from_card, searcher, address)


def movie(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Movie:
    """The whole movie at `address`."""
    return _kept(_MOVIES, schema.movie_from_card, searcher, address)


def _kept(
    kept: SearcherCache[tuple[int, int], T],
    decode: Callable[[bytes], T],
    searcher: tantivy.Searcher,
    address: tantivy.DocAddress,
) -> T:
    key = (address.segment_ord, address.doc)
    found = kept.get(searcher, key)
    if found is None:
        found = decode(schema.stored_card(searcher, address))
        kept.put(searcher, key, found)
    return found
