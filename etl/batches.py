"""Cutting a stream of movies into batches of a bounded size: the unit the engines are loaded in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import EncodedBatch


def batches(movies: Iterable[Movie], size: int) -> Iterator[list[Movie]]:
    batch: list[Movie] = []
    for movie in movies:
        batch.append(movie)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rebatched(encoded: Iterable[EncodedBatch], size: int) -> Iterator[EncodedBatch]:
    """Encoded batches of any sizes (several workers' last ones are short) as batches of exactly `size`, the last
    one excepted: the engine gets the batches a single reader would send it."""
    ids: list[str] = []
    documents: list[str] = []
    for batch in encoded:
        ids.extend(batch.ids)
        documents.extend(batch.documents)
        while len(ids) >= size:
            yield EncodedBatch(tuple(ids[:size]), tuple(documents[:size]))
            del ids[:size], documents[:size]
    if ids:
        yield EncodedBatch(tuple(ids), tuple(documents))
