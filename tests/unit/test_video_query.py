from __future__ import annotations

import pytest

from meshkit.errors import InvalidArgument
from search_svc.domain.video_query import DEFAULT_LIMIT, SortField, SortOrder, video_query


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
