"""A searcher's cache answers only about that searcher, and lets go of it for the next one or when full."""

from __future__ import annotations

import tantivy

from search_svc.adapters import tantivy_schema
from search_svc.adapters.tantivy_searcher_cache import SearcherCache


def a_searcher() -> tantivy.Searcher:
    return tantivy.Index(tantivy_schema.schema()).searcher()


def test_values_are_kept_for_their_searcher_only() -> None:
    cache: SearcherCache[str, int] = SearcherCache(limit=10)
    first, second = a_searcher(), a_searcher()
    cache.put(first, "k", 1)
    assert cache.get(first, "k") == 1
    assert cache.get(second, "k") is None


def test_another_searcher_drops_what_the_first_one_kept() -> None:
    cache: SearcherCache[str, int] = SearcherCache(limit=10)
    first, second = a_searcher(), a_searcher()
    cache.put(first, "a", 1)
    cache.put(first, "b", 2)
    cache.put(second, "a", 3)
    assert len(cache) == 1
    assert cache.get(second, "a") == 3
    assert cache.get(first, "b") is None


def test_a_full_cache_starts_again() -> None:
    cache: SearcherCache[int, int] = SearcherCache(limit=3)
    searcher = a_searcher()
    for key in range(3):
        cache.put(searcher, key, key)
    assert len(cache) == 3
    cache.put(searcher, 3, 3)
    assert len(cache) == 1
    assert cache.get(searcher, 3) == 3
    assert cache.get(searcher, 0) is None
