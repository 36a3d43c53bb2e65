"""A hand-written SearchIndex for unit tests: records what it was asked, answers from a dict."""

from __future__ import annotations

from search_svc.domain.movie import GenreCount, Movie, VideoPage, VideoSummary
from search_svc.domain.video_query import SuggestQuery, VideoQuery


class FakeSearchIndex:
    def __init__(self, movies: list[Movie]) -> None:
        self.movies = {movie.id: movie for movie in movies}
        self.queries: list[VideoQuery] = []
        self.suggestions: list[SuggestQuery] = []
        self.closed = False
        # What the next pages say the search was understood as (the engines compute it; see domain.search_repair).
        self.repaired_search: str | None = None

    async def search(self, query: VideoQuery) -> VideoPage:
        self.queries.append(query)
        matching = sorted(self.movies.values(), key=lambda m: m.id)
        rows = matching[query.offset : query.offset + query.limit]
        genres: dict[str, int] = {}
        for movie in matching:
            for genre in movie.genre:
                genres[genre] = genres.get(genre, 0) + 1
        return VideoPage(
            items=tuple(VideoSummary(m.id, m.title, m.imdb_rating) for m in rows),
            total=len(matching),
            genres=tuple(GenreCount(g, n) for g, n in sorted(genres.items(), key=lambda kv: (-kv[1], kv[0]))),
            repaired_search=self.repaired_search,
        )

    async def get(self, movie_id: str) -> Movie | None:
        return self.movies.get(movie_id)

    async def suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        self.suggestions.append(query)
        found = [m for m in self.movies.values() if m.title.lower().startswith(query.text.lower())]
        return [VideoSummary(m.id, m.title, m.imdb_rating) for m in found]

    async def close(self) -> None:
        self.closed = True
