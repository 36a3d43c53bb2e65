"""An in-memory IndexLoader that keeps the port's promises and records what the ETL did with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from meshkit.errors import FailedPrecondition, Unavailable
from search_svc.domain.movie import Movie

State = Literal["building", "published", "discarded"]


class FakeIndexVersion:
    def __init__(self, loader: FakeIndexLoader, name: str) -> None:
        self.name = name
        self.state: State = "building"
        self.batches: list[int] = []
        self._loader = loader
        self._movies: dict[str, Movie] = {}

    def add(self, movies: Sequence[Movie]) -> None:
        self._building()
        if self._loader.fail_on_batch == len(self.batches) + 1:
            raise Unavailable("the engine went away")
        self.batches.append(len(movies))
        for movie in movies:
            self._movies[movie.id] = movie

    def publish(self, expected: int) -> None:
        self._building()
        if len(self._movies) != expected:
            raise FailedPrecondition(f"version {self.name} holds {len(self._movies)} movies, expected {expected}")
        self._loader.serving = dict(self._movies)
        self.state = "published"

    def discard(self) -> None:
        self._movies.clear()
        self.state = "discarded"

    def _building(self) -> None:
        if self.state != "building":
            raise FailedPrecondition(f"version {self.name} is {self.state}")


class FakeIndexLoader:
    def __init__(self, serving: dict[str, Movie] | None = None, fail_on_batch: int | None = None) -> None:
        self.serving = serving
        # The n-th call to add() (from 1) raises Unavailable instead of indexing.
        self.fail_on_batch = fail_on_batch
        self.versions: list[FakeIndexVersion] = []

    def new_version(self) -> FakeIndexVersion:
        version = FakeIndexVersion(self, f"v{len(self.versions) + 1}")
        self.versions.append(version)
        return version

    def serving_count(self) -> int | None:
        return None if self.serving is None else len(self.serving)
