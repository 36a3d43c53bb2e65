"""Russian dictionary lemmas: the one definition both engines index and search.

Snowball cuts endings by rule, so forms that change their stem fall apart: день/дня/дни, отец/отцы, лёд/льда,
and the plurals of another root, ребёнок/дети, человек/люди. A dictionary (OpenCorpora's, through pymorphy3)
knows them as one word. The ETL writes each movie's lemmas into lemma fields of its own; the service turns each
query word into its lemmas the same way, so both engines see the same lemma terms and analyse them only by the
plain chain (lower case, ё folded, stop words dropped), which they already share. Snowball stays the first signal.

Only Cyrillic words are looked up; a word the dictionary does not know is its own lemma. The dictionary loads on
first use (about 0.15 s, some 15 MB), never at import.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

# [^\W_] is a letter or digit of any script (analysis.TOKEN_PATTERN, in Python's dialect).
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-яё]+")
# Readings the dictionary gives less weight than this (день as a form of "деть") are left out.
MIN_SCORE = 0.1
# A word with more readings than this is ambiguous enough that the first ones are all that help.
MAX_LEMMAS = 3


@functools.cache
def _morphology() -> Any:
    import pymorphy3  # noqa: PLC0415  (a dictionary to load: only when a lemma is first asked for)

    return pymorphy3.MorphAnalyzer(lang="ru")


def warm_up() -> None:
    """Load the dictionary now rather than on the first query."""
    word_lemmas("день")


@functools.lru_cache(maxsize=1 << 17)
def word_lemmas(word: str) -> tuple[str, ...]:
    """The lemmas of one word (lower case, ё as е), likeliest first; () for a word that is not Cyrillic."""
    word = word.lower().replace("ё", "е")
    if not _CYRILLIC.fullmatch(word):
        return ()
    scores: dict[str, float] = defaultdict(float)
    for parse in _morphology().parse(word):
        if parse.is_known:
            scores[parse.normal_form.replace("ё", "е")] += parse.score
    found = [lemma for lemma, score in scores.items() if score >= MIN_SCORE][:MAX_LEMMAS]
    return tuple(found) or (word,)


def lemma_text(text: str) -> str:
    """`text` as the lemmas of its Cyrillic words, in order, space-separated: what a lemma field holds."""
    return " ".join(lemma for word in _WORD.findall(text) for lemma in word_lemmas(word))
