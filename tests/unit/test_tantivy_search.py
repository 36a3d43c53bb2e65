"""Ordering, ties and facets of the tantivy SearchIndex's answers, on an index held in memory.

The contract suite covers the promises on a small catalogue; these cases are built to make tantivy's one-column
sort and its arbitrary order among equal values show: many equal titles and ratings spread over segments.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
import tantivy

from search_svc.adapters import tantivy_schema
from search_svc.adapters.tantivy_search_index import search_page, suggestions
from search_svc.domain.movie import Movie
from search_svc.domain.video_query import SortField, SortOrder, SuggestQuery, VideoQuery

TITLES = ("Ёлки", "елки", "ЁЛКИ", "Ели", "Apple", "apple", "Яблоко")
RATINGS = (None, 7.0, 7.0, 8.5)
GENRES = ("Drama", "Comedy", "Horror")


def catalogue() -> list[Movie]:
    rng = random.Random(5)
    ids = [f"id{n:03d}" for n in range(120)] + [f"same-8b-prefix-{n:03d}" for n in range(30)]
    rng.shuffle(ids)
    return [
        Movie(movie_id, rng.choice(TITLES), "общий сюжет", rng.choice(RATINGS), (rng.choice(GENRES), "Common"))
        for movie_id in ids
    ]


MOVIES = catalogue()


@pytest.fixture(scope="module")
def searcher() -> tantivy.Searcher:
    index = tantivy.Index(tantivy_schema.schema())
    tantivy_schema.register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for start in range(0, len(MOVIES), 40):  # one segment per commit
        for movie in MOVIES[start : start + 40]:
            writer.add_document(tantivy_schema.document(movie))
        writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index.searcher()


def query(text: str = "", **overrides: object) -> VideoQuery:
    fields: dict[str, object] = {"text": text, "limit": 10, "page": 1, "sort": None, "order": SortOrder.ASC}
    fields.update(overrides)
    return VideoQuery(**fields)  # type: ignore[arg-type]


def expected(sort: SortField, order: SortOrder) -> list[str]:
    by_id = sorted(MOVIES, key=lambda m: m.id)
    if sort is SortField.ID:
        return [m.id for m in (by_id[::-1] if order is SortOrder.DESC else by_id)]
    descending = order is SortOrder.DESC
    if sort is SortField.TITLE:
        # Stable sorts: by id first, then by the key the way asked.
        ordered = sorted(by_id, key=lambda m: m.title.lower().replace("ё", "е"), reverse=descending)
    else:
        rated = sorted(
            (m for m in by_id if m.imdb_rating is not None), key=lambda m: m.imdb_rating or 0, reverse=descending
        )
        ordered = rated + [m for m in by_id if m.imdb_rating is None]
    return [m.id for m in ordered]


@pytest.mark.parametrize("sort", list(SortField))
@pytest.mark.parametrize("order", list(SortOrder))
@pytest.mark.parametrize(("limit", "page"), [(7, 1), (7, 3), (25, 2), (100, 1), (100, 2)])
def test_pages_sort_with_ties_by_id(
    searcher: tantivy.Searcher, sort: SortField, order: SortOrder, limit: int, page: int
) -> None:
    found = search_page(searcher, query(sort=sort, order=order, limit=limit, page=page))
    start = (page - 1) * limit
    assert [item.id for item in found.items] == expected(sort, order)[start : start + limit]
    assert found.total == len(MOVIES)


@pytest.mark.parametrize(("limit", "page"), [(10, 1), (10, 4), (100, 2)])
def test_equal_scores_come_by_id(searcher: tantivy.Searcher, limit: int, page: int) -> None:
    # Every movie's description is the same: every score is equal.
    found = search_page(searcher, query("сюжет", limit=limit, page=page))
    start = (page - 1) * limit
    assert [item.id for item in found.items] == sorted(m.id for m in MOVIES)[start : start + limit]


def test_genre_counts_leave_out_the_genre_filter_only(searcher: tantivy.Searcher) -> None:
    found = search_page(searcher, query(genres=("Drama",), min_rating=8.0))
    rated = [m for m in MOVIES if m.imdb_rating is not None and m.imdb_rating >= 8.0]
    assert found.total == sum("Drama" in m.genre for m in rated)
    counts = {g.genre: g.count for g in found.genres}
    assert counts == Counter(genre for m in rated for genre in m.genre)
    assert [g.genre for g in found.genres] == sorted(counts, key=lambda genre: (-counts[genre], genre))


def test_genre_counts_are_kept_for_the_same_text_and_ratings(searcher: tantivy.Searcher) -> None:
    first = search_page(searcher, query("елки"))
    again = search_page(searcher, query("елки", genres=("Horror",)))
    other = search_page(searcher, query("елки", min_rating=8.0))
    # The genre filter leaves the counts as they were: the same counts, kept, not counted again.
    assert again.genres is first.genres
    assert other.genres is not first.genres
    assert other.genres != first.genres


def test_text_without_words_finds_nothing(searcher: tantivy.Searcher) -> None:
    found = search_page(searcher, query("?!"))
    assert (found.items, found.total) == ((), 0)


def test_suggestions_prefer_rated_titles_and_keep_the_limit(searcher: tantivy.Searcher) -> None:
    found = suggestions(searcher, SuggestQuery("ел", 5))
    assert len(found) == 5
    ratings = [s.imdb_rating or 0 for s in found]
    assert ratings == sorted(ratings, reverse=True)
