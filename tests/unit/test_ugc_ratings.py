"""Ratings: what a score may be, what a change does to a movie's summary, and the list's cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshkit.errors import InvalidArgument
from ugc_svc.domain.favourites import Favourite, FavouritesKey
from ugc_svc.domain.ratings import MovieRating, Rating, RatingChange, RatingsKey, SummaryChange

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("score", [-1, 11, True, 7.0])
def test_a_score_is_a_whole_number_from_0_to_10(score: object) -> None:
    with pytest.raises(InvalidArgument) as raised:
        Rating("u", "m", score, T0)  # type: ignore[arg-type]
    assert [v.field for v in raised.value.violations] == ["score"]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, 7, SummaryChange(1, 7)),
        (7, 3, SummaryChange(0, -4)),
        (3, None, SummaryChange(-1, -3)),
        (None, None, SummaryChange(0, 0)),
        (0, None, SummaryChange(-1, 0)),
        (None, 0, SummaryChange(1, 0)),
    ],
)
def test_a_change_moves_the_summary_by_the_difference(
    before: int | None, after: int | None, expected: SummaryChange
) -> None:
    assert SummaryChange.between(before, after) == expected


def test_the_average_is_the_total_over_the_count() -> None:
    assert MovieRating("m", 4, 30).average == 7.5
    assert MovieRating("m", 0, 0).average is None


def test_a_removal_leaves_no_rating_and_a_set_leaves_its_score_and_time() -> None:
    assert RatingChange("u", "m", None, T0, 3).rating() is None
    assert RatingChange("u", "m", 9, T0, 3).rating() == Rating("u", "m", 9, T0)


def test_an_offset_is_never_negative() -> None:
    with pytest.raises(InvalidArgument):
        RatingChange("u", "m", 5, T0, -1)


def test_a_ratings_cursor_round_trips_and_a_favourites_cursor_is_refused() -> None:
    key = RatingsKey.of(Rating("u", "m", 5, T0))
    assert RatingsKey.from_cursor(key.cursor()) == key
    with pytest.raises(InvalidArgument):
        RatingsKey.from_cursor(FavouritesKey.of(Favourite("u", "m", T0)).cursor())
