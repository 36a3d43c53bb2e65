"""How a listing says what it understood a search as: the reading of typed words against the first movie's words."""

from __future__ import annotations

import pytest

from search_svc.domain.movie import Actor, Movie
from search_svc.domain.search_repair import repaired_search, taken_as_typed

SOLARIS = Movie(
    "m1",
    "Солярис",
    "Психолога отправляют на станцию над планетой-океаном.",
    8.0,
    ("Drama",),
    ("Андрей Тарковский",),
    (Actor(1, "Донатас Банионис"),),
)
OFFICE_ROMANCE = Movie("m3", "Служебный роман", "Директор статистического учреждения.", 8.3, ("Comedy",))
RUNNER = Movie("m2", "Blade Runner", "A blade runner must pursue four replicants.", 8.1, (), ("Ridley Scott",))


@pytest.mark.parametrize(
    ("text", "movie", "partial", "understood"),
    [
        ("Соларис", SOLARIS, False, "Солярис"),  # one typo, put as the catalogue spells it
        ("Cjkzhbc", SOLARIS, False, "Солярис"),  # the other keyboard layout
        ("Тарквоский солярис", SOLARIS, False, "Тарковский солярис"),
        ("blade runer", RUNNER, False, "blade Runner"),
        ("blade runner zzzz", RUNNER, True, "blade runner"),  # only some words matched: the others left out
        ("the bldae runner", RUNNER, False, "the Blade runner"),  # a swap of neighbours is one edit
        ("ridly scott", RUNNER, False, "Ridley scott"),  # one missing letter in a name
        # The other layout, read whole: ";" and "," are «ж» and «б» there. «Служебный ромн» has a typo too.
        ("cke;t,ysq hjvy", OFFICE_ROMANCE, False, "Служебный роман"),
    ],
)
def test_a_repair_reads_as_the_catalogue_spells_it(text: str, movie: Movie, partial: bool, understood: str) -> None:
    assert repaired_search(text, movie, partial=partial) == understood


@pytest.mark.parametrize(
    ("text", "movie", "partial"),
    [
        ("солярисе", SOLARIS, False),  # an inflection
        ("Тарковского", SOLARIS, False),
        ("психологи", SOLARIS, False),  # a dictionary lemma
        ("blade runners", RUNNER, False),
        ("tarkovsky solaris", SOLARIS, True),  # spelled in the other alphabet: matching a name, not a mistake
        ("blade runner zzzz", RUNNER, False),  # a word matched elsewhere on the page stays as typed
        ("the", RUNNER, False),  # stop words only
        ("zzzz", RUNNER, True),  # nothing would be left
        ("bla", RUNNER, False),  # too short for a typo alone
    ],
)
def test_no_repair(text: str, movie: Movie, partial: bool) -> None:
    assert repaired_search(text, movie, partial=partial) is None


def test_a_title_holding_every_word_needs_no_other_field() -> None:
    assert taken_as_typed("blade runners", "Blade Runner")
    assert taken_as_typed("the Солярис", "Солярис")
    assert not taken_as_typed("blade runer", "Blade Runner")
    assert not taken_as_typed("ridley", "Blade Runner")
