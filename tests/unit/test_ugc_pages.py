"""Cursors of the UGC lists: opaque, URL-safe, refused (naming the field) when not one a list returned."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from meshkit.errors import InvalidArgument
from ugc_svc.domain.favourites import Favourite, FavouritesKey
from ugc_svc.domain.pages import MAX_PAGE_SIZE, Page, check_limit, decode_cursor, encode_cursor, page_of


def test_a_cursor_round_trips_and_is_url_safe() -> None:
    cursor = encode_cursor("favourites", (1_764_590_400_123, "tt0083658/Ёлки"))
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor("favourites", cursor, (int, str)) == (1_764_590_400_123, "tt0083658/Ёлки")


def unsigned(payload: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def tampered(cursor: str) -> str:
    """The same cursor with its movie id changed and the checksum kept."""
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[2] = "m2"
    return unsigned(raw)


GOOD = encode_cursor("favourites", (5, "m1"))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # "not json"
        unsigned(["favourites", 5, "m1"]),  # no checksum
        tampered(GOOD),
        encode_cursor("continue_watching", (5, "m1")),  # another list's
        encode_cursor("favourites", ("5", "m1")),  # the wrong shape
        encode_cursor("favourites", (True, "m1")),
        encode_cursor("favourites", (5,)),
        GOOD + "A" * 2000,
    ],
)
def test_anything_but_a_cursor_of_this_list_is_refused_naming_the_field(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_cursor("favourites", cursor, (int, str), field="page_token")
    assert [v.field for v in raised.value.violations] == ["page_token"]


def test_the_favourites_key_reads_its_own_cursor() -> None:
    key = FavouritesKey.of(Favourite("u", "m1", datetime(2026, 12, 1, 0, 0, 0, 5_000, tzinfo=UTC)))
    assert key.added_ms == 1_796_083_200_005
    assert FavouritesKey.from_cursor(key.cursor()) == key


@pytest.mark.parametrize("limit", [0, -5, MAX_PAGE_SIZE + 1])
def test_a_limit_out_of_range_is_refused(limit: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_limit(limit)
    assert [v.field for v in raised.value.violations] == ["limit"]


def test_a_page_has_a_cursor_only_when_more_follow() -> None:
    assert page_of(["a", "b", "c"], 2, str.upper) == Page(("a", "b"), "B")
    assert page_of(["a", "b"], 2, str.upper) == Page(("a", "b"), None)
    assert page_of([], 2, str.upper) == Page((), None)
