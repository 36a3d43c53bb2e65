"""The movie index on OpenSearch (or Elasticsearch 8/9): analysis, mappings, and Movie ⇄ document.

Analysis is assembled from `search_svc.domain.analysis`, the one definition both engines configure from, so the
tokens here are the tokens tantivy makes. Only built-in components are used (pattern tokenizer, mapping char
filter, lowercase, stop, snowball, edge_ngram, keyword normalizer): no plugin, nothing OpenSearch-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search_svc.domain.analysis import SEPARATOR_PATTERN, STEMMERS, STOPWORDS
from search_svc.domain.completeness import record_weight
from search_svc.domain.lemmas import lemma_text
from search_svc.domain.movie import Actor, Movie, Writer

# The full chain: fold, drop stop words, stem. Every searchable text field uses it.
MAIN_ANALYZER = "movie_text"
# Fold only: what a stop-word-only query and the last, half-typed word of a suggestion are matched with.
EXACT_ANALYZER = "movie_exact"
_PREFIX_ANALYZER = "movie_prefix"
# The main chain without stemming: a typo can hide a word from its stemmer ("strkes" stays whole while "strikes"
# becomes "strike", two edits apart), so typos in titles and names are also looked for among words as written.
UNSTEMMED_ANALYZER = "movie_unstemmed"
UNSTEMMED = "unstemmed"
_SORT_NORMALIZER = "movie_sort"

# Subfields of `title`, named once for the queries.
TITLE_EXACT = "title.exact"
TITLE_PREFIX = "title.prefix"
TITLE_SORT = "title.sort"
TITLE_WORDS = "title.words"
GENRE_TEXT = "genre.text"
# Dictionary lemmas of the title's and the description's Russian words (`domain.lemmas`), computed by the loader and
# analysed by the unstemmed chain only: the same terms tantivy indexes.
TITLE_LEMMAS = "title_lemmas"
DESCRIPTION_LEMMAS = "description_lemmas"
# How fully the catalogue describes the movie (`domain.completeness`), weighing a search where every word matched.
RECORD_WEIGHT = "record_weight"

# Long enough for any real word; a longer typed prefix simply stops narrowing.
MAX_PREFIX = 20

_YO_FOLDING: dict[str, Any] = {"type": "mapping", "mappings": ["ё => е", "Ё => Е"]}
_WORDS: dict[str, Any] = {"type": "pattern", "pattern": SEPARATOR_PATTERN}
# `snowball` rather than `stemmer`: the `stemmer` filter's "english" is the original Porter algorithm, while
# tantivy runs Snowball English (Porter2); `snowball` runs exactly the Snowball algorithms for both languages.
_STEMMER_FILTERS: dict[str, dict[str, Any]] = {
    f"movie_stem_{language}": {"type": "snowball", "language": language.capitalize()} for language in STEMMERS
}
_STOP: dict[str, Any] = {"type": "stop", "stopwords": list(STOPWORDS)}


def main_analysis_chain() -> dict[str, Any]:
    """The main analyzer spelled inline, as `_analyze` accepts it without an index."""
    return {
        "char_filter": [_YO_FOLDING],
        "tokenizer": _WORDS,
        "filter": ["lowercase", _STOP, *_STEMMER_FILTERS.values()],
    }


def lemma_analysis_chain() -> dict[str, Any]:
    """The lemma fields' analyzer spelled inline, as `_analyze` accepts it without an index."""
    return {"char_filter": [_YO_FOLDING], "tokenizer": _WORDS, "filter": ["lowercase", _STOP]}


def index_settings(*, replicas: int, refresh_interval: str | None) -> dict[str, Any]:
    return {
        # One shard: a catalogue is small, and one shard keeps scores (IDF) and facet counts exact.
        "number_of_shards": 1,
        "number_of_replicas": replicas,
        "refresh_interval": refresh_interval,
        "analysis": {
            "char_filter": {"movie_yo": _YO_FOLDING},
            "tokenizer": {"movie_words": _WORDS},
            "filter": {
                "movie_stop": _STOP,
                **_STEMMER_FILTERS,
                "movie_edge": {"type": "edge_ngram", "min_gram": 1, "max_gram": MAX_PREFIX},
            },
            "analyzer": {
                MAIN_ANALYZER: _custom("lowercase", "movie_stop", *_STEMMER_FILTERS),
                EXACT_ANALYZER: _custom("lowercase"),
                UNSTEMMED_ANALYZER: _custom("lowercase", "movie_stop"),
                _PREFIX_ANALYZER: _custom("lowercase", "movie_edge"),
            },
            "normalizer": {
                _SORT_NORMALIZER: {"type": "custom", "char_filter": ["movie_yo"], "filter": ["lowercase"]},
            },
        },
    }


def _custom(*filters: str) -> dict[str, Any]:
    return {"type": "custom", "char_filter": ["movie_yo"], "tokenizer": "movie_words", "filter": list(filters)}


_TEXT: dict[str, Any] = {"type": "text", "analyzer": MAIN_ANALYZER}
_UNSTEMMED_TEXT: dict[str, Any] = {"type": "text", "analyzer": UNSTEMMED_ANALYZER}
# Every name a search matches, in one field as on tantivy: a typo-tolerant word costs a fuzzy automaton per field
# searched, and building them was most of a search's time when each kind of person had a field of its own.
PEOPLE = "people"
# Names score without length norms: a film crediting twenty people is no less about each of them than one crediting
# two, and with norms the best-documented films (director, full cast, writers) ranked below stubs naming the same
# actor. A name then scores its rarity alone, as on tantivy (`tantivy_queries.NORM_FREE`).
_NAME_TEXT: dict[str, Any] = {**_TEXT, "norms": False}
_NAMES: dict[str, Any] = {**_NAME_TEXT, "copy_to": PEOPLE}


def mappings() -> dict[str, Any]:
    return {
        # A document that does not fit the mapping is a bug in the loader: refuse it instead of guessing a type.
        "dynamic": "strict",
        # Derived text, searched only: a card is read back without it.
        "_source": {"excludes": [TITLE_LEMMAS, DESCRIPTION_LEMMAS, RECORD_WEIGHT]},
        "properties": {
            "id": {"type": "keyword"},
            "title": {
                **_TEXT,
                "fields": {
                    "exact": {"type": "text", "analyzer": EXACT_ANALYZER},
                    UNSTEMMED: _UNSTEMMED_TEXT,
                    "prefix": {"type": "text", "analyzer": _PREFIX_ANALYZER, "search_analyzer": EXACT_ANALYZER},
                    "sort": {"type": "keyword", "normalizer": _SORT_NORMALIZER},
                    # Lets a stop-word query ask for titles made of its words and nothing more.
                    "words": {"type": "token_count", "analyzer": EXACT_ANALYZER},
                },
            },
            "description": _TEXT,
            TITLE_LEMMAS: _UNSTEMMED_TEXT,
            DESCRIPTION_LEMMAS: _UNSTEMMED_TEXT,
            "imdb_rating": {"type": "float"},
            RECORD_WEIGHT: {"type": "float"},
            "genre": {"type": "keyword", "fields": {"text": _TEXT}},
            "director": _NAMES,
            "actors_names": _NAMES,
            "writers_names": _NAMES,
            PEOPLE: {**_NAME_TEXT, "fields": {UNSTEMMED: {**_UNSTEMMED_TEXT, "norms": False}}},
            "actors": {"type": "nested", "properties": {"id": {"type": "long"}, "name": _TEXT}},
            "writers": {"type": "nested", "properties": {"id": {"type": "keyword"}, "name": _TEXT}},
        },
    }


def to_document(movie: Movie) -> dict[str, Any]:
    return {
        "id": movie.id,
        "title": movie.title,
        "description": movie.description,
        TITLE_LEMMAS: lemma_text(movie.title),
        DESCRIPTION_LEMMAS: lemma_text(movie.description),
        "imdb_rating": movie.imdb_rating,
        RECORD_WEIGHT: record_weight(movie),
        "genre": list(movie.genre),
        "director": list(movie.director),
        "actors_names": list(movie.actors_names),
        "writers_names": list(movie.writers_names),
        "actors": [{"id": actor.id, "name": actor.name} for actor in movie.actors],
        "writers": [{"id": writer.id, "name": writer.name} for writer in movie.writers],
    }


def to_movie(source: Mapping[str, Any]) -> Movie:
    rating = source.get("imdb_rating")
    return Movie(
        id=source["id"],
        title=source["title"],
        description=source.get("description") or "",
        imdb_rating=None if rating is None else float(rating),
        genre=tuple(source.get("genre") or ()),
        director=tuple(source.get("director") or ()),
        actors=tuple(Actor(int(a["id"]), a["name"]) for a in source.get("actors") or ()),
        writers=tuple(Writer(str(w["id"]), w["name"]) for w in source.get("writers") or ()),
    )
