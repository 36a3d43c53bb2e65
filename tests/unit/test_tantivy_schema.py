"""The tantivy index's analysers and stored forms: pure functions, no index on disk."""

from __future__ import annotations

import base64
import itertools
import json

import pytest

from search_svc.adapters import tantivy_schema
from search_svc.domain.movie import Actor, Movie, VideoSummary, Writer
from tests.contract.catalogue import MOVIES


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Звёздные войны: Новая надежда", ["звездн", "войн", "нов", "надежд"]),
        ("По лезвию бегущий", ["лезв", "бегущ"]),  # "по" is a stop word
        ("Blade Runners", ["blade", "runner"]),
        ("Лос-Анджелесе 2019", ["лос", "анджелес", "2019"]),
        ("The The", []),
    ],
)
def test_analyze_cuts_folds_drops_stop_words_and_stems(text: str, terms: list[str]) -> None:
    assert tantivy_schema.analyze(text) == terms


def test_analyze_folds_yo() -> None:
    assert tantivy_schema.analyze("Ёлки, чёрное") == tantivy_schema.analyze("елки, черное")


def test_plain_words_keep_stop_words_unstemmed() -> None:
    assert tantivy_schema.plain_words("The The, это Ёлки") == ["the", "the", "это", "елки"]


def test_prefix_numbers_keep_the_order_of_strings() -> None:
    texts = sorted(["", "a", "ab", "ab\x01", "abcdefgh", "abcdefghz", "tt0000001", "tt0000002", "ёлки", "яблоко", "я"])
    numbers = [tantivy_schema.prefix_number(text) for text in texts]
    assert all(a <= b for a, b in itertools.pairwise(numbers))


@pytest.mark.parametrize(
    "movie",
    [
        *MOVIES,
        Movie("x1", "Без всего"),
        Movie("x2", "Круглый", "", 8.0, (), (), (Actor(0, ""),), (Writer("", "W"),)),
    ],
    ids=lambda m: m.id,
)
def test_a_card_gives_back_the_movie_exactly(movie: Movie) -> None:
    card = tantivy_schema.card(movie)
    loaded = tantivy_schema.movie_from_card(card)
    assert loaded == movie
    assert type(loaded.imdb_rating) is type(movie.imdb_rating)
    assert [type(a.id) for a in loaded.actors] == [int] * len(movie.actors)
    assert tantivy_schema.summary_from_card(card) == VideoSummary(movie.id, movie.title, movie.imdb_rating)


@pytest.mark.parametrize("movie", MOVIES, ids=lambda m: m.id)
def test_the_json_document_the_loader_sends_is_the_document(movie: Movie) -> None:
    # The loader hands the writer JSON (cheap to build in another process); it must say what document() says.
    fields = json.loads(tantivy_schema.document_json(movie))
    fields[tantivy_schema.CARD] = [base64.b64decode(card) for card in fields[tantivy_schema.CARD]]
    assert fields == tantivy_schema.document(movie).to_dict()
    assert tantivy_schema.movie_from_card(fields[tantivy_schema.CARD][0]) == movie


_ODD_TEXT = "İstanbul ÉCOLE straße Ǆungla ﬁlm Ⅻ ½ x² the и ё-моё 2019г. Ёжик-в-тумане"


@pytest.mark.parametrize(
    "movie",
    [
        *MOVIES,
        Movie("x1", "Без всего"),
        Movie("x2", "The The", "и и и", None, ("", "the"), ("",), (Actor(0, "an"),), ()),
        Movie("x3", _ODD_TEXT, _ODD_TEXT, 5.0, (_ODD_TEXT,), (_ODD_TEXT,), (Actor(1, _ODD_TEXT),), (Writer("", "Ёж"),)),
    ],
    ids=lambda m: m.id,
)
def test_analysed_fields_hold_the_analysers_terms(movie: Movie) -> None:
    # The writer only cuts these fields at spaces: what it indexes must be what the analysers make of the movie's
    # text (the terms queries are built from), value by value, in order and with repeats (scores count them).
    people = [*movie.director, *(actor.name for actor in movie.actors), *(writer.name for writer in movie.writers)]
    expected = {
        tantivy_schema.TITLE: [tantivy_schema.analyze(movie.title)],
        tantivy_schema.TITLE_PLAIN: [tantivy_schema.plain_words(movie.title)],
        tantivy_schema.TITLE_LEMMAS: [tantivy_schema.analyze_lemmas(movie.title)],
        tantivy_schema.PEOPLE: [tantivy_schema.analyze(name) for name in people],
        tantivy_schema.GENRE_TEXT: [tantivy_schema.analyze(genre) for genre in movie.genre],
        tantivy_schema.DIRECTOR: [tantivy_schema.analyze(name) for name in movie.director],
        tantivy_schema.ACTORS: [tantivy_schema.analyze(actor.name) for actor in movie.actors],
        tantivy_schema.WRITERS: [tantivy_schema.analyze(writer.name) for writer in movie.writers],
    }
    if movie.description:
        expected[tantivy_schema.DESCRIPTION] = [tantivy_schema.analyze(movie.description)]
        expected[tantivy_schema.DESCRIPTION_LEMMAS] = [tantivy_schema.analyze_lemmas(movie.description)]
    fields = json.loads(tantivy_schema.document_json(movie))
    found = {field: [value.split(" ") if value else [] for value in fields.get(field, [])] for field in expected}
    assert found == expected
