"""The prior both engines weigh a full match by: how fully the catalogue describes a movie."""

from __future__ import annotations

import math

from search_svc.domain.completeness import RECORD_WEIGHT_SCALE, completeness, record_weight
from search_svc.domain.movie import Actor, Movie, Writer

PLOT = "A mining town waits out the winter under a comet that will not set, and two brothers lose it all."
FULL = Movie(
    "f",
    "Comet Over Vale",
    PLOT,
    7.0,
    ("Western",),
    ("Nora Quill",),
    (Actor(1, "Abe Stone"), Actor(2, "Jon Reyes"), Actor(3, "Mae Lund"), Actor(4, "Ora Finch")),
    (Writer("w", "Tess Ford"),),
)


def test_a_title_alone_weighs_nothing() -> None:
    assert (completeness(Movie("b", "Comet Over Vale")), record_weight(Movie("b", "Comet Over Vale"))) == (0.0, 0.0)


def test_a_full_record_weighs_the_whole_scale() -> None:
    assert (completeness(FULL), record_weight(FULL)) == (1.0, RECORD_WEIGHT_SCALE)


def test_each_part_counts_a_quarter_and_actors_past_three_add_nothing() -> None:
    assert completeness(Movie("d", "T", director=("Nora Quill",))) == 0.25
    assert completeness(Movie("w", "T", writers=(Writer("w", "Tess Ford"),))) == 0.25
    assert completeness(Movie("p", "T", PLOT)) == 0.25
    assert completeness(Movie("a", "T", actors=FULL.actors[:1])) == 1 / 12
    assert completeness(Movie("a", "T", actors=FULL.actors[:3])) == completeness(Movie("a", "T", actors=FULL.actors))


def test_a_one_line_note_is_not_a_plot() -> None:
    assert completeness(Movie("n", "T", "A Star Wars game for the Atari 2600.")) == 0.0


def test_the_multiplier_stays_within_its_range() -> None:
    # What the engines multiply a full match's score by: log2(2 + weight).
    assert math.log2(2 + record_weight(Movie("b", "T"))) == 1.0
    assert 1.37 < math.log2(2 + record_weight(FULL)) < 1.38
