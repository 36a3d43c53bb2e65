from __future__ import annotations

from typing import Literal

import pytest
from cinemesh.search.v1 import search_pb2
from protobuf import Oneof
from protovalidate import FieldPathElementPb, FieldPathPb

from meshkit.contract_rules import check_request, field_path
from meshkit.errors import FieldViolation, InvalidArgument


def test_a_request_within_its_rules_passes() -> None:
    check_request(search_pb2.ListVideosRequest(limit=100, page=100, sort="title", genre=["Drama"], min_rating=7))
    check_request(search_pb2.GetClientInfoRequest())


def test_every_broken_rule_is_reported_at_once_fields_first() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_request(search_pb2.ListVideosRequest(limit=0, sort="x", min_rating=9, max_rating=2))
    assert [(v.field, v.reason) for v in caught.value.violations] == [
        ("limit", "int32.gte_lte"),
        ("sort", "string.in"),
        ("min_rating", "min_rating.not_above_max_rating"),
    ]
    assert caught.value.violations[0].description == "must be greater than or equal to 1 and less than or equal to 100"


def test_a_rule_across_fields_names_the_field_its_id_starts_with() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_request(search_pb2.ListVideosRequest(limit=100, page=101))
    (violation,) = caught.value.violations
    assert violation == FieldViolation(
        "page",
        "page × limit must be at most 10000, the deepest result served; narrow the search or sort the other way",
        reason="page.within_result_window",
    )
    assert str(caught.value).startswith("page: page × limit")


def test_a_blank_id_breaks_the_contract() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_request(search_pb2.GetVideoRequest(id="  "))
    assert [(v.field, v.reason) for v in caught.value.violations] == [("id", "string.pattern")]


@pytest.mark.parametrize(
    ("elements", "text"),
    [
        ([FieldPathElementPb(field_name="genre")], "genre"),
        ([FieldPathElementPb(field_name="genre", subscript=Oneof[Literal["index"], int]("index", 3))], "genre[3]"),
        (
            [FieldPathElementPb(field_name="labels", subscript=Oneof[Literal["string_key"], str]("string_key", "tv"))],
            'labels["tv"]',
        ),
        (
            [FieldPathElementPb(field_name="flags", subscript=Oneof[Literal["bool_key"], bool]("bool_key", True))],
            "flags[true]",
        ),
        ([FieldPathElementPb(field_name="os"), FieldPathElementPb(field_name="name")], "os.name"),
    ],
)
def test_field_paths_read_as_a_client_names_them(elements: list[FieldPathElementPb], text: str) -> None:
    assert field_path(FieldPathPb(elements=elements)) == text
