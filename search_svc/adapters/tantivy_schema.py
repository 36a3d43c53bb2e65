"""The tantivy index's schema and analysers, configured from `domain.analysis`, and a movie's two forms in it.

Tantivy has no character filter, so ё is folded in Python before text reaches an analysed field (and before a
query is analysed). The analysers run where a document is built (the ETL's worker processes), not in the writer: an
analysed field holds its terms separated by spaces, which the writer's whitespace tokenizer only cuts apart. The
terms are the ones the analysers make, each distinct word stemmed once per process, and the writer, which has no
spare core, does no stemming. Three analysed views of the text exist:
- the main analyser (tokens, lower case, stop words, Russian then English stems) on every searchable field;
- the plain analyser (no stop words, no stems) on the title, for queries made only of stop words and for
  completing the word being typed;
- `fuzzy`, a JSON field mapping each main-analyser token's first letter to the rest of it, per field: a fuzzy
  query on the sub-path of the first letter allows typos anywhere but there, which tantivy's own fuzzy query
  (no prefix length) cannot say.
Columns (fast fields) serve sorting, filters and genre counts. The whole movie is stored as one JSON card, so
`get` gives back exactly what was loaded.
"""

from __future__ import annotations

import base64
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
import tantivy

from meshkit.errors import Unavailable
from search_svc.domain.analysis import STEMMERS, STOPWORDS, TOKEN_PATTERN, fold
from search_svc.domain.completeness import record_weight
from search_svc.domain.lemmas import lemma_text, word_lemmas
from search_svc.domain.movie import Actor, Movie, VideoSummary, Writer
from search_svc.domain.text import fold_yo

MAIN_ANALYZER = "cinemesh_main"
PLAIN_ANALYZER = "cinemesh_plain"

ID = "id"
CARD = "card"
TITLE = "title"
TITLE_PLAIN = "title_plain"
PEOPLE = "people"
GENRE_TEXT = "genre_text"
DESCRIPTION = "description"
FUZZY = "fuzzy"
GENRE = "genre"
TITLE_KEY = "title_key"
IMDB_RATING = "imdb_rating"
ID_PREFIX = "id_prefix"
TITLE_PREFIX = "title_prefix"
RATING_WEIGHT = "rating_weight"
# How fully the catalogue describes the movie (`domain.completeness`), weighing a search where every word matched.
RECORD_WEIGHT = "record_weight"
# Dictionary lemmas of the title's and the description's Russian words (`domain.lemmas`), written by the loader and
# analysed by the unstemmed chain only: the same terms OpenSearch indexes.
TITLE_LEMMAS = "title_lemmas"
DESCRIPTION_LEMMAS = "description_lemmas"
LEMMA_ANALYZER = "cinemesh_lemma"
# What the schema's analysed fields are indexed with: their values are already the analysers' terms.
TERMS_ANALYZER = "cinemesh_terms"

# The searchable fields; each is also a sub-object of FUZZY.
TEXT_FIELDS = (TITLE, PEOPLE, GENRE_TEXT, DESCRIPTION)
# The names of PEOPLE again, by the part each person had: a name as typed also scores there, rarer in a field of
# directors than among everyone credited, so a director's own films rank above those merely mentioning the name.
DIRECTOR = "director"
ACTORS = "actors_names"
WRITERS = "writers_names"
ROLE_FIELDS = (DIRECTOR, ACTORS, WRITERS)
# Fuzzy query words have 4+ letters and one typo (two from 8), so a shorter indexed token is never within reach.
MIN_FUZZY_TOKEN = 3
# A word as `domain.lemmas` cuts text into words to look them up.
_WORD = re.compile(r"[^\W_]+")


def _main_analyzer(*, stem: bool = True) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.custom_stopword([fold(word) for word in STOPWORDS]))
    )
    for language in STEMMERS if stem else ():
        builder = builder.filter(tantivy.Filter.stemmer(language))
    return builder.build()


def _plain_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN)).filter(tantivy.Filter.lowercase()).build()
    )


_MAIN = _main_analyzer()
_UNSTEMMED = _main_analyzer(stem=False)
_PLAIN = _plain_analyzer()
# The main analyser's last steps alone: one word of the unstemmed analyser's, stemmed as the main analyser would.
_STEM = functools.reduce(
    lambda builder, language: builder.filter(tantivy.Filter.stemmer(language)),
    STEMMERS,
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()),
).build()
_TERMS = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
# A typo can hide a word from its stemmer ("strkes" stays whole while "strikes" becomes "strike", two edits
# apart), so in these fields typos are also looked for among the words as written.
UNSTEMMED_TYPO_FIELDS = (TITLE, PEOPLE)


def analyze(text: str) -> list[str]:
    """The terms the main analyser indexes for `text` (and a query for it searches)."""
    return _MAIN.analyze(fold_yo(text))


def analyze_lemmas(text: str) -> list[str]:
    """The terms a lemma field indexes for `text`."""
    return _UNSTEMMED.analyze(fold_yo(lemma_text(text)))


def lemma_terms(word: str) -> list[str]:
    """The lemma-field terms one query word is searched by: its lemmas, as the lemma analyser cuts them."""
    return [term for lemma in word_lemmas(word) for term in _UNSTEMMED.analyze(lemma)]


def query_words(text: str) -> list[tuple[str, str]]:
    """Each word of `text` that is not a stop word: its indexed term, and the word as written (lower-cased)."""
    return [(term, word) for word in _UNSTEMMED.analyze(fold_yo(text)) for term in _terms(word)]


@functools.lru_cache(maxsize=1 << 16)
def _terms(word: str) -> tuple[str, ...]:
    # The main analyser stems word by word, so a text's terms are its unstemmed words' terms in turn: one pass
    # over the text serves both, and a word seen before (most of them) costs a lookup.
    return tuple(_MAIN.analyze(word))


def plain_words(text: str) -> list[str]:
    """`text` cut into lower-cased words, stop words kept and nothing stemmed."""
    return _PLAIN.analyze(fold_yo(text))


def title_key(title: str) -> str:
    """What titles sort by: case and ё ignored."""
    return fold(title)


@functools.cache
def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Raw terms: looked up exactly (get, replace, ties) and sorted on as a column.
    builder.add_text_field(ID, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field(CARD, stored=True)
    # No positions on the main fields: nothing searches them by phrase.
    for field in TEXT_FIELDS:
        builder.add_text_field(field, tokenizer_name=TERMS_ANALYZER, index_option="freq")
    builder.add_text_field(TITLE_PLAIN, tokenizer_name=TERMS_ANALYZER, index_option="position")
    for field in (TITLE_LEMMAS, DESCRIPTION_LEMMAS):
        builder.add_text_field(field, tokenizer_name=TERMS_ANALYZER, index_option="freq")
    builder.add_json_field(FUZZY, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(GENRE, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(TITLE_KEY, fast=True, tokenizer_name="raw", index_option="basic")
    # Unrated movies have no value: fast-field sorts put them last either way, and no range matches them.
    builder.add_float_field(IMDB_RATING, fast=True)
    # Numbers in the order of the strings they start: tantivy sorts on a number column cheaply, on a string
    # column at ~30 µs a hit (each one is looked up in the column's dictionary), too slow for deep pages.
    # Indexed too, so that the movies sharing one value are found by a term, not by a pass over the column.
    builder.add_unsigned_field(ID_PREFIX, indexed=True, fast=True)
    builder.add_unsigned_field(TITLE_PREFIX, indexed=True, fast=True)
    # Weighs suggestions by rating: tantivy multiplies a score by log2(2 + weight), so 0..1 lifts it by at most
    # ~1.6x, never past a match in the layout the user typed in (see tantivy_queries.OTHER_LAYOUT_BOOST).
    builder.add_float_field(RATING_WEIGHT, fast=True)
    # Added last, so that the fields before them keep their numbers (a version written before them still needs the
    # catalogue loaded again to be searched by part).
    for field in ROLE_FIELDS:
        builder.add_text_field(field, tokenizer_name=TERMS_ANALYZER, index_option="freq")
    builder.add_float_field(RECORD_WEIGHT, fast=True)
    return builder.build()


def register_analyzers(index: tantivy.Index) -> None:
    index.register_tokenizer(TERMS_ANALYZER, _TERMS)
    # Named by the versions written before the analysis moved out of the writer.
    index.register_tokenizer(MAIN_ANALYZER, _MAIN)
    index.register_tokenizer(PLAIN_ANALYZER, _PLAIN)
    index.register_tokenizer(LEMMA_ANALYZER, _UNSTEMMED)


def document(movie: Movie) -> tantivy.Document:
    """The movie as a tantivy Document: the fields of `document_json`, with the card as bytes."""
    return tantivy.Document.from_dict(_fields(movie, card(movie)), schema())


def document_json(movie: Movie) -> str:
    """The movie as the JSON document an IndexWriter's add_json() reads (a bytes field is base64 there)."""
    # orjson: the standard encoder took a fifth of the time Python spends on a document.
    return orjson.dumps(_fields(movie, base64.b64encode(card(movie)).decode())).decode()


def _fields(movie: Movie, card: object) -> dict[str, list[Any]]:
    title = fold_yo(movie.title)
    description = fold_yo(movie.description)
    title_words = _text_words(title, unstemmed=True)
    description_words = _text_words(description, unstemmed=True)
    director = [_name(fold_yo(name)) for name in movie.director]
    actors = [_name(fold_yo(actor.name)) for actor in movie.actors]
    writers = [_name(fold_yo(writer.name)) for writer in movie.writers]
    people = director + actors + writers
    genres = [_name(fold_yo(genre)) for genre in movie.genre]
    fields: dict[str, list[Any]] = {ID: [movie.id], CARD: [card], TITLE: [_stemmed(title_words)]}
    if people:
        fields[PEOPLE] = [terms for _, terms in people]
    if genres:
        fields[GENRE_TEXT] = [terms for _, terms in genres]
    if description:
        fields[DESCRIPTION] = [_stemmed(description_words)]
    if director:
        fields[DIRECTOR] = [terms for _, terms in director]
    if actors:
        fields[ACTORS] = [terms for _, terms in actors]
    if writers:
        fields[WRITERS] = [terms for _, terms in writers]
    fields[TITLE_PLAIN] = [" ".join(_text_words(title, unstemmed=False))]
    fields[TITLE_LEMMAS] = [_lemma_terms(title)]
    if description:
        fields[DESCRIPTION_LEMMAS] = [_lemma_terms(description)]
    fields[FUZZY] = [
        {
            TITLE: _by_first_letter(title_words, _unstemmed_fuzzy_tokens),
            PEOPLE: _by_first_letter(_all_words(people), _unstemmed_fuzzy_tokens),
            GENRE_TEXT: _by_first_letter(_all_words(genres), _fuzzy_tokens),
            DESCRIPTION: _by_first_letter(description_words, _fuzzy_tokens),
        }
    ]
    if movie.genre:
        fields[GENRE] = list(movie.genre)
    key = title_key(movie.title)
    fields[TITLE_KEY] = [key]
    fields[ID_PREFIX] = [prefix_number(movie.id)]
    fields[TITLE_PREFIX] = [prefix_number(key)]
    if movie.imdb_rating is not None:
        fields[IMDB_RATING] = [movie.imdb_rating]
        fields[RATING_WEIGHT] = [movie.imdb_rating / 10]
    fields[RECORD_WEIGHT] = [record_weight(movie)]
    return fields


def prefix_number(text: str) -> int:
    """The first 8 bytes of `text` as a number: strings in order give numbers in order (equal ones need the rest)."""
    return int.from_bytes(text.encode()[:8].ljust(8, b"\0"), "big")


# A catalogue repeats its words (names, genres, common words of plots): what one word contributes to the fuzzy
# field and to a lemma field is worked out once per distinct word, in each process, within these bounds (as many
# words as `_terms` keeps: some tens of MB per cache at most, however many rare names a catalogue holds).
_WORD_CACHE = 1 << 16


@functools.lru_cache(maxsize=_WORD_CACHE)
def _fuzzy_tokens(word: str) -> frozenset[tuple[str, str]]:
    """The fuzzy field's entries for one unstemmed word: each of its terms long enough, as (first letter, rest)."""
    return frozenset((term[0], term[1:]) for term in _terms(word) if len(term) >= MIN_FUZZY_TOKEN)


@functools.lru_cache(maxsize=_WORD_CACHE)
def _unstemmed_fuzzy_tokens(word: str) -> frozenset[tuple[str, str]]:
    """_fuzzy_tokens, and the word as written too (`UNSTEMMED_TYPO_FIELDS`)."""
    whole = {(word[0], word[1:])} if len(word) >= MIN_FUZZY_TOKEN else set()
    return _fuzzy_tokens(word).union(whole)


def _by_first_letter(words: Iterable[str], tokens: Callable[[str], frozenset[tuple[str, str]]]) -> dict[str, list[str]]:
    """Each distinct token of `words`, filed under its first letter."""
    grouped: dict[str, list[str]] = {}
    for first, rest in set().union(*map(tokens, words)):
        grouped.setdefault(first, []).append(rest)
    return grouped


@functools.lru_cache(maxsize=_WORD_CACHE)
def _name(text: str) -> tuple[tuple[str, ...], str]:
    """A name's or a genre's unstemmed words and main-analyser terms: a catalogue repeats them (and where it does
    not, the first names and surnames that make them up)."""
    words = tuple(_text_words(text, unstemmed=True))
    return words, _stemmed(words)


def _all_words(names: Iterable[tuple[tuple[str, ...], str]]) -> Iterator[str]:
    return itertools.chain.from_iterable(words for words, _ in names)


# Pieces of text between white space (words with their punctuation) that keep their analysis.
_PIECE_CACHE = 1 << 17


@functools.lru_cache(maxsize=_PIECE_CACHE)
def _piece(piece: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(_PLAIN.analyze(piece)), tuple(_UNSTEMMED.analyze(piece))


def _text_words(text: str, *, unstemmed: bool) -> list[str]:
    """The unstemmed (or the plain) analyser's words of `text`, piece by piece between white space: no word
    spans white space (TOKEN_PATTERN has none), and each piece's analysis is looked up once while cached, where
    tantivy's regex tokenizer costs some µs a piece."""
    return [word for piece in text.split() for word in _piece(piece)[unstemmed]]


@functools.lru_cache(maxsize=_WORD_CACHE)
def _stem(word: str) -> str:
    """One word of the unstemmed analyser's as the main analyser indexes it (it stems token by token)."""
    return " ".join(_STEM.analyze(word))


def _stemmed(words: Iterable[str]) -> str:
    """The main analyser's terms of a text, from the unstemmed analyser's words of it."""
    return " ".join(map(_stem, words))


@functools.lru_cache(maxsize=_WORD_CACHE)
def _word_lemma_terms(word: str) -> str:
    return " ".join(_UNSTEMMED.analyze(" ".join(word_lemmas(word))))


def _lemma_terms(text: str) -> str:
    """The lemma analyser's terms of lemma_text(text): looked up and analysed once per distinct word (the lemma
    analyser cuts text into the same words at the spaces that lemma_text puts between them)."""
    return " ".join(filter(None, map(_word_lemma_terms, _WORD.findall(text))))


def card(movie: Movie) -> bytes:
    fields: dict[str, Any] = {
        "id": movie.id,
        "title": movie.title,
        "description": movie.description,
        "imdb_rating": movie.imdb_rating,
        "genre": movie.genre,
        "director": movie.director,
        "actors": [[actor.id, actor.name] for actor in movie.actors],
        "writers": [[writer.id, writer.name] for writer in movie.writers],
    }
    return orjson.dumps(fields)


def movie_from_card(card: bytes) -> Movie:
    fields = orjson.loads(card)
    return Movie(
        id=fields["id"],
        title=fields["title"],
        description=fields["description"],
        imdb_rating=fields["imdb_rating"],
        genre=tuple(fields["genre"]),
        director=tuple(fields["director"]),
        actors=tuple(Actor(actor_id, name) for actor_id, name in fields["actors"]),
        writers=tuple(Writer(writer_id, name) for writer_id, name in fields["writers"]),
    )


def summary_from_card(card: bytes) -> VideoSummary:
    fields = orjson.loads(card)
    return VideoSummary(fields["id"], fields["title"], fields["imdb_rating"])


def stored_card(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> bytes:
    """The card stored with the movie at `address`."""
    card = searcher.doc(address).get_first(CARD)
    if not isinstance(card, bytes):
        raise Unavailable(f"the catalogue index holds a movie without its card at {address}")
    return card
