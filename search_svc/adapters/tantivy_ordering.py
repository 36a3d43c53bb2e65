"""Pages in a sort order or by relevance, with ties put in id order, and relevance weighed by a prior.

Tantivy sorts on one column and leaves equal values in index order, so ties are ordered by id here.
"""

from __future__ import annotations

import array
import functools
import itertools
import math
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
# A prior first weighs the best hits by score up to this many times the page's end (at least MIN_PRIOR_DEPTH), and
# looks WIDEN_PRIOR times as deep while a hit further down could still overtake the page, up to MAX_PRIOR_DEPTH.
PRIOR_DEPTH = 4
MIN_PRIOR_DEPTH = 64
WIDEN_PRIOR = 8
MAX_PRIOR_DEPTH = 4_096

_ORDERS = {SortOrder.ASC: tantivy.Order.Asc, SortOrder.DESC: tantivy.Order.Desc}


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
        return [address for _, address in result.hits[offset:end]], hit_count(result)
    page: list[tantivy.DocAddress] = []
    start = 0
    for value, run in itertools.groupby(result.hits, key=lambda hit: hit[0]):
        members = [address for _, address in run]
        low, high = max(start, offset), min(start + len(members), end)
        if low < high:
            if len(members) == 1:
                page += members
            else:
                equal = all_of(query, _equal(name, value))
                page += page_in_order(searcher, equal, rest, offset=low - start, limit=high - low)[0]
        start += len(members)
    return page, hit_count(result)


def sort_keys(sort: SortField, order: SortOrder) -> list[tuple[str, tantivy.Order]]:
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


@dataclass(frozen=True)
class Prior:
    """Relevance multiplied by log2(2 + `field`), a fast field whose values lie in 0..`ceiling`, as tantivy's
    `weight_by_field` multiplies it (in single precision, as it does, so that equal scores stay equal)."""

    field: str
    ceiling: float


def page_by_prior(
    searcher: tantivy.Searcher, query: tantivy.Query, prior: Prior, *, offset: int, limit: int
) -> tuple[list[tantivy.DocAddress], int]:
    """The page of `query` by score times the prior, equal products by id ascending: what `page_by_relevance` with
    `weight_by_field` answers, at less cost.

    `weight_by_field` reads the weight of every hit, and a broad search over 1M movies holds hundreds of thousands.
    Here the best hits by score alone are weighed (one fast-field read), and re-sorted. A hit further down scores
    at most the last one's score, so its product is at most that times the largest multiplier: when the page's last
    product is above that, nothing further down can reach the page or tie with it, and the page is exact. Otherwise
    the search looks deeper, and past MAX_PRIOR_DEPTH leaves the weighing to tantivy."""
    end = offset + limit
    depth = max(PRIOR_DEPTH * end, MIN_PRIOR_DEPTH)
    ceiling = _multiplier(prior.ceiling)
    while depth <= MAX_PRIOR_DEPTH:
        result = searcher.search(query, limit=depth)
        hits = result.hits
        addresses = [address for _, address in hits]
        multipliers = map(_multiplier, searcher.fast_field_values(prior.field, addresses))
        # Rounded to single precision in one pass, as tantivy rounds each product.
        products = array.array("f", [score * m for (score, _), m in zip(hits, multipliers, strict=True)])
        weighed = sorted(zip(products, addresses, strict=True), key=lambda hit: hit[0], reverse=True)
        if len(hits) < depth or weighed[end - 1][0] > _single(hits[-1][0] * ceiling):
            return _page_of_runs(searcher, weighed, offset, end), hit_count(result)
        depth *= WIDEN_PRIOR
    return page_by_relevance(searcher, query, offset=offset, limit=limit, weight=prior.field)


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
    searcher: tantivy.Searcher, hits: Sequence[tuple[float, tantivy.DocAddress]], offset: int, end: int
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
