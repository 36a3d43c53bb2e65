"""SearchIndex on tantivy (embedded profile): serves the version the loader's CURRENT names, following it live.

Text, per reading of the query (as typed, then in the other keyboard layout at a lower boost): each analysed
word must match; it scores its best field (title over people over genre over description, BM25). In a field
that lacks the word as typed, a term one typo away (two from 8 letters, first letter kept) counts flat at a share
of that field's weight. A reading made only of stop words must find them all among the title's words.
Suggestions match titles only: finished words as in search, the last one as the start of a title word (or the
whole of one), weighted by rating.

Tantivy sorts on one column and leaves equal values in index order, so ties are put in id order here
(`page_in_order`, `page_by_relevance`).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from meshkit.errors import Unavailable
from search_svc.adapters import tantivy_schema as schema
from search_svc.adapters.tantivy_index_loader import POINTER, serving_path
from search_svc.domain.movie import GenreCount, Movie, VideoPage, VideoSummary
from search_svc.domain.text import fold_yo, layout_variants
from search_svc.domain.video_query import SortField, SortOrder, SuggestQuery, VideoQuery

FIELD_BOOSTS = {schema.TITLE: 5.0, schema.PEOPLE: 3.0, schema.GENRE_TEXT: 2.0, schema.DESCRIPTION: 1.0}
# A typo match scores this share of its field's boost, flat: BM25 of an exact match is usually worth more.
TYPO_SHARE = 0.5
# A word found in several fields counts a little more than in its best one alone.
TIE_BREAKER = 0.1
OTHER_LAYOUT_BOOST = 0.5
# Query words of these lengths (after analysis) allow one typo, and two from the second length on.
ONE_TYPO, TWO_TYPOS = 4, 8
# How far past the page a tie in relevance is followed to order it by id; beyond it ties are in index order.
MAX_TIE_RUN = 1_000
MAX_GENRE_BUCKETS = 10_000
FACET_CACHE_SIZE = 256

_ORDERS = {SortOrder.ASC: tantivy.Order.Asc, SortOrder.DESC: tantivy.Order.Desc}


# Genre counts by what they depend on (text and rating range), kept per version: the catalogue's own counts
# (no text) are asked for by every listing and cost a pass over every movie.
FacetCache = dict[tuple[str, float | None, float | None], tuple[GenreCount, ...]]


@dataclass
class _Version:
    identity: tuple[int, int, int]
    searcher: tantivy.Searcher
    facets: FacetCache = field(default_factory=dict)


class TantivySearchIndex:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
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
        version = self._current()
        return search_page(version.searcher, query, version.facets)

    def _get(self, movie_id: str) -> Movie | None:
        return find_movie(self._current().searcher, movie_id)

    def _suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        return suggestions(self._current().searcher, query)

    def _current(self) -> _Version:
        """The serving version, reopened when CURRENT has been replaced since (one stat per call)."""
        failure: Exception | None = None
        # A version can be published over and deleted between reading CURRENT and opening it: then look again.
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
            status = os.stat(self._directory / POINTER)
        except FileNotFoundError:
            raise _nothing_published(self._directory) from None
        return status.st_dev, status.st_ino, status.st_mtime_ns


def _nothing_published(directory: Path) -> Unavailable:
    return Unavailable(f"no catalogue loaded yet: run the ETL (nothing published in {directory})")


# --- answers ---------------------------------------------------------------------------------------------------


def search_page(searcher: tantivy.Searcher, query: VideoQuery, facets: FacetCache | None = None) -> VideoPage:
    """One page of `query`; relevance ignores `query.order` (best first)."""
    matching = text_query(searcher, query.text) if query.text else tantivy.Query.all_query()
    if matching is None:
        return VideoPage((), 0)
    rated = _all_of(matching, *_rating_filter(query))
    selected = _all_of(rated, *_genre_filter(query))
    if query.sort is None and query.text:
        addresses, total = page_by_relevance(searcher, selected, offset=query.offset, limit=query.limit)
    else:
        keys = _sort_keys(query.sort or SortField.ID, query.order)
        addresses, total = page_in_order(searcher, selected, keys, offset=query.offset, limit=query.limit)
    facets = {} if facets is None else facets
    facet_key = (query.text, query.min_rating, query.max_rating)
    genres = facets.get(facet_key)
    if genres is None:
        genres = _genre_counts(searcher, rated)
        if len(facets) >= FACET_CACHE_SIZE:
            facets.clear()
        facets[facet_key] = genres
    return VideoPage(tuple(_summaries(searcher, addresses)), total, genres)


def find_movie(searcher: tantivy.Searcher, movie_id: str) -> Movie | None:
    hits = searcher.search(_term(schema.ID, movie_id), limit=1, count=False).hits
    return schema.movie_from_card(_card(searcher, hits[0][1])) if hits else None


def suggestions(searcher: tantivy.Searcher, query: SuggestQuery) -> list[VideoSummary]:
    completing = completion_query(searcher, query.text)
    if completing is None:
        return []
    addresses, _ = page_by_relevance(searcher, completing, offset=0, limit=query.limit, weight=schema.RATING_WEIGHT)
    return _summaries(searcher, addresses)


# --- queries ----------------------------------------------------------------------------------------------------


def text_query(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    """Movies matching every word of some reading of `text`; None when no reading has a word."""
    return _any_reading(searcher, text, _reading, _exact_reading)


def completion_query(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    """Titles holding the typed words, the last one possibly unfinished."""
    return _any_reading(searcher, text, _completion)


Build = Callable[[tantivy.Searcher, str], tantivy.Query | None]


def _any_reading(
    searcher: tantivy.Searcher, text: str, build: Build, build_other: Build | None = None
) -> tantivy.Query | None:
    """`build` for the text as typed, `build_other` (or `build`) for it in the other keyboard layout."""
    readings = [
        (build if n == 0 else build_other or build)(searcher, fold_yo(reading))
        for n, reading in enumerate(layout_variants(text))
    ]
    choices = [
        (tantivy.Occur.Should, query if n == 0 else tantivy.Query.boost_query(query, OTHER_LAYOUT_BOOST))
        for n, query in enumerate(readings)
        if query is not None
    ]
    if not choices:
        return None
    return choices[0][1] if len(choices) == 1 else tantivy.Query.boolean_query(choices)


def _reading(searcher: tantivy.Searcher, text: str, *, typos: bool = True) -> tantivy.Query | None:
    words_by_term: dict[str, str] = {}
    for term, word in schema.query_words(text):
        words_by_term.setdefault(term, word)
    if words_by_term:
        return _every(_word(searcher, term, word, typos=typos) for term, word in words_by_term.items())
    # Only stop words: the title must hold them all, verbatim.
    words = dict.fromkeys(schema.plain_words(text))
    if not words:
        return None
    return _every(_term(schema.TITLE_PLAIN, word) for word in words)


def _exact_reading(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    # Text typed on the wrong layout is taken as typed right, as on OpenSearch, where typos on top of it would
    # cost as much again.
    return _reading(searcher, text, typos=False)


def _word(searcher: tantivy.Searcher, term: str, word: str, *, typos: bool = True) -> tantivy.Query:
    options = [tantivy.Query.boost_query(_term(name, term), boost) for name, boost in FIELD_BOOSTS.items()]
    if not typos:
        return tantivy.Query.disjunction_max_query(options, tie_breaker=TIE_BREAKER)
    options += [
        tantivy.Query.const_score_query(typo, boost * TYPO_SHARE)
        for name, boost in FIELD_BOOSTS.items()
        if (typo := _typo(searcher, name, term, word)) is not None
    ]
    return tantivy.Query.disjunction_max_query(options, tie_breaker=TIE_BREAKER)


def _typo(searcher: tantivy.Searcher, name: str, term: str, word: str | None = None) -> tantivy.Query | None:
    """Terms of the field one or two edits from `term` (or from `word`, the same word unstemmed, in the fields
    that keep words unstemmed too), the first letter kept (see tantivy_schema.FUZZY).

    None when the field knows `term` itself: a word found as typed is taken as meant. Besides sparing near
    misses ("like" for "luke"), this keeps common words fast, whose neighbours would add up to much of the index.
    """
    if len(term) < ONE_TYPO or searcher.doc_freq(name, term) > 0:
        return None
    forms = [term]
    if word is not None and word != term and name in schema.UNSTEMMED_TYPO_FIELDS:
        forms.append(word)
    queries = [
        tantivy.Query.fuzzy_term_query(
            schema.schema(),
            f"{schema.FUZZY}.{name}.{form[0]}",
            form[1:],
            distance=1 if len(form) < TWO_TYPOS else 2,
            transposition_cost_one=True,
        )
        for form in forms
    ]
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in queries])


def _completion(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    words = schema.plain_words(text)
    if not words:
        return None
    *done, last = words
    # A finished stop word is skipped, as in search.
    clauses = [_title_word(searcher, term) for word in dict.fromkeys(done) for term in schema.analyze(word)]
    # The word being typed starts a title word, or is one (typo allowed). It is letters and digits only (the
    # analyser's tokens), so it needs no escaping in a regex.
    started = tantivy.Query.regex_query(schema.schema(), schema.TITLE_PLAIN, f"{last}.*")
    typed = [
        tantivy.Query.const_score_query(started, 1.0),
        *(_title_word(searcher, term) for term in schema.analyze(last)),
    ]
    clauses.append(tantivy.Query.disjunction_max_query(typed))
    query = _every(clauses)
    if len(words) == 1:
        return query
    # The words in the order typed rank above the same words scattered.
    phrase: list[str | tuple[int, str]] = list(words)
    in_order = tantivy.Query.phrase_prefix_query(schema.schema(), schema.TITLE_PLAIN, phrase)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Should, in_order)])


def _title_word(searcher: tantivy.Searcher, term: str) -> tantivy.Query:
    exact = _term(schema.TITLE, term)
    typo = _typo(searcher, schema.TITLE, term)
    if typo is None:
        return exact
    return tantivy.Query.disjunction_max_query([exact, tantivy.Query.const_score_query(typo, TYPO_SHARE)])


def _rating_filter(query: VideoQuery) -> list[tantivy.Query]:
    if query.min_rating is None and query.max_rating is None:
        return []
    return [
        tantivy.Query.range_query(
            schema.schema(), schema.IMDB_RATING, tantivy.FieldType.Float, query.min_rating, query.max_rating
        )
    ]


def _genre_filter(query: VideoQuery) -> list[tantivy.Query]:
    if not query.genres:
        return []
    return [tantivy.Query.term_set_query(schema.schema(), schema.GENRE, list(query.genres))]


def _all_of(scored: tantivy.Query, *filters: tantivy.Query) -> tantivy.Query:
    if not filters:
        return scored
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, scored)]
        + [(tantivy.Occur.Must, tantivy.Query.const_score_query(part, 0.0)) for part in filters]
    )


def _every(clauses: Iterable[tantivy.Query]) -> tantivy.Query:
    musts = [(tantivy.Occur.Must, clause) for clause in clauses]
    return musts[0][1] if len(musts) == 1 else tantivy.Query.boolean_query(musts)


def _term(name: str, value: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema.schema(), name, value)


# --- ordering, with ties by id ----------------------------------------------------------------------------------


def page_in_order(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    keys: Sequence[tuple[str, tantivy.Order]],
    *,
    offset: int,
    limit: int,
) -> tuple[list[tantivy.DocAddress], int]:
    """The page sorted on the first key, then on the next ones among equal values (the last key must be unique).

    Tantivy sorts on one column: its hits up to one past the page have the right values in the right places,
    only equal values in an arbitrary order; each run of equal values reaching into the page is fetched again,
    sorted on the remaining keys."""
    (name, order), rest = keys[0], keys[1:]
    end = offset + limit
    result = searcher.search(query, limit=end + 1 if rest else end, order_by_field=name, order=order)
    if not rest:
        return [address for _, address in result.hits[offset:end]], _count(result)
    page: list[tantivy.DocAddress] = []
    start = 0
    for value, run in itertools.groupby(result.hits, key=lambda hit: hit[0]):
        members = [address for _, address in run]
        low, high = max(start, offset), min(start + len(members), end)
        if low < high:
            if len(members) == 1:
                page += members
            else:
                equal = _all_of(query, _equal(name, value))
                page += page_in_order(searcher, equal, rest, offset=low - start, limit=high - low)[0]
        start += len(members)
    return page, _count(result)


def _sort_keys(sort: SortField, order: SortOrder) -> list[tuple[str, tantivy.Order]]:
    asked, ascending = _ORDERS[order], tantivy.Order.Asc
    if sort is SortField.ID:
        return [(schema.ID_PREFIX, asked), (schema.ID, asked)]
    by_id = [(schema.ID_PREFIX, ascending), (schema.ID, ascending)]
    if sort is SortField.TITLE:
        return [(schema.TITLE_PREFIX, asked), (schema.TITLE_KEY, asked), *by_id]
    return [(schema.IMDB_RATING, asked), *by_id]


def _equal(name: str, value: str | float | None) -> tantivy.Query:
    if isinstance(value, str | int):
        # The string and prefix columns are indexed as terms too.
        return tantivy.Query.term_query(schema.schema(), name, value)
    if value is None:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.all_query()),
                (tantivy.Occur.MustNot, tantivy.Query.exists_query(name)),
            ]
        )
    return tantivy.Query.range_query(schema.schema(), name, tantivy.FieldType.Float, value, value)


def page_by_relevance(
    searcher: tantivy.Searcher, query: tantivy.Query, *, offset: int, limit: int, weight: str | None = None
) -> tuple[list[tantivy.DocAddress], int]:
    """The page by score, equal scores by id ascending (followed up to MAX_TIE_RUN hits past the page)."""
    end = offset + limit
    fetch = end + 1
    while True:
        result = searcher.search(query, limit=fetch, weight_by_field=weight)
        hits = result.hits
        tie_runs_on = len(hits) == fetch and hits[-1][0] == hits[end - 1][0]
        if not tie_runs_on or fetch >= end + MAX_TIE_RUN:
            break
        # Straight to the limit: a run that outlasts one extra hit is usually long (a title many films share),
        # and one wider search costs less than several doubling ones (36 → 16 ms on 1M movies, measured).
        fetch = end + MAX_TIE_RUN
    page: list[tantivy.DocAddress] = []
    start = 0
    for _, run in itertools.groupby(hits, key=lambda hit: hit[0]):
        members = [address for _, address in run]
        low, high = max(start, offset), min(start + len(members), end)
        if low < high:
            page += _in_id_order(searcher, members)[low - start : high - start]
        start += len(members)
    return page, _count(result)


def _in_id_order(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[tantivy.DocAddress]:
    if len(addresses) == 1:
        return addresses
    prefixes = [int(prefix or 0) for prefix in searcher.fast_field_values(schema.ID_PREFIX, addresses)]
    keyed = sorted(zip(prefixes, addresses, strict=True), key=lambda pair: pair[0])
    ordered: list[tantivy.DocAddress] = []
    for _, run in itertools.groupby(keyed, key=lambda pair: pair[0]):
        same = [address for _, address in run]
        if len(same) > 1:
            same.sort(key=lambda address: schema.summary_from_card(_card(searcher, address)).id)
        ordered += same
    return ordered


# --- reading --------------------------------------------------------------------------------------------------------


def _genre_counts(searcher: tantivy.Searcher, query: tantivy.Query) -> tuple[GenreCount, ...]:
    spec = {"genres": {"terms": {"field": schema.GENRE, "size": MAX_GENRE_BUCKETS}}}
    buckets = searcher.aggregate(query, spec)["genres"]["buckets"]
    counts = sorted(((bucket["key"], bucket["doc_count"]) for bucket in buckets), key=lambda kv: (-kv[1], kv[0]))
    return tuple(GenreCount(genre, count) for genre, count in counts)


def _summaries(searcher: tantivy.Searcher, addresses: Iterable[tantivy.DocAddress]) -> list[VideoSummary]:
    return [schema.summary_from_card(_card(searcher, address)) for address in addresses]


def _card(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> bytes:
    card = searcher.doc(address).get_first(schema.CARD)
    if not isinstance(card, bytes):
        raise Unavailable(f"the catalogue index holds a movie without its card at {address}")
    return card


def _count(result: tantivy.SearchResult) -> int:
    # Missing from tantivy's type stubs, present at run time (the search ran with count=True).
    count: int = result.count  # type: ignore[attr-defined]
    return count
