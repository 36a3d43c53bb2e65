from __future__ import annotations

import pytest

from search_svc.domain.analysis import STOPWORDS, fold
from search_svc.domain.text import fold_yo, is_cyrillic, is_latin, layout_variants, transliterated, transliteration


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Xthyjt pthrfkj", "Черное зеркало"),
        ("nthvbyfnjh", "терминатор"),
        ("ыефк цфкы", "star wars"),
        ("ЗУФКД РФКИЩК", "PEARL HARBOR"),
        ("Ghbdtn vbh", "Привет мир"),
    ],
)
def test_the_other_layout_reading(typed: str, meant: str) -> None:
    assert layout_variants(typed) == (typed, meant)


@pytest.mark.parametrize("text", ["Star Wars Звёздные войны", "2049", "", "!!!"])
def test_mixed_or_letterless_text_has_one_reading(text: str) -> None:
    assert layout_variants(text) == (text,)


def test_a_swap_that_leaves_no_letters_is_no_reading() -> None:
    assert layout_variants("хъ") == ("хъ",)


def test_yo_folding() -> None:
    assert fold_yo("Ёлки, Чёрное") == "Елки, Черное"
    assert fold("ЁЛКИ") == "елки"


def test_alphabet_checks() -> None:
    assert is_latin("Blade Runner 2049")
    assert is_cyrillic("Ёлки 2")
    assert not is_latin("Ёлки")
    assert not is_cyrillic("Blade")


def test_stopwords_are_folded_and_unique() -> None:
    assert len(set(STOPWORDS)) == len(STOPWORDS)
    assert all(word == fold(word) for word in STOPWORDS)


@pytest.mark.parametrize(
    ("word", "across"),
    [
        ("Кершнер", "kershner"),
        ("Тарантино", "tarantino"),
        ("щука", "shchuka"),
        ("Объект", "obekt"),
        ("kershner", "кершнер"),
        ("Lynch", "линч"),
        ("Shchedrin", "щедрин"),
        ("jazz", "джазз"),
    ],
)
def test_a_word_spelled_in_the_other_alphabet(word: str, across: str) -> None:
    assert transliteration(word) == across


@pytest.mark.parametrize("word", ["2049", "r2d2", "Starбакс", "héllo", ""])
def test_a_word_of_both_alphabets_or_other_signs_is_not_carried_across(word: str) -> None:
    assert transliteration(word) is None


@pytest.mark.parametrize(
    ("text", "across"),
    [("Сталкер", "stalker"), ("Kin-dza-dza!", "кин-дза-дза!"), ("Терминатор 2", "terminator 2")],
)
def test_text_spelled_in_the_other_alphabet(text: str, across: str) -> None:
    assert transliterated(text) == across


@pytest.mark.parametrize("text", ["Star Wars Звёздные войны", "2049", "!!!"])
def test_mixed_or_letterless_text_is_not_carried_across(text: str) -> None:
    assert transliterated(text) is None
