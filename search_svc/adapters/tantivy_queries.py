"""Text on tantivy as a query: typos, both keyboard layouts, stop-word titles and title completion.

Text, per reading of the query (as typed, then in the other keyboard layout at a lower boost and without typos):
each analysed word must match; it scores its best field (title over people over genre over description, BM25), and
the whole text found as a phrase in the title scores more.
In titles (unless more than two movies' titles hold the word as typed) and in names, a term one typo away (two from
8 letters, first letter kept; in titles the stem or the word as written, in names the word as written) counts at a
share of that field's weight, by the rarity of what it reaches (and in titles by the title's length, as BM25 weighs
a word typed right). A reading made only of stop words must find them all among the title's words. Suggestions match
titles only: finished words as in search, the last one as the start of a title word (or the whole of one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import tantivy

from search_svc.adapters import tantivy_schema as schema
from search_svc.adapters.tantivy_searcher_cache import SearcherCache
from search_svc.domain.edits import edits
from search_svc.domain.text import fold_yo, layout_variants, transliterated, transliteration
from search_svc.domain.video_query import VideoQuery

# OpenSearch's field boosts (opensearch_queries), times 5/4: the engines weigh a title against a name, a genre and a
# plot alike. With names at 3 (a director's at 4.5) a credit weighed nearly as much as a title, and the engines
# answered mixed searches differently ("terminator кэмерон": Cameron's other films above "Terminator 2").
FIELD_BOOSTS = {schema.TITLE: 5.0, schema.PEOPLE: 1.25, schema.GENRE_TEXT: 1.25, schema.DESCRIPTION: 0.625}
# A typo match scores this share of its field's boost (in a title, of one of average length: `_typo_by_length`).
TYPO_SHARE = 0.5
# What a typo match in a title weighs, as a share of the above, in a movie it reached through none of the terms it
# was scored by.
UNREACHED_TYPO_SHARE = 0.5
# A word found in several fields counts a little more than in its best one alone.
TIE_BREAKER = 0.1
OTHER_LAYOUT_BOOST = 0.5
# The whole text found as a phrase in the title adds its score at half the title's weight (as opensearch_queries'
# phrase, boosted 2 beside the title's 4).
TITLE_PHRASE_BOOST = FIELD_BOOSTS[schema.TITLE] / 2
# A word (or text) matched only as spelled in the other alphabet counts less than one matched as typed.
TRANSLITERATION_BOOST = 0.5
# Query words of these lengths (after analysis) allow one typo, and two from the second length on.
ONE_TYPO, TWO_TYPOS = 4, 8
# A name this short (Tim, Jon, Сэм) allows one typo in the people field, when other words come with it.
SHORT_NAME = 3
# Typos are looked for where OpenSearch looks for them (opensearch_queries): in titles, and in names as written. A
# slip matching a word of some plot or genre found films by chance ("2049" reached a plot's "2019"), and a name's stem
# is shared by other names ("wiliams" is one edit from "william", the stem of William and of Williams).
TYPO_FIELDS = (schema.TITLE, schema.PEOPLE)
UNSTEMMED_TYPOS_ONLY = frozenset({schema.PEOPLE})
# Names are looked for beside every word, as OpenSearch does: a credit or three holding "Dana" does not make "dana
# corwin" mean anyone but Dane Corwin. A title word held as typed by more than RARE_AS_TYPED movies is taken as meant:
# its neighbours among titles add up to much of the index and are scored on every search holding the word (with them,
# a search for a common word of 100 000 synthetic titles cost half as much CPU again), and on the judged queries they
# changed no figure.
RARE_AS_TYPED = 2
TYPOS_BESIDE_TYPED = frozenset({schema.PEOPLE})
LEMMA_BOOSTS = {
    schema.TITLE_LEMMAS: FIELD_BOOSTS[schema.TITLE],
    schema.DESCRIPTION_LEMMAS: FIELD_BOOSTS[schema.DESCRIPTION],
}
# Names score their rarity alone, without BM25's length norm: a film crediting twenty people is no less about each
# of them than one crediting two, and with the norm the best-documented films (director, full cast, writers) ranked
# below stubs naming the same actor. OpenSearch's name fields are mapped without norms for the same reason.
NORM_FREE = frozenset({schema.PEOPLE, *schema.ROLE_FIELDS})
# A name as typed scores in the field of its part too, at these shares of the people field's boost (as
# opensearch_queries' name fields).
ROLE_SHARES = {schema.DIRECTOR: 1.5, schema.ACTORS: 1.5, schema.WRITERS: 1.2}
# A typo's rarity by searcher and typed word (`_rarity`), at most this many kept.
MAX_RARITIES = 4096
TypoKey = tuple[str, str, str, bool]
_RARITIES: SearcherCache[TypoKey, float] = SearcherCache(MAX_RARITIES)
# Query words' queries by searcher, term, word as typed, typos allowed, short names allowed (`_word`), at most this
# many kept. Building one is some twenty term queries and a few fuzzy ones: most of a short query's own cost.
MAX_WORDS = 4096
_WORDS: SearcherCache[tuple[str, str, bool, bool], tantivy.Query] = SearcherCache(MAX_WORDS)
# In the fallback, each word matched adds this to a movie's score: far above any text score, so movies matching
# more words come first, and text scores order the movies matching as many.
WORD_MATCHED = 1000.0


def text_query(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    """Movies matching every word of some reading of `text`; None when no reading has a word.

    Besides the other keyboard layout's, one more reading: the text spelled in the other alphabet, as typed (the
    same film in the other language's catalogue: «Сталкер» finds "Stalker"), at a lower boost still."""
    readings = _any_reading(searcher, text, _reading, _exact_reading)
    across = transliterated(text)
    carried = _exact_reading(searcher, fold_yo(across)) if across else None
    if carried is None:
        return readings
    carried = tantivy.Query.boost_query(carried, TRANSLITERATION_BOOST)
    if readings is None:
        return carried
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, readings), (tantivy.Occur.Should, carried)])


def partial_query(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    """The fallback when `text_query` finds nothing: any word may match; a movie matching more words ranks above
    one matching fewer, then by score, where rarer words and title words weigh more. Both readings allow typos;
    a word as typed may also match spelled in the other alphabet (`domain.text.transliteration`)."""
    return _any_reading(searcher, text, _partial_reading, _partial_other_reading, boost_other=False)


def completion_query(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    """Titles holding the typed words, the last one possibly unfinished."""
    return _any_reading(searcher, text, _completion)


Build = Callable[[tantivy.Searcher, str], tantivy.Query | None]


def _any_reading(
    searcher: tantivy.Searcher, text: str, build: Build, build_other: Build | None = None, *, boost_other: bool = True
) -> tantivy.Query | None:
    """`build` for the text as typed, `build_other` (or `build`) for it in the other keyboard layout, boosted less
    unless `build_other` weighs its reading itself (`boost_other` False)."""
    readings = [
        (build if n == 0 else build_other or build)(searcher, fold_yo(reading))
        for n, reading in enumerate(layout_variants(text))
    ]
    choices = [
        (
            tantivy.Occur.Should,
            query if n == 0 or not boost_other else tantivy.Query.boost_query(query, OTHER_LAYOUT_BOOST),
        )
        for n, query in enumerate(readings)
        if query is not None
    ]
    if not choices:
        return None
    return choices[0][1] if len(choices) == 1 else tantivy.Query.boolean_query(choices)


def _reading(
    searcher: tantivy.Searcher,
    text: str,
    *,
    typos: bool = True,
    partial: bool = False,
    transliterated: bool = False,
    boost: float = 1.0,
) -> tantivy.Query | None:
    words_by_term: dict[str, str] = {}
    for term, word in schema.query_words(text):
        words_by_term.setdefault(term, word)
    if words_by_term:
        # A short name may be one edit off only beside other words, which must match too (all of them, before
        # the fallback): alone, three letters one edit away would match half the catalogue's names.
        short_names = typos and len(words_by_term) > 1
        clauses = [
            _word(searcher, term, word, typos=typos, short_names=short_names) for term, word in words_by_term.items()
        ]
        if not partial:
            return _with_title_phrase(_every(clauses), text)
        if transliterated:
            clauses = [
                _or_carried_across(searcher, clause, word)
                for clause, word in zip(clauses, words_by_term.values(), strict=True)
            ]
        counted = [
            tantivy.Query.boolean_query(
                [
                    # A word counts the same in either reading: only its score weighs the reading's boost.
                    (tantivy.Occur.Should, tantivy.Query.const_score_query(clause, WORD_MATCHED)),
                    (tantivy.Occur.Should, clause if boost == 1.0 else tantivy.Query.boost_query(clause, boost)),
                ]
            )
            for clause in clauses
        ]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, clause) for clause in counted])
    # Only stop words: the title must hold them all, verbatim.
    words = dict.fromkeys(schema.plain_words(text))
    if not words:
        return None
    return _every(term_query(schema.TITLE_PLAIN, word) for word in words)


def _with_title_phrase(query: tantivy.Query, text: str) -> tantivy.Query:
    """`query`, scoring more where the title holds the whole text as a phrase, stop words and all (as OpenSearch's
    `match_phrase` on the title's exact subfield does)."""
    words = schema.plain_words(text)
    if len(words) < 2:  # a phrase of one word is that word, scored already
        return query
    phrase = tantivy.Query.boost_query(
        tantivy.Query.phrase_query(schema.schema(), schema.TITLE_PLAIN, list(words)), TITLE_PHRASE_BOOST
    )
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Should, phrase)])


def _partial_reading(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    return _reading(searcher, text, partial=True, transliterated=True)


def _partial_other_reading(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    return _reading(searcher, text, partial=True, boost=OTHER_LAYOUT_BOOST)


def _or_carried_across(searcher: tantivy.Searcher, clause: tantivy.Query, word: str) -> tantivy.Query:
    """`clause`, or the word spelled in the other alphabet ("lucas" as «лукас»), typos allowed, at a lower boost:
    a mixed query names a film half in one language, half in the other, and its movies hold one alphabet each."""
    across = transliteration(word)
    terms = schema.query_words(across) if across else []
    if not terms:
        return clause
    term, spelled = terms[0]
    carried = tantivy.Query.boost_query(_word(searcher, term, spelled), TRANSLITERATION_BOOST)
    return tantivy.Query.disjunction_max_query([clause, carried])


def _exact_reading(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    # Text typed on the wrong layout is taken as typed right, as on OpenSearch, where typos on top of it would
    # cost as much again.
    return _reading(searcher, text, typos=False)


def _word(
    searcher: tantivy.Searcher, term: str, word: str, *, typos: bool = True, short_names: bool = False
) -> tantivy.Query:
    """What one query word matches, kept per searcher: the same words come again and again, a published version
    never changes, and a tantivy query is immutable, so one built before serves any later search."""
    key = (term, word, typos, short_names)
    query = _WORDS.get(searcher, key)
    if query is None:
        query = _built_word(searcher, term, word, typos=typos, short_names=short_names)
        _WORDS.put(searcher, key, query)
    return query


def _built_word(searcher: tantivy.Searcher, term: str, word: str, *, typos: bool, short_names: bool) -> tantivy.Query:
    options = [_scored_term(searcher, name, term, boost) for name, boost in FIELD_BOOSTS.items()]
    options += [
        _scored_term(searcher, name, term, FIELD_BOOSTS[schema.PEOPLE] * share) for name, share in ROLE_SHARES.items()
    ]
    # Any of the word's dictionary lemmas, as the loader wrote them (`domain.lemmas`).
    options += [
        tantivy.Query.boost_query(term_query(name, lemma), boost)
        for lemma in schema.lemma_terms(word)
        for name, boost in LEMMA_BOOSTS.items()
    ]
    if not typos:
        return tantivy.Query.disjunction_max_query(options, tie_breaker=TIE_BREAKER)
    for name in TYPO_FIELDS:
        forms = _typo_forms(name, term, word, short=short_names and name == schema.PEOPLE)
        typo = _typo(searcher, name, term, forms)
        if typo is None:
            continue
        weight = FIELD_BOOSTS[name] * TYPO_SHARE * _rarity(searcher, typo, (name, term, word, short_names))
        options.append(
            tantivy.Query.const_score_query(typo, weight)
            if name in NORM_FREE
            else _typo_by_length(searcher, name, typo, forms, weight)
        )
    return tantivy.Query.disjunction_max_query(options, tie_breaker=TIE_BREAKER)


def _typo_by_length(
    searcher: tantivy.Searcher, name: str, typo: tantivy.Query, forms: list[str], weight: float
) -> tantivy.Query:
    """A typo match in a field with length norms, weighing `weight` in a field of average length, more in a shorter
    one and less in a longer one, as BM25 weighs a word matched as typed (and Lucene a fuzzy match's terms).

    Tantivy scores a fuzzy match flat, so "Тирминатер" weighed the same in «Терминатор» and in «Терминатор 2: Судный
    день», and an id decided. The terms the typo reaches are looked up among those of the movies it matched (their
    first letter is the typed word's) and each is scored by BM25, scaled from its own rarity to the typo's. A movie
    the typo reached through none of them (a word as written whose stem is further off) keeps a flat share."""
    first = forms[0][0]
    reached = [
        found
        for found, _ in searcher.terms_with_prefix(name, first, filter_query=typo)
        if any(edits(found[1:], form[1:], _allowed_typos(form)) <= _allowed_typos(form) for form in forms)
    ]
    scored = [
        tantivy.Query.boost_query(term_query(name, found), weight / _idf(searcher, searcher.doc_freq(name, found)))
        for found in reached
    ]
    floor = tantivy.Query.const_score_query(typo, weight * UNREACHED_TYPO_SHARE)
    return tantivy.Query.disjunction_max_query([floor, *scored])


def _allowed_typos(form: str) -> int:
    return 1 if len(form) < TWO_TYPOS else 2


def _scored_term(searcher: tantivy.Searcher, name: str, term: str, boost: float) -> tantivy.Query:
    """The term in the field, scored by BM25 there, or in a NORM_FREE field by its BM25 weight alone (the same
    inverse document frequency, as Lucene computes it too), which is BM25 without the norm for a name given once."""
    if name not in NORM_FREE:
        return tantivy.Query.boost_query(term_query(name, term), boost)
    query = term_query(name, term)
    return tantivy.Query.const_score_query(query, boost * _idf(searcher, searcher.doc_freq(name, term)))


def _rarity(searcher: tantivy.Searcher, typo: tantivy.Query, key: TypoKey) -> float:
    """What a typo match weighs: the inverse document frequency of the movies it matches, its terms together.

    Tantivy scores a fuzzy match flat, so a typo in a rare word ("bron" for born, "rot" for Roth) weighed as little
    as one in a word every other title holds. Lucene, under OpenSearch, scores a fuzzy match's terms by BM25 with
    their document frequencies blended: this is that weight, without the norm."""
    # Counting the matches runs the fuzzy match once more, as costly as in the search itself: kept per searcher (one
    # published version, which never changes), since the same typo is typed again and again.
    cached = _RARITIES.get(searcher, key)
    if cached is not None:
        return cached
    # `count` is missing from tantivy's type stubs, present at run time.
    matched: int = searcher.search(typo, limit=1).count  # type: ignore[attr-defined]
    rarity = _idf(searcher, matched)
    _RARITIES.put(searcher, key, rarity)
    return rarity


def _idf(searcher: tantivy.Searcher, found: int) -> float:
    """BM25's inverse document frequency, as tantivy and Lucene compute it."""
    everything = searcher.num_docs
    return math.log(1 + (everything - found + 0.5) / (found + 0.5))


def _typo_forms(name: str, term: str, word: str | None = None, *, short: bool = False) -> list[str]:
    """The forms whose typos are looked for: `term`, and `word` (the same word unstemmed) in the fields that keep
    words unstemmed too; in UNSTEMMED_TYPOS_ONLY `word` alone. None shorter than a typo allows."""
    shortest = SHORT_NAME if short else ONE_TYPO
    forms = [] if name in UNSTEMMED_TYPOS_ONLY and word is not None else [term]
    if word is not None and (word != term or not forms) and name in schema.UNSTEMMED_TYPO_FIELDS:
        forms.append(word)
    # The stem may be shorter than the word ("hnks" → "hnk"): the word as written still gets its typo.
    return [form for form in forms if len(form) >= shortest]


def _typo(searcher: tantivy.Searcher, name: str, term: str, forms: list[str]) -> tantivy.Query | None:
    """Terms of the field one or two edits from one of `forms` (`_typo_forms`), the first letter kept (see
    tantivy_schema.FUZZY); None without forms, or outside TYPOS_BESIDE_TYPED when more than RARE_AS_TYPED movies
    hold `term` in the field.

    A common word's neighbours weigh little (`_rarity` counts the word's own movies among theirs), so near misses
    ("like" for "luke") barely move an order.
    """
    if not forms:
        return None
    if name not in TYPOS_BESIDE_TYPED and searcher.doc_freq(name, term) > RARE_AS_TYPED:
        return None
    queries = [
        tantivy.Query.fuzzy_term_query(
            schema.schema(),
            f"{schema.FUZZY}.{name}.{form[0]}",
            form[1:],
            distance=_allowed_typos(form),
            transposition_cost_one=True,
        )
        for form in forms
    ]
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in queries])


def _completion(searcher: tantivy.Searcher, text: str) -> tantivy.Query | None:
    words = schema.plain_words(text)
    if not words:
        return None
    *done, last = words
    # A finished stop word is skipped, as in search.
    clauses = [_title_word(searcher, term) for word in dict.fromkeys(done) for term in schema.analyze(word)]
    # The word being typed starts a title word, or is one (typo allowed). It is letters and digits only (the
    # analyser's tokens), so it needs no escaping in a regex.
    started = tantivy.Query.regex_query(schema.schema(), schema.TITLE_PLAIN, f"{last}.*")
    typed = [
        tantivy.Query.const_score_query(started, 1.0),
        *(_title_word(searcher, term) for term in schema.analyze(last)),
    ]
    clauses.append(tantivy.Query.disjunction_max_query(typed))
    query = _every(clauses)
    if len(words) == 1:
        return query
    # The words in the order typed rank above the same words scattered.
    phrase: list[str | tuple[int, str]] = list(words)
    in_order = tantivy.Query.phrase_prefix_query(schema.schema(), schema.TITLE_PLAIN, phrase)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Should, in_order)])


def _title_word(searcher: tantivy.Searcher, term: str) -> tantivy.Query:
    exact = term_query(schema.TITLE, term)
    typo = _typo(searcher, schema.TITLE, term, _typo_forms(schema.TITLE, term))
    if typo is None:
        return exact
    return tantivy.Query.disjunction_max_query([exact, tantivy.Query.const_score_query(typo, TYPO_SHARE)])


def rating_filter(query: VideoQuery) -> list[tantivy.Query]:
    if query.min_rating is None and query.max_rating is None:
        return []
    return [
        tantivy.Query.range_query(
            schema.schema(), schema.IMDB_RATING, tantivy.FieldType.Float, query.min_rating, query.max_rating
        )
    ]


def genre_filter(query: VideoQuery) -> list[tantivy.Query]:
    if not query.genres:
        return []
    return [tantivy.Query.term_set_query(schema.schema(), schema.GENRE, list(query.genres))]


def all_of(scored: tantivy.Query, *filters: tantivy.Query) -> tantivy.Query:
    if not filters:
        return scored
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, scored)]
        + [(tantivy.Occur.Must, tantivy.Query.const_score_query(part, 0.0)) for part in filters]
    )


def _every(clauses: Iterable[tantivy.Query]) -> tantivy.Query:
    musts = [(tantivy.Occur.Must, clause) for clause in clauses]
    return musts[0][1] if len(musts) == 1 else tantivy.Query.boolean_query(musts)


def term_query(name: str, value: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema.schema(), name, value)
