"""Pages in a sort order or by relevance, with ties put in id order, and relevance weighed by a prior.

Tantivy sorts on one column and leaves equal values in index order, so ties are ordered by id here.
"""

from __future__ import annotations

import array
import functools
import itertools
import math
import operator
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import tantivy

from search_svc.adapters import tantivy_schema as schema
from search_svc.adapters.tantivy_queries import all_of
from search_svc.adapters.tantivy_summaries import summary
from search_svc.domain.video_query import SortField, SortOrder

# How far past the page a tie in relevance is followed to order it by id; beyond it ties are in index order.
MAX_TIE_RUN = 1_000
# A prior is weighed on the best hits by score: first this many times the page's end (at least MIN_PRIOR_DEPTH), then
# WIDEN_PRIOR times as many at a time while a hit further down could still reach the page, up to the PRIOR_FETCH
# times as many the one search fetched (at most MAX_PRIOR_DEPTH). On 1M movies (measured), fetching 1,600 hits costs
# tantivy and their conversion about 0.3 ms more than 200, weighing 200 hits here about 0.1 ms, and a second search
# scores every match again (3–8 ms).
PRIOR_DEPTH = 4
MIN_PRIOR_DEPTH = 64
WIDEN_PRIOR = 2
PRIOR_FETCH = 8
MAX_PRIOR_DEPTH = 4_096
# The fallback weighs at most this many hits, the best by score (past MAX_RESULT_WINDOW, the deepest page served).
MAX_WEIGHED = 16_384

_ORDERS = {SortOrder.ASC: tantivy.Order.Asc, SortOrder.DESC: tantivy.Order.Desc}
# The last keys of every sort but by id: equal values in id order.
_BY_ID: list[tuple[str, tantivy.Order]] = [(schema.ID_PREFIX, tantivy.Order.Asc), (schema.ID, tantivy.Order.Asc)]


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
    only equal values in an arbitrary order. A run of equal values that the hits hold whole (another value follows
    it, or the hits are every match) is put in order here, from its members' rows and columns; only a run that may
    go on past the hits is fetched again, sorted on the remaining keys. A search sorted by rating over a few dozen
    matches used to search again for each run of equal ratings (15 searches of its text query for one page)."""
    (name, order), rest = keys[0], keys[1:]
    end = offset + limit
    result = searcher.search(query, limit=end + 1 if rest else end, order_by_field=name, order=order)
    total = hit_count(result)
    if not rest:
        return [address for _, address in result.hits[offset:end]], total
    runs = [(value, [address for _, address in run]) for value, run in itertools.groupby(result.hits, key=_value)]
    every_match = len(result.hits) == total
    page: list[tantivy.DocAddress] = []
    start = 0
    for n, (value, members) in enumerate(runs):
        low, high = max(start, offset), min(start + len(members), end)
        if low < high:
            if len(members) == 1:
                page += members
            elif every_match or n < len(runs) - 1:
                page += _in_key_order(searcher, members, rest)[low - start : high - start]
            else:
                equal = all_of(query, _equal(name, value))
                page += page_in_order(searcher, equal, rest, offset=low - start, limit=high - low)[0]
        start += len(members)
    return page, total


def _value(hit: tuple[str | float | None, tantivy.DocAddress]) -> str | float | None:
    return hit[0]


def _in_key_order(
    searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress], keys: Sequence[tuple[str, tantivy.Order]]
) -> list[tantivy.DocAddress]:
    """`addresses` sorted on `keys`, as tantivy sorts each (string columns in byte order, which is str's order of
    their UTF-8): one stable sort a key, the last key first."""
    ordered = list(addresses)
    if keys[-len(_BY_ID) :] == _BY_ID:
        # Ties broken by id, as `_in_id_order` orders them: it reads an id only where id prefixes tie.
        ordered, keys = _in_id_order(searcher, ordered), keys[: -len(_BY_ID)]
    for name, order in reversed(keys):
        values = _key_values(searcher, name, ordered)
        ranked = sorted(range(len(ordered)), key=values.__getitem__, reverse=order == tantivy.Order.Desc)
        ordered = [ordered[i] for i in ranked]
    return ordered


def _key_values(searcher: tantivy.Searcher, name: str, addresses: list[tantivy.DocAddress]) -> list[int | float | str]:
    """Each movie's value of the sort column `name`: a string column from its listing row (tantivy reads only
    numeric columns back), a numeric one from the column."""
    if name == schema.ID:
        return [summary(searcher, address).id for address in addresses]
    if name == schema.TITLE_KEY:
        return [schema.title_key(summary(searcher, address).title) for address in addresses]
    values = searcher.fast_field_values(name, addresses)
    # Only the first key may be missing (a movie without a rating); the ones after it are set on every movie.
    return [value if value is not None else 0 for value in values]


def sort_keys(sort: SortField, order: SortOrder) -> list[tuple[str, tantivy.Order]]:
    asked = _ORDERS[order]
    if sort is SortField.ID:
        return [(schema.ID_PREFIX, asked), (schema.ID, asked)]
    if sort is SortField.TITLE:
        return [(schema.TITLE_PREFIX, asked), (schema.TITLE_KEY, asked), *_BY_ID]
    return [(schema.IMDB_RATING, asked), *_BY_ID]


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


@dataclass(frozen=True)
class Prior:
    """Relevance multiplied by log2(2 + `field`), a fast field whose values lie in 0..`ceiling`, as tantivy's
    `weight_by_field` multiplies it (in single precision, as it does, so that equal scores stay equal).

    `per_word`: the score counts words matched first, `per_word` each (the fallback, `tantivy_queries.WORD_MATCHED`),
    then a text score: only the text score is weighed, and words matched still come first."""

    field: str
    ceiling: float
    per_word: float | None = None


# A hit's place by a prior, best first: (-words matched, -text score × multiplier, its rank by score). Words matched
# are 0 where they are not counted; the rank keeps ties in tantivy's order, and is not part of the place itself.
Place = tuple[float, float, int]


def page_by_prior(
    searcher: tantivy.Searcher, query: tantivy.Query, prior: Prior, *, offset: int, limit: int
) -> tuple[list[tantivy.DocAddress], int]:
    """The page of `query` by score weighed by `prior`, equal places by id ascending: without `per_word`, what
    `page_by_relevance` with `weight_by_field` answers, at less cost.

    `weight_by_field` reads the weight of every hit, and a broad search over 1M movies holds thousands. Here the
    best hits by score alone are weighed (one fast-field read), and re-sorted. A hit further down scores at most
    the last one's score, so its product is at most that times the largest multiplier: when the page's last product
    is above that, nothing further down can reach the page or tie with it, and the page is exact. Otherwise more
    hits of the same search are weighed, then every hit (`_weighed_whole`). Where the page's last product only
    equals that bound, the ties are ordered by id among the hits weighed (see below), not among all hits: a run of
    equal products is followed a bounded depth here, as it is in `page_by_relevance`."""
    end = offset + limit
    if end * PRIOR_DEPTH > MAX_PRIOR_DEPTH:
        return _weighed_whole(searcher, query, prior, offset=offset, end=end)
    ceiling = _multiplier(prior.ceiling)
    depth = max(PRIOR_DEPTH * end, MIN_PRIOR_DEPTH)
    result = searcher.search(query, limit=min(max(depth * PRIOR_FETCH, end + MAX_TIE_RUN), MAX_PRIOR_DEPTH))
    hits, total = result.hits, hit_count(result)
    while True:
        weighed = hits[:depth]
        places = _places(searcher, prior, weighed)
        if len(weighed) == total:
            return _page_of_places(searcher, places, weighed, offset, end), total
        best_beyond = _place(weighed[-1][0], ceiling, prior.per_word)
        last = places[end - 1][:2] if len(places) >= end else best_beyond
        # A hit further down may tie with the page's last one (a broad search's best hits often share one score and
        # the full weight): ties are then ordered among the hits weighed, when they reach MAX_TIE_RUN past the page,
        # as far as `page_by_relevance` follows a tie.
        if last < best_beyond or (last == best_beyond and len(weighed) >= end + MAX_TIE_RUN):
            return _page_of_places(searcher, places, weighed, offset, end), total
        if depth >= len(hits):
            return _weighed_whole(searcher, query, prior, offset=offset, end=end, total=total)
        depth *= WIDEN_PRIOR


def _weighed_whole(
    searcher: tantivy.Searcher, query: tantivy.Query, prior: Prior, *, offset: int, end: int, total: int | None = None
) -> tuple[list[tantivy.DocAddress], int]:
    """The page with every hit weighed: here if they are few, by tantivy's `weight_by_field` if they are many. Words
    counted (which tantivy cannot weigh) are weighed here, the best MAX_WEIGHED hits by score only: a deep page of a
    broad fallback would otherwise weigh every match (264k hits on 1M movies: 0.46 s of CPU; capped, 0.13 s, beside
    0.10 s for the same page unweighed, measured on a busy machine)."""
    if prior.per_word is None and (total is None or total > MAX_PRIOR_DEPTH):
        return page_by_relevance(searcher, query, offset=offset, limit=end - offset, weight=prior.field)
    if total is None:
        total = hit_count(searcher.search(query, limit=1))
    hits = searcher.search(query, limit=max(min(total, MAX_WEIGHED), 1), count=False).hits
    return _page_of_places(searcher, _places(searcher, prior, hits), hits, offset, end), total


def _places(searcher: tantivy.Searcher, prior: Prior, hits: list[tuple[float, tantivy.DocAddress]]) -> list[Place]:
    """The places of `hits` (best score first), best first."""
    multipliers = [_multiplier(w) for w in searcher.fast_field_values(prior.field, [address for _, address in hits])]
    per_word = prior.per_word
    if per_word is None:
        # Rounded to single precision in one pass, as tantivy rounds each product.
        products = array.array("f", [score * m for (score, _), m in zip(hits, multipliers, strict=True)])
        return sorted(zip(itertools.repeat(0.0), map(operator.neg, products), itertools.count()))
    words = [float(math.floor(score / per_word)) for score, _ in hits]
    texts = array.array(
        "f", [(score - n * per_word) * m for (score, _), n, m in zip(hits, words, multipliers, strict=True)]
    )
    return sorted(zip(map(operator.neg, words), map(operator.neg, texts), itertools.count()))


def _place(score: float, multiplier: float, per_word: float | None) -> tuple[float, float]:
    """The best place a hit of `score` can take (without its rank), weighing at most `multiplier`."""
    if per_word is None:
        return 0.0, -_single(score * multiplier)
    words = math.floor(score / per_word)
    return -float(words), -_single((score - words * per_word) * multiplier)


def _page_of_places(
    searcher: tantivy.Searcher,
    places: list[Place],
    hits: list[tuple[float, tantivy.DocAddress]],
    offset: int,
    end: int,
) -> list[tantivy.DocAddress]:
    """The page, from the places up to the end of the tie run the page ends in (followed up to MAX_TIE_RUN)."""
    stop = min(end, len(places))
    while stop < min(len(places), end + MAX_TIE_RUN) and places[stop][:2] == places[end - 1][:2]:
        stop += 1
    return _page_of_runs(searcher, [(place[:2], hits[place[2]][1]) for place in places[:stop]], offset, end)


_SINGLE = struct.Struct("<f")


def _single(value: float) -> float:
    """`value` rounded to single precision, tantivy's score type."""
    rounded: float = _SINGLE.unpack(_SINGLE.pack(value))[0]
    return rounded


@functools.cache
def _multiplier(weight: float | None) -> float:
    # log2(2 + weight) as `weight_by_field` works it out, in single precision. The loader rounds weights to 4
    # decimals, so few distinct ones come by. None: a version written before the field existed.
    return _single(math.log2(_single(2.0 + max(weight or 0.0, 0.0))))


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
    return _page_of_runs(searcher, hits, offset, end), hit_count(result)


def _page_of_runs(
    searcher: tantivy.Searcher, hits: Sequence[tuple[object, tantivy.DocAddress]], offset: int, end: int
) -> list[tantivy.DocAddress]:
    """Hits `offset` to `end` of `hits` (best first), each run of equal scores reaching into them in id order."""
    page: list[tantivy.DocAddress] = []
    start = 0
    for _, run in itertools.groupby(hits, key=lambda hit: hit[0]):
        members = [address for _, address in run]
        low, high = max(start, offset), min(start + len(members), end)
        if low < high:
            page += _in_id_order(searcher, members)[low - start : high - start]
        start += len(members)
        if start >= end:
            break
    return page


def _in_id_order(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[tantivy.DocAddress]:
    if len(addresses) == 1:
        return addresses
    prefixes = [int(prefix or 0) for prefix in searcher.fast_field_values(schema.ID_PREFIX, addresses)]
    keyed = sorted(zip(prefixes, addresses, strict=True), key=lambda pair: pair[0])
    ordered: list[tantivy.DocAddress] = []
    for _, run in itertools.groupby(keyed, key=lambda pair: pair[0]):
        same = [address for _, address in run]
        if len(same) > 1:
            same.sort(key=lambda address: summary(searcher, address).id)
        ordered += same
    return ordered


def hit_count(result: tantivy.SearchResult) -> int:
    # Missing from tantivy's type stubs, present at run time (the search ran with count=True).
    count: int = result.count  # type: ignore[attr-defined]
    return count
