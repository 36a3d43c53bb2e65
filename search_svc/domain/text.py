"""Text rules shared by every engine: ё/е folding and wrong-keyboard-layout repair.

Engines stem and fold case themselves (the same Snowball stemmers in both); what they cannot do
the same way is done here, once, before a query reaches either of them.
"""

from __future__ import annotations

# Keys of the standard Russian ЙЦУКЕН layout, in the order of the US QWERTY keys they share.
_QWERTY = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./" + '~QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>?'
_JCUKEN = "ёйцукенгшщзхъфывапролджэячсмитьбю." + "ЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,"

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
