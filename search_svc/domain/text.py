"""Text rules shared by every engine: ё/е folding and wrong-keyboard-layout repair.

Engines stem and fold case themselves (the same Snowball stemmers in both); what they cannot do
the same way is done here, once, before a query reaches either of them.
"""

from __future__ import annotations

import functools
import re

# Keys of the standard Russian ЙЦУКЕН layout, in the order of the US QWERTY keys they share.
_QWERTY = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./" + '~QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>?'
_JCUKEN = "ёйцукенгшщзхъфывапролджэячсмитьбю." + "ЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,"

# A letter or digit of any script, as analysis.TOKEN_PATTERN in Python's dialect.
_WORD = re.compile(r"[^\W_]+")

_TO_CYRILLIC = str.maketrans(_QWERTY, _JCUKEN)
_TO_LATIN = str.maketrans(_JCUKEN, _QWERTY)


def fold_yo(text: str) -> str:
    """ё → е: Russian writing drops the dots freely, so search must not tell them apart."""
    # str.replace copies a string in C; translate() calls into its table per character (~15 µs for a plot).
    return text.replace("ё", "е").replace("Ё", "Е")


def _letters(text: str) -> list[str]:
    return [c for c in text if c.isalpha()]


def is_latin(text: str) -> bool:
    letters = _letters(text)
    return bool(letters) and all("a" <= c.lower() <= "z" for c in letters)


def is_cyrillic(text: str) -> bool:
    letters = _letters(text)
    return bool(letters) and all("а" <= c.lower() <= "я" or c in "ёЁ" for c in letters)


def layout_variants(text: str) -> tuple[str, ...]:
    """The text as typed, then as it would read had the other keyboard layout been on.

    "Xthyjt pthrfkj" (typed on QWERTY, meant on ЙЦУКЕН) → "Чёрное зеркало"; "ыефк цфкы" → "star wars".
    Text mixing both alphabets, or none, has no second reading.
    """
    if is_latin(text):
        return text, text.translate(_TO_CYRILLIC)
    if is_cyrillic(text):
        swapped = text.translate(_TO_LATIN)
        # Keys like "х", "ъ", "ж", "э", "б", "ю" become punctuation: a swap that leaves no letters means nothing.
        if _letters(swapped):
            return text, swapped
    return (text,)


# Russian letters in Latin as names are usually spelled across (Тарковский → tarkovskiy, Кершнер → kershner), and
# back: longest Latin spellings first, so "sh" reads ш before "s" reads с.
_CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_LATIN_TO_CYRILLIC = {
    "shch": "щ", "sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц", "ya": "я", "yu": "ю", "yo": "ё",
    "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "дж", "k": "к",
    "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в",
    "w": "в", "x": "кс", "y": "и", "z": "з",
}  # fmt: skip
_LATIN_SPELLINGS = sorted(_LATIN_TO_CYRILLIC, key=len, reverse=True)


# A pure function of the word, asked for each word of every search and again by the repair of its first hit; query
# streams repeat their words, so a bounded cache answers most of them.
@functools.lru_cache(maxsize=1 << 14)
def transliteration(word: str) -> str | None:
    """`word` spelled in the other alphabet, letter by letter as names are carried across («кершнер» ↔ "kershner");
    None for a word mixing alphabets or holding other letters.

    A spelling carried across is often a letter or two off the one the catalogue uses ("tarkovskiy" for Tarkovsky),
    so it is meant to be matched with typos allowed.
    """
    lowered = word.lower()
    if is_cyrillic(lowered) and lowered.isalpha():
        return "".join(_CYRILLIC_TO_LATIN.get(c, c) for c in lowered)
    if is_latin(lowered) and lowered.isalpha():
        out, i = [], 0
        while i < len(lowered):
            spelling = next(s for s in _LATIN_SPELLINGS if lowered.startswith(s, i))
            out.append(_LATIN_TO_CYRILLIC[spelling])
            i += len(spelling)
        return "".join(out)
    return None


def transliterated(text: str) -> str | None:
    """Text of one alphabet with each word spelled in the other (`transliteration`), signs and numbers kept: the same
    title as the other language's catalogue writes it («Сталкер» ↔ "Stalker", "Kin-dza-dza" ↔ «Кин-дза-дза»).
    None for text mixing alphabets, or that no word of changes."""
    if not (is_latin(text) or is_cyrillic(text)):
        return None
    carried = _WORD.sub(lambda word: transliteration(word.group()) or word.group(), text)
    return carried if carried != text.lower() else None
