"""How text becomes searchable terms — defined once, configured from here in every engine.

A token is a maximal run of letters and digits; tokens are lower-cased, ё is folded to е, stop words
are dropped, then the Russian and the English Snowball stemmers run in turn (each leaves the other
alphabet alone). tests/contract/test_analysis.py checks that both engines cut the same cases the same way.
"""

from __future__ import annotations

# Unicode classes as both engines' regex dialects (Java for OpenSearch, Rust for tantivy) spell them.
TOKEN_PATTERN = r"[\p{L}\p{N}]+"
SEPARATOR_PATTERN = r"[^\p{L}\p{N}]+"

STEMMERS = ("russian", "english")

# Function words that carry no meaning in a movie search. Kept short on purpose: a film may be called
# "It" or «Он», so a query made only of stop words is matched against titles verbatim instead (see the port).
STOPWORDS_RU: tuple[str, ...] = tuple(
    """а без бы в во вот да для до же за и из или к как ко ли на над не ни но о об от по под при про с со то у
    что чтобы это этот эта эти""".split()
)
STOPWORDS_EN: tuple[str, ...] = tuple(
    """a an and are as at be but by for from if in into is it its of on or so than that the their then there these
    this to was were will with""".split()
)
STOPWORDS = STOPWORDS_RU + STOPWORDS_EN


def fold(token: str) -> str:
    """Lower case and ё → е: what both engines do to every token before stop words and stemming."""
    return token.lower().replace("ё", "е")
