"""SearchIndex on tantivy (embedded profile): serves the version the loader's pointer file names, following it live.

What text matches is built in `tantivy_queries`; pages and their tie order in `tantivy_ordering`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import tantivy

from meshkit.errors import Unavailable
from search_svc.adapters import tantivy_schema as schema
from search_svc.adapters.tantivy_ordering import Prior, page_by_prior, page_by_relevance, page_in_order, sort_keys
from search_svc.adapters.tantivy_queries import (
    WORD_MATCHED,
    all_of,
    completion_query,
    genre_filter,
    partial_query,
    rating_filter,
    term_query,
    text_query,
)
from search_svc.adapters.tantivy_searcher_cache import SearcherCache
from search_svc.adapters.tantivy_summaries import movie, summary
from search_svc.adapters.tantivy_versions import POINTER, serving_path
from search_svc.domain.completeness import RECORD_WEIGHT_SCALE
from search_svc.domain.movie import GenreCount, Movie, VideoPage, VideoSummary
from search_svc.domain.search_repair import repaired_search, taken_as_typed
from search_svc.domain.video_query import SortField, SuggestQuery, VideoQuery

MAX_GENRE_BUCKETS = 10_000
FACET_CACHE_SIZE = 256
# How fully the catalogue describes a movie (`domain.completeness`): in the fallback, among movies matching as many
# words.
RECORD_PRIOR = Prior(schema.RECORD_WEIGHT, RECORD_WEIGHT_SCALE)
FALLBACK_PRIOR = Prior(schema.RECORD_WEIGHT, RECORD_WEIGHT_SCALE, per_word=WORD_MATCHED)


# Genre counts by searcher and what they depend on (fallback or not, text, rating range): the catalogue's own counts
# (no text) are asked for by every listing and cost a pass over every movie.
_FACETS: SearcherCache[tuple[str, float | None, float | None], tuple[GenreCount, ...]] = SearcherCache(FACET_CACHE_SIZE)


@dataclass
class _Version:
    identity: tuple[int, int, int]
    searcher: tantivy.Searcher


class TantivySearchIndex:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        # Stat'ed on every call: the path is built once.
        self._pointer = os.fspath(directory / POINTER)
        self._version: _Version | None = None
        self._opening = threading.Lock()

    # Answered on the caller's event loop, not in a worker thread. An answer is a few milliseconds, and most
    # of that holds the GIL (building the query, reading cards), so a thread buys no parallelism. The hand-off
    # to the thread and back cost more than it saved: at 200 rps through the gateway, p50 fell from 4.4–5.1 ms
    # to 3.4–3.8 ms and p99 from 15–18 ms to 8–9 ms when the hop was removed (docs/benchmarks.md).
    async def search(self, query: VideoQuery) -> VideoPage:
        return self._search(query)

    async def get(self, movie_id: str) -> Movie | None:
        return self._get(movie_id)

    async def suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        return self._suggest(query)

    async def close(self) -> None:
        self._version = None

    def _search(self, query: VideoQuery) -> VideoPage:
        return search_page(self._current().searcher, query)

    def _get(self, movie_id: str) -> Movie | None:
        return find_movie(self._current().searcher, movie_id)

    def _suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        return suggestions(self._current().searcher, query)

    def _current(self) -> _Version:
        """The serving version, reopened when the pointer has been replaced since (one stat per call)."""
        failure: Exception | None = None
        # A version can be published over and deleted between reading the pointer and opening it: then look again.
        for _ in range(3):
            identity = self._pointer_identity()
            version = self._version
            if version is not None and version.identity == identity:
                return version
            with self._opening:
                version = self._version
                if version is not None and version.identity == identity:
                    return version
                path = serving_path(self._directory)
                if path is None:
                    raise _nothing_published(self._directory)
                try:
                    index = tantivy.Index.open(str(path))
                except (OSError, ValueError) as error:
                    failure = error
                    continue
                # A version never changes once published: no reader thread needs to watch it for commits.
                index.config_reader(reload_policy="Manual")
                self._version = version = _Version(identity, index.searcher())
                return version
        raise Unavailable(f"cannot open the published catalogue in {self._directory}: {failure}")

    def _pointer_identity(self) -> tuple[int, int, int]:
        try:
            status = os.stat(self._pointer)
        except FileNotFoundError:
            raise _nothing_published(self._directory) from None
        return status.st_dev, status.st_ino, status.st_mtime_ns


def _nothing_published(directory: Path) -> Unavailable:
    return Unavailable(f"no catalogue loaded yet: run the ETL (nothing published in {directory})")


# --- answers ---------------------------------------------------------------------------------------------------


def search_page(searcher: tantivy.Searcher, query: VideoQuery) -> VideoPage:
    """One page of `query`; relevance ignores `query.order` (best first)."""
    page = _search_page(searcher, query, text_query)
    partial = page.total == 0 and bool(query.text)
    if partial:
        # Nothing holds every word: the movies holding most of them, rather than an empty page.
        page = _search_page(searcher, query, partial_query, facet_kind="partial")
    if query.text and page.items and not taken_as_typed(query.text, page.items[0].title):
        top = find_movie(searcher, page.items[0].id)
        if top is not None:
            return replace(page, repaired_search=repaired_search(query.text, top, partial=partial))
    return page


def _search_page(
    searcher: tantivy.Searcher,
    query: VideoQuery,
    matches: Callable[[tantivy.Searcher, str], tantivy.Query | None],
    facet_kind: str = "",
) -> VideoPage:
    matching = matches(searcher, query.text) if query.text else tantivy.Query.all_query()
    if matching is None:
        return VideoPage((), 0)
    rated = all_of(matching, *rating_filter(query))
    selected = all_of(rated, *genre_filter(query))
    if query.sort is None and query.text:
        # A fuller record weighs more (`domain.completeness`); in the fallback only among movies matching as many
        # words, which come first.
        prior = FALLBACK_PRIOR if facet_kind else RECORD_PRIOR
        addresses, total = page_by_prior(searcher, selected, prior, offset=query.offset, limit=query.limit)
    else:
        keys = sort_keys(query.sort or SortField.ID, query.order)
        addresses, total = page_in_order(searcher, selected, keys, offset=query.offset, limit=query.limit)
    facet_key = (f"{facet_kind}\0{query.text}", query.min_rating, query.max_rating)
    genres = _FACETS.get(searcher, facet_key)
    if genres is None:
        genres = _genre_counts(searcher, rated)
        _FACETS.put(searcher, facet_key, genres)
    return VideoPage(tuple(_summaries(searcher, addresses)), total, genres)


def find_movie(searcher: tantivy.Searcher, movie_id: str) -> Movie | None:
    hits = searcher.search(term_query(schema.ID, movie_id), limit=1, count=False).hits
    return movie(searcher, hits[0][1]) if hits else None


def suggestions(searcher: tantivy.Searcher, query: SuggestQuery) -> list[VideoSummary]:
    completing = completion_query(searcher, query.text)
    if completing is None:
        return []
    addresses, _ = page_by_relevance(searcher, completing, offset=0, limit=query.limit, weight=schema.RATING_WEIGHT)
    return _summaries(searcher, addresses)


# --- reading --------------------------------------------------------------------------------------------------------


def _genre_counts(searcher: tantivy.Searcher, query: tantivy.Query) -> tuple[GenreCount, ...]:
    spec = {"genres": {"terms": {"field": schema.GENRE, "size": MAX_GENRE_BUCKETS}}}
    buckets = searcher.aggregate(query, spec)["genres"]["buckets"]
    counts = sorted(((bucket["key"], bucket["doc_count"]) for bucket in buckets), key=lambda kv: (-kv[1], kv[0]))
    return tuple(GenreCount(genre, count) for genre, count in counts)


def _summaries(searcher: tantivy.Searcher, addresses: Iterable[tantivy.DocAddress]) -> list[VideoSummary]:
    return [summary(searcher, address) for address in addresses]
