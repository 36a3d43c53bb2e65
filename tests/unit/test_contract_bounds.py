"""The bounds the contract declares (buf.validate in protos/) are the domain's, so the two cannot drift apart.

Read from the generated descriptors, the same ones the services validate with.
"""

from __future__ import annotations

import math

import protovalidate
import pytest
from buf.validate import validate_pb2
from cinemesh.search.v1 import search_pb2
from google.protobuf.message import Message

from meshkit.errors import InvalidArgument
from search_svc.domain.video_query import (
    DEFAULT_LIMIT,
    MAX_GENRES,
    MAX_LIMIT,
    MAX_RATING,
    MAX_RESULT_WINDOW,
    MAX_SEARCH_CHARS,
    MAX_SUGGESTIONS,
    MIN_RATING,
    SortField,
    SortOrder,
    suggest_query,
)
from search_svc.entrypoints.grpc_servicer import MAX_ID_CHARS, listing_query


def rules(message: type[Message], field: str) -> validate_pb2.FieldRules:
    options = message.DESCRIPTOR.fields_by_name[field].GetOptions()
    declared: validate_pb2.FieldRules = options.Extensions[validate_pb2.field]
    return declared


def broken_rules(request: Message) -> list[str]:
    return [violation.proto.rule_id or "" for violation in protovalidate.collect_violations(request)]


def test_listing_bounds() -> None:
    limit, page = rules(search_pb2.ListVideosRequest, "limit").int32, rules(search_pb2.ListVideosRequest, "page").int32
    assert (limit.gte, limit.lte) == (1, MAX_LIMIT)
    # No page past the deepest result is ever served, whatever the page size.
    assert (page.gte, page.lte) == (1, MAX_RESULT_WINDOW)
    assert rules(search_pb2.ListVideosRequest, "search").string.max_len == MAX_SEARCH_CHARS
    assert rules(search_pb2.ListVideosRequest, "genre").repeated.max_items == MAX_GENRES
    for field in ("min_rating", "max_rating"):
        rating = rules(search_pb2.ListVideosRequest, field).double
        assert (rating.gte, rating.lte) == (MIN_RATING, MAX_RATING)


def test_listing_choices_are_the_domains_plus_empty_for_absent() -> None:
    # `in` is a Python keyword.
    assert list(getattr(rules(search_pb2.ListVideosRequest, "sort").string, "in")) == ["", *SortField]
    assert list(getattr(rules(search_pb2.ListVideosRequest, "sort_order").string, "in")) == ["", *SortOrder]


def test_suggestion_and_card_bounds() -> None:
    query, limit = rules(search_pb2.SuggestTitlesRequest, "query"), rules(search_pb2.SuggestTitlesRequest, "limit")
    assert query.required
    assert query.string.max_len == MAX_SEARCH_CHARS
    assert (limit.int32.gte, limit.int32.lte) == (1, MAX_SUGGESTIONS)
    assert rules(search_pb2.GetVideoRequest, "id").string.max_len == MAX_ID_CHARS


def test_what_the_contract_calls_not_blank_the_service_never_strips_away() -> None:
    """The servicer strips an id and the domain splits a query on Python's whitespace, which is neither the
    validator's nor the OpenAPI tools' idea of `\\s`; the contract's pattern must refuse all of them."""
    accepted = 0
    for code in [*range(0x3100), 0xFEFF]:
        text = chr(code)
        for request in (search_pb2.GetVideoRequest(id=text), search_pb2.SuggestTitlesRequest(query=text)):
            if not broken_rules(request):
                accepted += 1
                assert text.strip(), f"U+{code:04X} passes the contract but is blank to the service"
            elif code != 0xFEFF:  # whitespace to ECMA regexes only
                assert not text.strip(), f"U+{code:04X} is refused as blank but the service would serve it"
    assert accepted > 20_000


@pytest.mark.parametrize("limit", [None, 1, 7, MAX_LIMIT])
def test_the_window_rule_pages_as_far_as_the_domain(limit: int | None) -> None:
    """The rule's CEL carries the window and the default page size; the domain's constants must match them."""
    size = DEFAULT_LIMIT if limit is None else limit
    deepest = MAX_RESULT_WINDOW // size
    for page, allowed in ((deepest, True), (deepest + 1, False)):
        request = search_pb2.ListVideosRequest(page=page, limit=limit)
        assert ("page.within_result_window" not in broken_rules(request)) is allowed, (page, size)
        assert _domain_allows(request) is allowed, (page, size)


@pytest.mark.parametrize(
    ("min_rating", "max_rating"),
    [(MIN_RATING, MAX_RATING), (MAX_RATING, MAX_RATING), (5.0, 4.5), (MAX_RATING, MIN_RATING), (0.0, -0.0)],
)
def test_the_rating_order_rule_agrees_with_the_domain(min_rating: float, max_rating: float) -> None:
    request = search_pb2.ListVideosRequest(min_rating=min_rating, max_rating=max_rating)
    assert (not broken_rules(request)) == _domain_allows(request)
    assert ("min_rating.not_above_max_rating" in broken_rules(request)) is (min_rating > max_rating)


EDGES = [
    search_pb2.ListVideosRequest(limit=0),
    search_pb2.ListVideosRequest(limit=MAX_LIMIT + 1),
    search_pb2.ListVideosRequest(page=0),
    search_pb2.ListVideosRequest(search="x" * MAX_SEARCH_CHARS),
    search_pb2.ListVideosRequest(search="x" * (MAX_SEARCH_CHARS + 1)),
    search_pb2.ListVideosRequest(sort="rating"),
    search_pb2.ListVideosRequest(sort_order="up"),
    search_pb2.ListVideosRequest(genre=[f"g{i}" for i in range(MAX_GENRES)]),
    search_pb2.ListVideosRequest(genre=[f"g{i}" for i in range(MAX_GENRES + 1)]),
    search_pb2.ListVideosRequest(min_rating=MIN_RATING - 0.1),
    search_pb2.ListVideosRequest(max_rating=MAX_RATING + 0.1),
    search_pb2.ListVideosRequest(max_rating=math.nan),
    search_pb2.ListVideosRequest(min_rating=-math.inf),
]


@pytest.mark.parametrize("request_", EDGES, ids=lambda r: str(r).replace("\n", " ")[:40])
def test_contract_and_domain_agree_at_the_edges(request_: search_pb2.ListVideosRequest) -> None:
    assert (not broken_rules(request_)) == _domain_allows(request_)


@pytest.mark.parametrize("limit", [0, 1, MAX_SUGGESTIONS, MAX_SUGGESTIONS + 1])
def test_suggestion_limit_agrees_with_the_domain(limit: int) -> None:
    request = search_pb2.SuggestTitlesRequest(query="дюна", limit=limit)
    try:
        suggest_query(query=request.query, limit=request.limit)
    except InvalidArgument:
        assert broken_rules(request) == ["int32.gte_lte"]
    else:
        assert broken_rules(request) == []


def _domain_allows(request: search_pb2.ListVideosRequest) -> bool:
    try:
        listing_query(request)
    except InvalidArgument:
        return False
    return True
