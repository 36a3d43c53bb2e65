"""Port: the movie catalogue's full-text index, as the search service reads it."""

from __future__ import annotations

from typing import Protocol

from search_svc.domain.movie import Movie, VideoPage, VideoSummary
from search_svc.domain.video_query import SuggestQuery, VideoQuery


class SearchIndex(Protocol):
    """Reads the serving version of the index (whatever the ETL published last; a new version is picked up
    without a restart).

    Semantics every adapter keeps (the contract suite in tests/contract/test_search_index.py checks them):
    - text: every query word must match some field (title, director, actors, writers, description, genre),
      allowing the Russian and English inflections of a word (Snowball stems), the Russian dictionary lemma of a
      title or description word (`domain.lemmas`: дни for день, дети for ребёнок), ё for е, a typo (one edit in
      words of 4+ letters, two in 8+, the first letter right; one in a 3-letter name beside other words), and the
      whole query typed in the other keyboard layout (`domain.text.layout_variants`) or spelled in the other
      alphabet (`domain.text.transliterated`: «Сталкер» finds "Stalker", after what matches as typed); title
      matches rank first, and a title holding the whole text as typed, in order, above one holding its words.
      A typo match weighs by the rarity of the words it reaches, as an exact match does. A name scores by its
      rarity, the same in a long credit list as in a short one, and more in the part (director, actor, writer)
      where it is rarer.
      A query of stop words only matches titles made of those words.
    - when no movie matches every word, the movies matching some of them: more words matched first, then by
      score; the other layout's reading then allows typos too, and a word as typed may match spelled in the other
      alphabet (`domain.text.transliteration`: "lucas" as «лукас»), typos allowed, counting less than as typed.
      Nothing is found only when no word matches.
    - repaired_search: the search as the page's first movie matched it, when a word matched only through a repair
      (a typo put right or the other layout's reading, as the catalogue spells the word; in the fallback, the
      words that movie lacks left out); None when taken as typed. Computed by `domain.search_repair`, the same on
      every engine.
    - sort None: relevance with text (ties by id), catalogue id without; title sorts case- and ё-insensitively;
      imdb_rating puts unrated movies last in either order; ties always by id ascending.
    - filters (genres: any of; rating range inclusive; unrated movies never pass a rating filter) apply to items
      and total; genre facets ignore the genre filter but keep the others.
    - a page past the end is empty with the true total.
    Raises meshkit.errors.Unavailable when the engine cannot answer (down, timed out); never returns a partial
    answer as a whole one.
    """

    async def search(self, query: VideoQuery) -> VideoPage: ...

    async def get(self, movie_id: str) -> Movie | None:
        """The movie with this exact id, or None."""

    async def suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        """Titles completing what was typed (the last word may be a prefix), best first, at most `query.limit`."""

    async def close(self) -> None: ...
