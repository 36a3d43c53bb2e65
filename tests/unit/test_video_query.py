from __future__ import annotations

import pytest

from meshkit.errors import InvalidArgument
from search_svc.domain.video_query import (
    DEFAULT_LIMIT,
    DEFAULT_SUGGESTIONS,
    SortField,
    SortOrder,
    SuggestQuery,
    suggest_query,
    video_query,
)


def query(**overrides: object) -> object:
    params: dict[str, object] = {"limit": None, "page": None, "search": "", "sort": "", "sort_order": ""}
    params.update(overrides)
    return video_query(**params)  # type: ignore[arg-type]


def test_absent_parameters_take_their_defaults() -> None:
    q = video_query(limit=None, page=None, search="", sort="", sort_order="")
    assert (q.limit, q.page, q.sort, q.order, q.offset) == (DEFAULT_LIMIT, 1, None, SortOrder.ASC, 0)


def test_a_valid_request_is_kept_and_the_search_text_normalised() -> None:
    q = video_query(limit=10, page=3, search="  Бегущий   по лезвию ", sort="imdb_rating", sort_order="desc")
    assert q.text == "Бегущий по лезвию"
    assert (q.limit, q.page, q.offset) == (10, 3, 20)
    assert (q.sort, q.order) == (SortField.IMDB_RATING, SortOrder.DESC)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 101}, "limit"),
        ({"page": 0}, "page"),
        ({"page": -5}, "page"),
        ({"sort": "aaa"}, "sort"),
        ({"sort": "ID"}, "sort"),
        ({"sort_order": "neutral"}, "sort_order"),
        ({"search": "x" * 257}, "search"),
    ],
)
def test_each_bad_parameter_is_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        query(**overrides)
    assert [v.field for v in caught.value.violations] == [field]
    assert field in str(caught.value)


def test_all_mistakes_are_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        query(limit=0, page=0, sort="x", sort_order="y")
    assert [v.field for v in caught.value.violations] == ["limit", "page", "sort", "sort_order"]


@pytest.mark.parametrize("limit", [1, 50, 100])
def test_limit_bounds_are_inclusive(limit: int) -> None:
    assert video_query(limit=limit, page=None, search="", sort="", sort_order="").limit == limit


def test_filters_are_kept_and_genres_deduplicated() -> None:
    q = video_query(
        limit=None, page=None, search="", sort="", sort_order="", genres=[" Drama", "Drama", "", "Comedy"],
        min_rating=7, max_rating=9.5,
    )  # fmt: skip
    assert (q.genres, q.min_rating, q.max_rating) == (("Drama", "Comedy"), 7, 9.5)


@pytest.mark.parametrize(
    ("min_rating", "max_rating", "field"),
    [(-1, None, "min_rating"), (None, 10.5, "max_rating"), (float("nan"), None, "min_rating"), (8, 7, "min_rating")],
)
def test_rating_bounds(min_rating: float | None, max_rating: float | None, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        query(min_rating=min_rating, max_rating=max_rating)
    assert [v.field for v in caught.value.violations] == [field]


def test_pages_past_the_engines_window_are_refused_clearly() -> None:
    assert video_query(limit=100, page=100, search="", sort="", sort_order="").offset == 9900
    with pytest.raises(InvalidArgument) as caught:
        query(limit=100, page=101)
    assert caught.value.violations[0].field == "page"
    assert "10000" in caught.value.violations[0].description


def test_too_many_genres() -> None:
    with pytest.raises(InvalidArgument):
        query(genres=[f"g{i}" for i in range(21)])


def test_suggest_query() -> None:
    assert suggest_query(query="  бег  по ", limit=None) == SuggestQuery("бег по", DEFAULT_SUGGESTIONS)
    for bad in ({"query": "", "limit": None}, {"query": "x", "limit": 0}, {"query": "x" * 300, "limit": 5}):
        with pytest.raises(InvalidArgument):
            suggest_query(**bad)
