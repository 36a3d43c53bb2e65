"""Listing rows kept per searcher: an address means another movie in another version, never a stale row."""

from __future__ import annotations

import tantivy

from search_svc.adapters import tantivy_schema, tantivy_summaries
from search_svc.domain.movie import Movie, VideoSummary


def searcher_of(*movies: Movie) -> tantivy.Searcher:
    index = tantivy.Index(tantivy_schema.schema())
    tantivy_schema.register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for movie in movies:
        writer.add_document(tantivy_schema.document(movie))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index.searcher()


def first_address(searcher: tantivy.Searcher) -> tantivy.DocAddress:
    return searcher.search(tantivy.Query.all_query(), limit=1).hits[0][1]


def test_a_row_is_the_cards_and_stays_with_its_searcher() -> None:
    old = searcher_of(Movie("m1", "Old Title", "", 7.5, ("Drama",)))
    new = searcher_of(Movie("m2", "New Title", "", None, ("Drama",)))
    old_address, new_address = first_address(old), first_address(new)
    assert (old_address.segment_ord, old_address.doc) == (new_address.segment_ord, new_address.doc)

    assert tantivy_summaries.summary(old, old_address) == VideoSummary("m1", "Old Title", 7.5)
    assert tantivy_summaries.summary(new, new_address) == VideoSummary("m2", "New Title", None)
    assert tantivy_summaries.summary(old, old_address) == VideoSummary("m1", "Old Title", 7.5)


def test_a_movie_is_the_cards_and_stays_with_its_searcher() -> None:
    first = Movie("m1", "Old Title", "a plot", 7.5, ("Drama",), ("Someone",))
    second = Movie("m2", "New Title", "another plot", None, ("Comedy",))
    old, new = searcher_of(first), searcher_of(second)

    assert tantivy_summaries.movie(old, first_address(old)) == first
    assert tantivy_summaries.movie(new, first_address(new)) == second
    assert tantivy_summaries.movie(old, first_address(old)) == first
