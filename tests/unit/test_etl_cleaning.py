"""The cleaning rules on single values, as the legacy export writes them."""

from __future__ import annotations

import pytest

from etl import cleaning
from etl.cleaning import Tally


@pytest.mark.parametrize("raw", ["N/A", "n/a", " N/A ", "null", "None", "", "   ", None])
def test_placeholders_and_blanks_become_nothing(raw: object) -> None:
    assert cleaning.clean_text(raw, "plot") == ""
    assert cleaning.is_missing(raw)


def test_a_placeholder_is_tallied_by_column() -> None:
    tally = Tally()
    cleaning.clean_text("N/A", "plot", tally)
    assert tally == {cleaning.placeholder_removed("plot"): 1}


def test_text_that_merely_contains_n_a_is_kept() -> None:
    plot = "Non-stop action/adventure; N/A is what the form said."
    assert cleaning.clean_text(plot, "plot") == plot


def test_one_line_text_loses_padding_and_repeated_blanks_a_description_keeps_its_lines() -> None:
    tally = Tally()
    assert cleaning.clean_text("  Blade \t Runner ", "title", tally) == "Blade Runner"
    assert cleaning.clean_text(" First.\n\nSecond. ", "plot", tally, one_line=False) == "First.\n\nSecond."
    assert tally[cleaning.WHITESPACE] == 2


def test_bytes_are_read_as_utf8() -> None:
    assert cleaning.clean_text("Чёрное зеркало".encode(), "title") == "Чёрное зеркало"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Action, Adventure, Sci-Fi", ("Action", "Adventure", "Sci-Fi")),
        ("Drama", ("Drama",)),
        ("Drama,Comedy", ("Drama", "Comedy")),
        ("Drama, , Comedy,", ("Drama", "Comedy")),
        ("Drama, Drama", ("Drama",)),
        ("N/A", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_comma_separated_lists_split_into_clean_unique_names(raw: object, names: tuple[str, ...]) -> None:
    assert cleaning.clean_names(raw, "genre") == names


def test_co_director_suffixes_are_stripped_and_counted() -> None:
    tally = Tally()
    raw = "Ira Steven Behr(co-director), David Zappone (co-director), Drew DeNicola"
    names = cleaning.clean_names(raw, "director", tally)
    assert names == ("Ira Steven Behr", "David Zappone", "Drew DeNicola")
    assert tally[cleaning.CO_DIRECTOR] == 2
    assert cleaning.WHITESPACE not in tally  # the blank after a comma is the separator's


def test_a_name_repeated_once_suffixed_counts_once() -> None:
    assert cleaning.clean_names("Anita Barbosa, Anita Barbosa(co-director)", "director") == ("Anita Barbosa",)


@pytest.mark.parametrize(
    ("raw", "rating"),
    [("8.6", 8.6), ("10", 10.0), ("0.0", 0.0), (" 7.5 ", 7.5), ("7,5", 7.5), (6, 6.0), (6.4, 6.4)],
)
def test_ratings_are_numbers_from_zero_to_ten(raw: object, rating: float) -> None:
    assert cleaning.clean_rating(raw) == rating


@pytest.mark.parametrize("raw", ["N/A", "", None, "abc", "11", "-1", "nan", "inf"])
def test_anything_else_is_no_rating(raw: object) -> None:
    assert cleaning.clean_rating(raw) is None


def test_unreadable_ratings_and_placeholders_are_tallied_apart() -> None:
    tally = Tally()
    for raw in ("N/A", "abc", "11", "", None):
        cleaning.clean_rating(raw, tally)
    assert tally == {cleaning.placeholder_removed("imdb_rating"): 1, cleaning.RATING_UNREADABLE: 2}


@pytest.mark.parametrize(("raw", "actor_id"), [("475", 475), (" 12 ", 12), (7, 7), ("0", 0)])
def test_actor_ids_are_integers(raw: object, actor_id: int) -> None:
    assert cleaning.clean_actor_id(raw) == actor_id


@pytest.mark.parametrize("raw", ["", "N/A", "12a", "1.5", "-3", -3, None])
def test_anything_else_names_no_actor(raw: object) -> None:
    assert cleaning.clean_actor_id(raw) is None


def test_writer_ids_keep_first_seen_order_and_drop_repeats() -> None:
    tally = Tally()
    listed = '[{"id": "b"}, {"id": "b"}, {"id": "a"}, {"id": "c"}, {"id": "c"}, {"id": "b"}]'
    assert cleaning.writer_ids("", listed, tally) == ["b", "a", "c"]
    assert tally[cleaning.WRITER_REPEATED] == 3


@pytest.mark.parametrize(
    ("writer", "writers", "ids"),
    [
        ("w1", "", ["w1"]),
        ("w1", None, ["w1"]),
        ("", '[{"id": "w2"}]', ["w2"]),
        ("N/A", "", []),
        ("", "[]", []),
        ("", "", []),
        (None, None, []),
        (" w1 ", "", ["w1"]),
        ("", '["w3", {"id": "w4"}, {"name": "x"}, 5]', ["w3", "w4", "5"]),
    ],
)
def test_writer_ids_come_from_either_column(writer: object, writers: object, ids: list[str]) -> None:
    assert cleaning.writer_ids(writer, writers, None) == ids


def test_a_movie_with_both_columns_keeps_both_the_single_id_first() -> None:
    tally = Tally()
    assert cleaning.writer_ids("w1", '[{"id": "w2"}, {"id": "w1"}]', tally) == ["w1", "w2"]
    assert tally[cleaning.WRITER_AND_WRITERS] == 1


@pytest.mark.parametrize("listed", ["not json", '{"id": "w1"}', "[{", '"w1"'])
def test_an_unreadable_list_is_ignored_and_tallied(listed: str) -> None:
    tally = Tally()
    assert cleaning.writer_ids("", listed, tally) == []
    assert tally[cleaning.WRITERS_UNREADABLE] == 1
