"""The search as a listing understood it, when that is not what was typed: for an app's "Showing results for «…»".

Search forgives typos, text typed on the other keyboard layout and words no movie holds (the partial fallback);
an app should then say what it showed. Both engines answer that the same way, from here: each typed word is read
against the words of the movie that came first, and put as the catalogue spells it when it matched only through
a repair. A word matched as typed (its inflections, its dictionary lemma, ё for е, or spelled in the other alphabet,
which is matching a name, not repairing a mistake) stays as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from search_svc.domain.analysis import STOPWORDS, fold
from search_svc.domain.edits import edits
from search_svc.domain.lemmas import word_lemmas
from search_svc.domain.movie import Movie
from search_svc.domain.text import is_cyrillic, layout_variants, transliteration

# [^\W_] is a letter or digit of any script (analysis.TOKEN_PATTERN, in Python's dialect).
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(STOPWORDS)
# Endings an inflected word may add to, or put in place of, the end of another form of it ("runners", "stories").
MAX_ENDING = 3
_LATIN_ENDINGS = frozenset({"", "s", "es", "ed", "d", "ing", "er", "ers"})
_LATIN_SWAPS = ({"y", "ies"}, {"y", "ied"})
# Russian endings are made of these letters (а, ов, ами, ого, ий, ях…); a stem's own consonants are not.
_CYRILLIC_ENDING_LETTERS = frozenset("аеиоуыэюяйьмхвг")
# The typo rules the engines apply (tantivy_queries, opensearch_queries): one edit from 4 letters, two from 8,
# one in a 3-letter word beside other words; never in the first letter.
ONE_TYPO, TWO_TYPOS, SHORT_WORD = 4, 8, 3


def _movie_words(movie: Movie) -> list[str]:
    """The movie's words as the catalogue writes them, the title's first, then names, genres, the description."""
    texts = (movie.title, *movie.director, *movie.actors_names, *movie.writers_names, *movie.genre, movie.description)
    return [word for text in texts for word in _WORD.findall(text)]


def taken_as_typed(text: str, title: str) -> bool:
    """Whether every word of `text` but stop words is in `title` as typed (or a form of it): then `repaired_search`
    has nothing to say for a movie of that title, and its other words need not be read."""
    known = _Known(_WORD.findall(title))
    return all(fold(word) in _STOPWORDS or known.same(word) is not None for word in _WORD.findall(text))


def repaired_search(text: str, top: Movie, *, partial: bool) -> str | None:
    """`text` as the movie listed first matched it, when a word of it matched only through a repair; else None.

    A typo is put right, a word typed on the other layout is put in its letters; with `partial` (the listing holds
    the movies matching some of the words) a word the movie does not hold is left out. Stop words stay as typed.
    The whole text in the other layout is read too (keys like ";" and "," are letters there: "cke;t,ysq" is
    «служебный»), and the reading leaving fewer words unfound in the movie wins; the text as typed on a tie.
    """
    typed = _WORD.findall(text)
    known = _Known(_movie_words(top))
    best = _understood(typed, known, partial=partial, other_layout=False)
    for other in layout_variants(text)[1:]:
        reading = _understood(_WORD.findall(other), known, partial=partial, other_layout=True)
        if reading[0] < best[0]:
            best = reading
    understood = best[1]
    if not any(fold(word) not in _STOPWORDS for word in understood):
        return None
    if [fold(word) for word in understood] == [fold(word) for word in typed]:
        return None
    return " ".join(understood)


def _understood(typed: list[str], known: _Known, *, partial: bool, other_layout: bool) -> tuple[int, list[str]]:
    """How many of the words the movie does not hold (as typed or repaired), and the words as understood. In the
    other layout's reading every word is a repair, so a word the movie holds is put as the movie spells it, and
    a word is not swapped back to the layout it was typed in."""
    several = sum(fold(word) not in _STOPWORDS for word in typed) > 1
    unfound = 0
    understood: list[str] = []
    for word in typed:
        if fold(word) in _STOPWORDS:
            understood.append(word)
            continue
        same = known.same(word)
        if same is not None or known.carried_across(word, several):
            understood.append(same if other_layout and same is not None else word)
            continue
        repaired = known.repaired(word, several, other_layout=not other_layout)
        if repaired is not None:
            understood.append(repaired)
            continue
        unfound += 1
        if not partial:
            # Matched somewhere this reading cannot see (another movie on the page): left as typed.
            understood.append(word)
    return unfound, understood


class _Known:
    """A movie's words, looked up the ways a typed word may match them."""

    def __init__(self, words: Iterable[str]) -> None:
        self._spelled: dict[str, str] = {}
        for word in words:
            self._spelled.setdefault(fold(word), word)
        self._lemmas = {lemma for folded in self._spelled for lemma in word_lemmas(folded)}

    def same(self, word: str) -> str | None:
        """The movie's spelling of `word`, its inflection or its lemma; None when it holds no form of it."""
        folded = fold(word)
        if folded in self._spelled:
            return self._spelled[folded]
        if any(lemma in self._lemmas for lemma in word_lemmas(folded)):
            return word
        for known, spelled in self._spelled.items():
            if _inflected(folded, known):
                return spelled
        return None

    def carried_across(self, word: str, several: bool) -> bool:
        across = transliteration(word)
        return across is not None and (self.same(across) is not None or self._typo(across, several) is not None)

    def repaired(self, word: str, several: bool, *, other_layout: bool = True) -> str | None:
        """The movie's word that `word` meant: one typo away, or typed on the other layout (with a typo or not)."""
        found = self._typo(word, several)
        if found is not None or not other_layout:
            return found
        for other in layout_variants(word)[1:]:
            found = self.same(other)
            if found is None:
                found = self._typo(other, several)
            if found is not None:
                return found
        return None

    def _typo(self, word: str, several: bool) -> str | None:
        folded = fold(word)
        allowed = _allowed_typos(len(folded), several)
        best: tuple[int, str] | None = None
        for known, spelled in self._spelled.items():
            if not allowed or known[:1] != folded[:1] or abs(len(known) - len(folded)) > allowed:
                continue
            distance = edits(folded, known, allowed)
            if distance <= allowed and (best is None or distance < best[0]):
                best = (distance, spelled)
        return None if best is None else best[1]


def _allowed_typos(length: int, several: bool) -> int:
    if length >= TWO_TYPOS:
        return 2
    if length >= ONE_TYPO or (several and length == SHORT_WORD):
        return 1
    return 0


def _inflected(a: str, b: str) -> bool:
    """One word is the other with an ending added or changed ("runner"/"runners", "story"/"stories", «кершнер» /
    «кершнера»): what a stemmer takes for one word, told apart from a typo at the end ("terminatro")."""
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    tails = a[common:], b[common:]
    if common < SHORT_WORD or max(len(tail) for tail in tails) > MAX_ENDING:
        return False
    if is_cyrillic(a):
        return all(letter in _CYRILLIC_ENDING_LETTERS for tail in tails for letter in tail)
    return all(tail in _LATIN_ENDINGS for tail in tails) or set(tails) in _LATIN_SWAPS
