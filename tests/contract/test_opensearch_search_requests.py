"""What a search costs OpenSearch in requests, counted by the engine itself: the SearchIndex port's answers are
the same either way (test_search_index.py), but each extra request carrying a fuzzy query pays its rewrite again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from devstack.engines.opensearch import OpenSearch
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.domain.video_query import SortOrder, VideoQuery
from tests.contract.catalogue import MOVIES
from tests.contract.test_search_index import load


@pytest.fixture(scope="module")
def served(opensearch: OpenSearch) -> Iterator[tuple[str, str]]:
    url = opensearch.endpoints()["url"]
    alias = f"contract-requests-{uuid.uuid4().hex[:8]}"
    loader = OpenSearchIndexLoader(url, alias=alias)
    try:
        load(loader, MOVIES)
        yield url, alias
    finally:
        loader.close()
        with httpx.Client(base_url=url, timeout=30) as client:
            versions = client.get(f"/{alias}-*/_settings").raise_for_status().json()
            if versions:
                client.delete(f"/{','.join(versions)}").raise_for_status()


@pytest.fixture
async def index(served: tuple[str, str]) -> AsyncIterator[OpenSearchSearchIndex]:
    url, alias = served
    opened = OpenSearchSearchIndex(url, alias=alias)
    try:
        yield opened
    finally:
        await opened.close()


def requests_served(url: str, alias: str) -> tuple[int, int]:
    """Shard searches and document reads the index has answered so far."""
    stats = httpx.get(f"{url}/{alias}/_stats/search,get", timeout=10).raise_for_status().json()["_all"]["total"]
    return stats["search"]["query_total"], stats["get"]["total"]


def query(text: str = "", page: int = 1, genres: tuple[str, ...] = ()) -> VideoQuery:
    return VideoQuery(text, 10, page, None, SortOrder.ASC, genres)


@pytest.mark.parametrize(
    ("text", "genres"),
    [
        ("Тирминатер", ()),  # two typos
        ("Xthyjt pthrfkj", ()),  # the other keyboard layout
        ("tom roth", ()),  # a short name one edit off
        ("Тирминатер", ("Sci-Fi", "Action")),  # the first card among the chosen genres
    ],
)
async def test_a_repaired_search_is_one_request_bringing_the_card_it_reads(
    served: tuple[str, str], index: OpenSearchSearchIndex, text: str, genres: tuple[str, ...]
) -> None:
    before = requests_served(*served)
    page = await index.search(query(text, genres=genres))
    after = requests_served(*served)
    assert page.repaired_search is not None
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)


async def test_a_search_finding_nothing_asks_once_more_for_the_movies_holding_some_words(
    served: tuple[str, str], index: OpenSearchSearchIndex
) -> None:
    before = requests_served(*served)
    page = await index.search(query("терминатор qzxwvkj"))
    after = requests_served(*served)
    assert page.repaired_search == "терминатор"
    assert (after[0] - before[0], after[1] - before[1]) == (2, 0)


async def test_a_listing_counts_in_a_request_of_its_own(served: tuple[str, str], index: OpenSearchSearchIndex) -> None:
    before = requests_served(*served)
    await index.search(query())
    after = requests_served(*served)
    # The page and its counts (which the shard request cache keeps); a card is never read.
    assert (after[0] - before[0], after[1] - before[1]) == (2, 0)
