"""Values worked out from one tantivy searcher, kept while that searcher serves.

A published version never changes, so what its searcher answered once holds for as long as it serves. The
service serves one version at a time: when another searcher is asked about (a new version was published), or
when the cache is full, everything kept is dropped, and with it the old searcher, whose files a later clean-up
may then really free.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

import tantivy

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SearcherCache(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self._limit = limit
        # The searcher and its values in one tuple, swapped whole: a value is never filed under another searcher,
        # even when two threads ask about two searchers at once.
        self._state: tuple[tantivy.Searcher | None, dict[K, V]] = (None, {})

    def get(self, searcher: tantivy.Searcher, key: K) -> V | None:
        owner, values = self._state
        return values.get(key) if owner is searcher else None

    def put(self, searcher: tantivy.Searcher, key: K, value: V) -> None:
        owner, values = self._state
        if owner is not searcher or len(values) >= self._limit:
            values = {}
            self._state = (searcher, values)
        values[key] = value

    def __len__(self) -> int:
        return len(self._state[1])
