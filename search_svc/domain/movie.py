"""A movie as the catalogue knows it, after cleaning: no placeholder ever stands for a missing value."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    id: int
    name: str


@dataclass(frozen=True)
class Writer:
    id: str
    name: str


@dataclass(frozen=True)
class Movie:
    id: str
    title: str
    description: str = ""
    imdb_rating: float | None = None
    genre: tuple[str, ...] = ()
    director: tuple[str, ...] = ()
    actors: tuple[Actor, ...] = field(default=())
    writers: tuple[Writer, ...] = field(default=())

    @property
    def actors_names(self) -> tuple[str, ...]:
        return tuple(actor.name for actor in self.actors)

    @property
    def writers_names(self) -> tuple[str, ...]:
        return tuple(writer.name for writer in self.writers)


@dataclass(frozen=True)
class VideoSummary:
    """One row of a listing or a suggestion."""

    id: str
    title: str
    imdb_rating: float | None = None


@dataclass(frozen=True)
class GenreCount:
    genre: str
    count: int


@dataclass(frozen=True)
class VideoPage:
    items: tuple[VideoSummary, ...]
    total: int
    # Over the movies matching text and rating filters, the genre filter left out; most frequent first,
    # ties by genre name.
    genres: tuple[GenreCount, ...] = ()
    # The search as the first item matched it, when that took a repair (`domain.search_repair`); else None.
    repaired_search: str | None = None
