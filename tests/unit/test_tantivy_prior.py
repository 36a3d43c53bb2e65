"""Relevance weighed by a prior on the best hits only gives tantivy's own `weight_by_field` answers, ties by id.

The catalogue mixes bare and full records under titles of a few shared words, many of them duplicates (equal
scores, equal weights), over several segments: products tie, and records of every completeness compete.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Any, cast

import pytest
import tantivy

from search_svc.adapters import tantivy_ordering, tantivy_schema
from search_svc.adapters.tantivy_ordering import page_by_prior, page_by_relevance
from search_svc.adapters.tantivy_queries import WORD_MATCHED, partial_query, text_query
from search_svc.adapters.tantivy_search_index import FALLBACK_PRIOR, RECORD_PRIOR
from search_svc.adapters.tantivy_summaries import summary
from search_svc.domain.movie import Actor, Movie, Writer

WORDS = ("comet", "vale", "river", "winter", "silent", "harbour", "night", "train")
PLOT = "A mining town waits out the winter under a comet that will not set, and two brothers lose it all."


def catalogue() -> list[Movie]:
    rng = random.Random(11)
    movies = []
    for n in range(600):
        title = " ".join(rng.sample(WORDS, rng.randint(1, 3))) if n % 5 else "comet vale"
        movies.append(
            Movie(
                f"m{rng.randrange(10**6):06d}-{n}",
                title,
                PLOT if rng.random() < 0.4 else rng.choice(WORDS),
                None,
                ("Western",),
                ("Nora Quill",) if rng.random() < 0.5 else (),
                tuple(Actor(k, f"Actor {k}") for k in range(rng.randint(0, 3))),
                (Writer("w", "Tess Ford"),) if rng.random() < 0.5 else (),
            )
        )
    return movies


@pytest.fixture(scope="module")
def searcher() -> tantivy.Searcher:
    index = tantivy.Index(tantivy_schema.schema())
    tantivy_schema.register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    movies = catalogue()
    for start in range(0, len(movies), 150):  # one segment per commit
        for movie in movies[start : start + 150]:
            writer.add_document(tantivy_schema.document(movie))
        writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index.searcher()


class CountingSearcher:
    """The searcher, counting the searches asked of it and whether tantivy weighed them."""

    def __init__(self, searcher: tantivy.Searcher) -> None:
        self._searcher = searcher
        self.searches: list[tuple[int, str | None]] = []

    def search(self, query: tantivy.Query, **options: Any) -> tantivy.SearchResult:
        self.searches.append((options.get("limit", 10), options.get("weight_by_field")))
        return self._searcher.search(query, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._searcher, name)


def both(
    searcher: tantivy.Searcher, text: str, offset: int, limit: int
) -> tuple[tuple[list[tantivy.DocAddress], int], tuple[list[tantivy.DocAddress], int], CountingSearcher]:
    query = text_query(searcher, text)
    assert query is not None
    counting = CountingSearcher(searcher)
    weighed = page_by_prior(cast("tantivy.Searcher", counting), query, RECORD_PRIOR, offset=offset, limit=limit)
    tantivys = page_by_relevance(searcher, query, offset=offset, limit=limit, weight=RECORD_PRIOR.field)
    return weighed, tantivys, counting


def ids(searcher: tantivy.Searcher, page: tuple[list[tantivy.DocAddress], int]) -> tuple[list[str], int]:
    addresses, total = page
    return [summary(searcher, address).id for address in addresses], total


@pytest.mark.parametrize("text", ["comet vale", "winter", "silent night train", "river harbour"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 10), (0, 50), (10, 10), (40, 20), (200, 50)])
def test_the_page_is_tantivys_weighed_page(searcher: tantivy.Searcher, text: str, offset: int, limit: int) -> None:
    weighed, tantivys, counting = both(searcher, text, offset, limit)
    assert ids(searcher, weighed) == ids(searcher, tantivys)
    # Weighed here: the deepest look (MAX_PRIOR_DEPTH) holds the whole catalogue, so tantivy never weighs.
    assert all(weight is None for _, weight in counting.searches)


def test_weighing_few_hits_weighs_more_of_the_same_search(
    searcher: tantivy.Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_ordering, "PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "MIN_PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "PRIOR_FETCH", 100)
    weighed, tantivys, counting = both(searcher, "comet vale", 0, 10)
    assert ids(searcher, weighed) == ids(searcher, tantivys)
    # The first ten by score are not the first ten by product: more were weighed, all from the one search.
    assert counting.searches == [(1010, None)]


def test_then_every_hit_is_weighed_when_they_are_few(
    searcher: tantivy.Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_ordering, "PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "MIN_PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "PRIOR_FETCH", 2)
    monkeypatch.setattr(tantivy_ordering, "MAX_TIE_RUN", 5)
    (page, total), tantivys, counting = both(searcher, "comet vale", 0, 10)
    assert ids(searcher, (page, total)) == ids(searcher, tantivys)
    assert counting.searches == [(20, None), (total, None)]


def test_past_the_deepest_look_tantivy_weighs(searcher: tantivy.Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tantivy_ordering, "PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "MIN_PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "MAX_PRIOR_DEPTH", 10)
    weighed, tantivys, counting = both(searcher, "comet vale", 0, 10)
    assert ids(searcher, weighed) == ids(searcher, tantivys)
    assert counting.searches[-1][1] == RECORD_PRIOR.field


def words_first(searcher: tantivy.Searcher, query: tantivy.Query, depth: int | None = None) -> list[str]:
    """Every hit of the fallback (or the best `depth` by score) by words matched, then text score × multiplier, then
    id: the whole definition."""
    total = searcher.search(query, limit=1).count  # type: ignore[attr-defined]
    weighed = []
    for score, address in searcher.search(query, limit=depth or total).hits:
        words = math.floor(score / WORD_MATCHED)
        weight = searcher.fast_field_values(RECORD_PRIOR.field, [address])[0] or 0.0
        text = struct.unpack("f", struct.pack("f", (score - words * WORD_MATCHED) * math.log2(2 + weight)))[0]
        weighed.append((-words, -text, summary(searcher, address).id))
    return [movie_id for *_, movie_id in sorted(weighed)]


@pytest.mark.parametrize("text", ["comet qzxwv river", "silent winter nothing", "train harbour vale night qzxwv"])
@pytest.mark.parametrize(("offset", "limit", "min_depth"), [(0, 10, 64), (20, 30, 64), (0, 10, 1), (100, 50, 1)])
def test_the_fallback_weighs_text_scores_among_movies_matching_as_many_words(
    searcher: tantivy.Searcher, monkeypatch: pytest.MonkeyPatch, text: str, offset: int, limit: int, min_depth: int
) -> None:
    monkeypatch.setattr(tantivy_ordering, "PRIOR_DEPTH", min_depth)
    monkeypatch.setattr(tantivy_ordering, "MIN_PRIOR_DEPTH", min_depth)
    query = partial_query(searcher, text)
    assert query is not None
    page, total = page_by_prior(searcher, query, FALLBACK_PRIOR, offset=offset, limit=limit)
    expected = words_first(searcher, query)
    assert ([summary(searcher, address).id for address in page], total) == (
        expected[offset : offset + limit],
        len(expected),
    )


def test_a_tie_reaching_past_the_hits_weighed_is_ordered_among_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # 300 copies of one full record: one score, one weight. A hit further down can only tie with the page; the tie is
    # ordered by id among the hits weighed, which reach MAX_TIE_RUN past the page, without weighing every hit.
    index = tantivy.Index(tantivy_schema.schema())
    tantivy_schema.register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    cast_of_three = tuple(Actor(k, f"Actor {k}") for k in range(3))
    copies = [f"c{n:03d}" for n in random.Random(3).sample(range(300), 300)]
    for movie_id in copies:
        writer.add_document(
            tantivy_schema.document(
                Movie(
                    movie_id,
                    "Harbour Night",
                    PLOT,
                    None,
                    ("Western",),
                    ("Nora Quill",),
                    cast_of_three,
                    (Writer("w", "Tess Ford"),),
                )
            )
        )
    writer.commit()
    index.reload()
    searcher = index.searcher()
    monkeypatch.setattr(tantivy_ordering, "PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "MIN_PRIOR_DEPTH", 1)
    monkeypatch.setattr(tantivy_ordering, "PRIOR_FETCH", 2)
    monkeypatch.setattr(tantivy_ordering, "MAX_TIE_RUN", 20)
    query = text_query(searcher, "harbour night")
    assert query is not None
    counting = CountingSearcher(searcher)
    page, total = page_by_prior(cast("tantivy.Searcher", counting), query, RECORD_PRIOR, offset=0, limit=10)
    found = [summary(searcher, address).id for address in page]
    assert (len(found), total) == (10, 300)
    assert found == sorted(found)
    assert counting.searches == [(30, None)]


def test_a_deep_fallback_page_weighs_a_bounded_number_of_hits(
    searcher: tantivy.Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_ordering, "MAX_PRIOR_DEPTH", 100)
    monkeypatch.setattr(tantivy_ordering, "MAX_WEIGHED", 150)
    query = partial_query(searcher, "comet qzxwv river")
    assert query is not None
    counting = CountingSearcher(searcher)
    page, total = page_by_prior(cast("tantivy.Searcher", counting), query, FALLBACK_PRIOR, offset=40, limit=10)
    assert total > 150
    assert counting.searches[-1] == (150, None)
    # The best 150 by score, weighed: the page is theirs, in the fallback's order.
    assert [summary(searcher, address).id for address in page] == words_first(searcher, query, 150)[40:50]
