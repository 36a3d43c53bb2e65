"""The OpenSearch request bodies for the SearchIndex port: pure functions of a query, no engine needed.

Text is matched word by word: each word of the query must match some field (a `dis_max` over the fields, title
boosted highest, description lowest), with the analyzer's stems, and fuzzily. Multi-field queries that span fields
natively (`cross_fields`, `combined_fields`) allow no fuzziness, hence the per-word clauses built here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from search_svc.adapters.opensearch_mapping import (
    DESCRIPTION_LEMMAS,
    GENRE_TEXT,
    MAX_PREFIX,
    PEOPLE,
    RECORD_WEIGHT,
    TITLE_EXACT,
    TITLE_LEMMAS,
    TITLE_PREFIX,
    TITLE_SORT,
    TITLE_WORDS,
    UNSTEMMED,
)
from search_svc.domain.analysis import STOPWORDS, fold
from search_svc.domain.lemmas import word_lemmas
from search_svc.domain.text import fold_yo, layout_variants, transliterated, transliteration
from search_svc.domain.video_query import MAX_RESULT_WINDOW, SortField, SuggestQuery, VideoQuery

# analysis.TOKEN_PATTERN in Python's dialect: `re` has no \p{..}, and [^\W_] is exactly str.isalnum(), i.e. the
# letters (L*) and numbers (N*) of Unicode. The engine cuts the same words, so each one here is one term there.
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(STOPWORDS)

# Where a query word may match, and how much a match there counts.
_FIELD_BOOSTS: tuple[tuple[str, float], ...] = (
    ("title", 4.0),
    (PEOPLE, 1.0),
    (GENRE_TEXT, 1.0),
    ("description", 0.5),
)
# A name as typed also scores in the field of its kind of person, whose statistics (a short field of few names)
# rank a person's films better than the shared field's; a term query costs next to nothing beside a fuzzy one.
_NAME_FIELDS: tuple[tuple[str, float], ...] = (("director", 1.5), ("actors_names", 1.5), ("writers_names", 1.2))
# A word matching several fields counts a little more than one matching a single field.
_TIE_BREAKER = 0.1
_UNSTEMMED_FIELDS = frozenset({"title", PEOPLE})
_UNSTEMMED_SHARE = 0.5
# Typos are looked for in the title, stemmed and as written (below), and in names as written (below): each fuzzy
# clause builds typo automata of its own, most of a search's cost (for a word of 8 letters or more, two edits, about
# a millisecond each, however few terms the field holds). Genres (a few words), plots (the weakest field) and names
# stemmed (a name is not inflected, and its typos are matched as written) go without: on the judged queries that
# moved relevance up a little, not down.
_STEMMED_TYPO_FIELDS = frozenset({"title"})
_FUZZY: dict[str, Any] = {"fuzziness": "AUTO:4,8", "prefix_length": 1}
# A name this short (Tim, Jon, Сэм) allows one typo in the people field, when other words come with it.
SHORT_NAME = 3
_SHORT_NAME_TYPO: dict[str, Any] = {"fuzziness": 1, "prefix_length": 1, "boost": _UNSTEMMED_SHARE}
_LEMMA_FIELDS: tuple[tuple[str, float], ...] = ((TITLE_LEMMAS, 4.0), (DESCRIPTION_LEMMAS, 0.5))
# In the fallback, each word matched adds this to a movie's score: far above any text score, so movies matching
# more words come first, and text scores order the movies matching as many.
WORD_MATCHED = 1000.0
# The query as typed in the other keyboard layout counts less than the query as typed.
_OTHER_LAYOUT_BOOST = 0.5
# A text (or in the fallback a word) matched only as spelled in the other alphabet counts less than as typed.
_TRANSLITERATION_BOOST = 0.5
# The whole query found as a phrase in the title puts that title first.
_PHRASE_BOOST = 2.0
# Far more than a catalogue has genres: every genre gets its count.
_MAX_GENRES = 1000
SUMMARY_FIELDS = ["id", "title", "imdb_rating"]
# What `opensearch_mapping.to_movie` reads: a card as `get` returns it.
CARD_FIELDS = ["id", "title", "description", "imdb_rating", "genre", "director", "actors", "writers"]
# The aggregation holding a search's first movie, whole.
FIRST_CARD = "first_card"
# OpenSearch's index.max_inner_result_window: a top_hits aggregation reaches no deeper.
MAX_INNER_WINDOW = 100
# The aggregation counting the movies of the chosen genres: the total when a genre filter is set.
CHOSEN = "chosen_genres"
_ID_ASC: dict[str, Any] = {"id": "asc"}


def words(text: str) -> list[str]:
    return _WORD.findall(fold_yo(text))


def is_stopword(word: str) -> bool:
    return fold(word) in _STOPWORDS


def text_query(text: str, *, partial: bool = False, weighed: bool = True) -> dict[str, Any] | None:
    """Every word matches some field; the other keyboard layout's reading is an alternative. None: no words.

    `partial`: the fallback when that finds nothing. Any word may match; a movie matching more words ranks above
    one matching fewer, then by score, where rarer words and title words weigh more, and the record's completeness
    unless `weighed` is False (a page sorted by a field, where scores order nothing). The other layout's reading
    then allows typos too.
    """
    readings = []
    for rank, reading in enumerate(layout_variants(text)):
        # Text typed on the wrong layout is first taken as typed right: typos on top of it would cost as much
        # again (fuzzy matching is most of a search's time) for what the fallback finds anyway.
        boost = 1.0 if rank == 0 else _OTHER_LAYOUT_BOOST
        clause = _reading_query(
            words(reading),
            typos=rank == 0 or partial,
            partial=partial,
            transliterated=partial and rank == 0,
            boost=boost,
            weighed=weighed,
        )
        if clause is not None:
            # The fallback's reading weighs its boost itself: its words count the same in either reading.
            readings.append(clause if partial else _boosted(clause, boost))
    across = transliterated(text) if not partial else None
    # One more reading, as typed: the text spelled in the other alphabet (the same film in the other language's
    # catalogue: «Сталкер» finds "Stalker"). In the fallback each word is carried across instead.
    carried = _reading_query(words(across), typos=False) if across else None
    if carried is not None:
        readings.append(_boosted(carried, _TRANSLITERATION_BOOST))
    if not readings:
        return None
    return readings[0] if len(readings) == 1 else {"dis_max": {"queries": readings}}


def _reading_query(
    tokens: Sequence[str],
    *,
    typos: bool = True,
    partial: bool = False,
    transliterated: bool = False,
    boost: float = 1.0,
    weighed: bool = True,
) -> dict[str, Any] | None:
    if not tokens:
        return None
    phrase = " ".join(tokens)
    content = [token for token in tokens if not is_stopword(token)]
    if not content:
        # Stop words only ("It", «Это», "The The"): the analyzer drops them all, so match titles made of exactly
        # these words, on the subfield that keeps them.
        return {
            "bool": {
                "must": [{"match_phrase": {TITLE_EXACT: phrase}}, {"term": {TITLE_WORDS: len(tokens)}}],
            }
        }
    # A short name may be one edit off only beside other words, which must match too (all of them, before the
    # fallback): alone, three letters one edit away would match half the catalogue's names.
    short_names = typos and len(content) > 1
    clauses = [_word_anywhere(word, typos=typos, short_names=short_names) for word in content]
    title_phrase = {"match_phrase": {TITLE_EXACT: {"query": phrase, "boost": _PHRASE_BOOST}}}
    if transliterated:
        clauses = [_or_carried_across(clause, word) for clause, word in zip(clauses, content, strict=True)]
    if partial:
        # A word counts the same in either reading: only its score weighs the reading's boost, and the record's
        # completeness, which orders movies matching as many words (`domain.completeness`).
        scored = _weighed_by_record if weighed else _unweighed
        counted = [
            {
                "bool": {
                    "should": [
                        {"constant_score": {"filter": c, "boost": WORD_MATCHED}},
                        scored(_boosted(c, boost)),
                    ]
                }
            }
            for c in clauses
        ]
        scored_phrase = scored(_boosted(title_phrase, boost))
        return {"bool": {"should": [*counted, scored_phrase], "minimum_should_match": 1}}
    return {"bool": {"must": clauses, "should": [title_phrase]}}


def _or_carried_across(clause: dict[str, Any], word: str) -> dict[str, Any]:
    """`clause`, or the word spelled in the other alphabet ("lucas" as «лукас»), typos allowed, at a lower boost:
    a mixed query names a film half in one language, half in the other, and its movies hold one alphabet each."""
    across = transliteration(word)
    if not across or is_stopword(across):
        return clause
    carried = _boosted(_word_anywhere(across), _TRANSLITERATION_BOOST)
    return {"dis_max": {"queries": [clause, carried]}}


def _word_anywhere(word: str, *, typos: bool = True, short_names: bool = False) -> dict[str, Any]:
    queries = [
        _match(field, word, boost, typos=typos and field in _STEMMED_TYPO_FIELDS) for field, boost in _FIELD_BOOSTS
    ]
    queries += [{"match": {field: {"query": word, "boost": boost}}} for field, boost in _NAME_FIELDS]
    lemmas = word_lemmas(word)
    if lemmas:
        # Any of the word's dictionary lemmas, as the loader wrote them (`domain.lemmas`).
        queries += [{"match": {field: {"query": " ".join(lemmas), "boost": boost}}} for field, boost in _LEMMA_FIELDS]
    if not typos:
        return {"dis_max": {"queries": queries, "tie_breaker": _TIE_BREAKER}}
    # The same word unstemmed, for typos the stemmer cannot see through; below the stemmed match it backs up.
    queries += [
        {"match": {f"{field}.{UNSTEMMED}": {"query": word, "boost": boost * _UNSTEMMED_SHARE, **_FUZZY}}}
        for field, boost in _FIELD_BOOSTS
        if field in _UNSTEMMED_FIELDS
    ]
    if short_names and len(word) == SHORT_NAME:
        queries.append({"match": {f"{PEOPLE}.{UNSTEMMED}": {"query": word, **_SHORT_NAME_TYPO}}})
    return {"dis_max": {"queries": queries, "tie_breaker": _TIE_BREAKER}}


def _match(field: str, word: str, boost: float, *, typos: bool) -> dict[str, Any]:
    return {"match": {field: {"query": word, "boost": boost, **(_FUZZY if typos else {})}}}


def _boosted(clause: dict[str, Any], boost: float) -> dict[str, Any]:
    if boost == 1.0:
        return clause
    return {"bool": {"must": [clause], "boost": boost}}


def msearch_lines(query: VideoQuery, *, partial: bool = False) -> list[dict[str, Any]]:
    """One `_msearch`: the page, what the page is counted by (total and genre facets) and, for a search, the first
    movie's card (`FIRST_CARD`), which says how the search was understood (`domain.search_repair`).

    A search is one request. Most of its cost is the query's rewrite (building the typo automata of each fuzzy
    clause), paid by every request that carries the query, before the shard request cache is even looked at: the
    counts in a request of their own paid it twice. A listing without text costs nothing to rewrite, and its
    counts are the costly part (every movie visited: ~40 ms for the catalogue's own genre counts over 1M movies)
    and the same for every caller: they go in a size-0 request of their own that the shard request cache keeps
    until the index version changes, which a published version never does.
    """
    page, counts = search_bodies(query, partial=partial)
    if counts is None:
        return [{}, page]
    return [{}, page, {"request_cache": True}, counts]


def search_bodies(query: VideoQuery, *, partial: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The page, and the request counting it when that is a request of its own (None: the page counts itself)."""
    # Text without a single word (punctuation only) asks for nothing: listed as if there were no text.
    matched = text_query(query.text, partial=partial, weighed=query.sort is None) if query.text else None
    filters: list[dict[str, Any]] = []
    if query.min_rating is not None or query.max_rating is not None:
        bounds = {"gte": query.min_rating, "lte": query.max_rating}
        # A missing rating never falls in a range: unrated movies drop out by themselves.
        filters.append({"range": {"imdb_rating": {k: v for k, v in bounds.items() if v is not None}}})
    found = {"bool": {"must": [matched or {"match_all": {}}], "filter": filters}}
    # The window is validated upstream; clamped again so a hand-built query cannot make the engine refuse.
    start = min(query.offset, MAX_RESULT_WINDOW)
    sort = _sort(query, relevance=matched is not None)
    page: dict[str, Any] = {
        # Weighed where relevance orders the page (`domain.completeness`); the fallback weighs its text scores itself.
        "query": _weighed_by_record(found) if matched is not None and query.sort is None and not partial else found,
        "sort": sort,
        "from": start,
        "size": max(0, min(query.limit, MAX_RESULT_WINDOW - start)),
        "track_total_hits": False,
        "_source": SUMMARY_FIELDS,
    }
    # Genres are counted before the genre filter, which applies to the items and the total only.
    aggregations: dict[str, Any] = {
        "genres": {"terms": {"field": "genre", "size": _MAX_GENRES, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    }
    chosen = {"terms": {"genre": list(query.genres)}} if query.genres else None
    if chosen is not None:
        page["post_filter"] = chosen
        aggregations[CHOSEN] = {"filter": chosen}
    if matched is None:
        return page, {"query": found, "size": 0, "track_total_hits": True, "aggs": aggregations}
    # The total counts the items' matches: those of the chosen genres when a genre filter is set.
    page["track_total_hits"] = True
    if start < MAX_INNER_WINDOW:
        # The page's first movie, whole: the same query, order and offset, after the same genre filter.
        first = {"top_hits": {"from": start, "size": 1, "sort": sort, "_source": CARD_FIELDS}}
        if chosen is not None:
            aggregations[CHOSEN]["aggs"] = {FIRST_CARD: first}
        else:
            aggregations[FIRST_CARD] = first
    page["aggs"] = aggregations
    return page, None


def _sort(query: VideoQuery, *, relevance: bool) -> list[dict[str, Any]]:
    order = query.order.value
    if query.sort is SortField.TITLE:
        return [{TITLE_SORT: order}, _ID_ASC]
    if query.sort is SortField.IMDB_RATING:
        return [{"imdb_rating": {"order": order, "missing": "_last"}}, _ID_ASC]
    if query.sort is None and relevance:
        return [{"_score": "desc"}, _ID_ASC]
    return [{"id": order}]


def suggest_body(query: SuggestQuery) -> dict[str, Any]:
    readings = []
    for rank, reading in enumerate(layout_variants(query.text)):
        clause = _completion_query(words(reading))
        if clause is not None:
            readings.append(_boosted(clause, 1.0 if rank == 0 else _OTHER_LAYOUT_BOOST))
    return {
        "query": {"dis_max": {"queries": readings}} if readings else {"match_none": {}},
        "sort": [{"_score": "desc"}, {"imdb_rating": {"order": "desc", "missing": "_last"}}, _ID_ASC],
        "size": query.limit,
        "_source": SUMMARY_FIELDS,
    }


def _weighed_by_record(query: dict[str, Any]) -> dict[str, Any]:
    """`query`, its scores multiplied by log2(2 + record_weight) as tantivy's `weight_by_field` does
    (`domain.completeness`): ln(2 + w) from `ln2p`, times 1/ln 2."""
    factor = {
        "field_value_factor": {"field": RECORD_WEIGHT, "modifier": "ln2p", "missing": 0},
        "weight": 1 / math.log(2),
    }
    return {"function_score": {"query": query, "functions": [factor], "boost_mode": "multiply"}}


def _unweighed(query: dict[str, Any]) -> dict[str, Any]:
    return query


def _completion_query(tokens: Sequence[str]) -> dict[str, Any] | None:
    """Titles holding every finished word (fuzzily, stems allowed) and a word starting with the last one."""
    if not tokens:
        return None
    *finished, last = tokens
    must: list[dict[str, Any]] = [
        {"match": {"title": {"query": word, **_FUZZY}}} for word in finished if not is_stopword(word)
    ]
    must.append(
        {
            "dis_max": {
                "queries": [
                    # Cut to the longest prefix indexed, so a long word still completes.
                    {"match": {TITLE_PREFIX: {"query": last[:MAX_PREFIX], "boost": 2.0}}},
                    # The last word may be whole already, typo and all.
                    {"match": {"title": {"query": last, **_FUZZY}}},
                ]
            }
        }
    )
    typed = " ".join(tokens).lower()
    should: list[dict[str, Any]] = [
        # Stop words the user typed are not required, but titles holding them fit better.
        *({"match": {TITLE_EXACT: word}} for word in finished if is_stopword(word)),
        # A title starting with what was typed is the likeliest completion (punctuation aside, which `words` drops).
        {"prefix": {TITLE_SORT: {"value": typed, "boost": 3.0}}},
    ]
    return {"bool": {"must": must, "should": should}}
