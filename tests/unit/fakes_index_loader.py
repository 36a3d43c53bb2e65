"""An in-memory IndexLoader that keeps the port's promises and records what the ETL did with it."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Sequence
from typing import Literal

from meshkit.errors import FailedPrecondition, Unavailable
from search_svc.domain.movie import Actor, Movie, Writer
from search_svc.ports.index_loader import EncodedBatch, Encoder

State = Literal["building", "published", "discarded"]


class FakeIndexVersion:
    def __init__(self, loader: FakeIndexLoader, name: str) -> None:
        self.name = name
        self.state: State = "building"
        self.batches: list[int] = []
        self._loader = loader
        self._movies: dict[str, Movie] = {}

    def add(self, movies: Sequence[Movie]) -> None:
        self.add_encoded(encode(movies))

    def add_encoded(self, batch: EncodedBatch) -> None:
        self._building()
        if self._loader.fail_on_batch == len(self.batches) + 1:
            raise Unavailable("the engine went away")
        self.batches.append(len(batch.ids))
        for movie_id, document in zip(batch.ids, batch.documents, strict=True):
            self._movies[movie_id] = decode(document)

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
    def __init__(
        self,
        serving: dict[str, Movie] | None = None,
        fail_on_batch: int | None = None,
        *,
        encoding_fails_on: str | None = None,
        encoding_exits_on: str | None = None,
    ) -> None:
        self.serving = serving
        # The n-th call to add() (from 1) raises Unavailable instead of indexing.
        self.fail_on_batch = fail_on_batch
        # Encoding the movie with this id raises ValueError, or ends the process at once (as a kill would).
        self.encoding_fails_on = encoding_fails_on
        self.encoding_exits_on = encoding_exits_on
        self.versions: list[FakeIndexVersion] = []

    def new_version(self) -> FakeIndexVersion:
        version = FakeIndexVersion(self, f"v{len(self.versions) + 1}")
        self.versions.append(version)
        return version

    def serving_count(self) -> int | None:
        return None if self.serving is None else len(self.serving)

    def encoder(self) -> Encoder:
        if self.encoding_fails_on is None and self.encoding_exits_on is None:
            return encode
        return functools.partial(_encode_or_fail, fails_on=self.encoding_fails_on, exits_on=self.encoding_exits_on)


def encode(movies: Sequence[Movie]) -> EncodedBatch:
    """Each movie as JSON: a module-level function, so that worker processes can run it as they would an engine's."""
    return EncodedBatch(tuple(m.id for m in movies), tuple(json.dumps(dataclasses.asdict(m)) for m in movies))


def _encode_or_fail(movies: Sequence[Movie], *, fails_on: str | None, exits_on: str | None) -> EncodedBatch:
    ids = {movie.id for movie in movies}
    if exits_on in ids:
        os._exit(3)
    if fails_on in ids:
        raise ValueError(f"cannot encode {fails_on}")
    return encode(movies)


def decode(document: str) -> Movie:
    fields = json.loads(document)
    return Movie(
        **{
            **fields,
            "genre": tuple(fields["genre"]),
            "director": tuple(fields["director"]),
            "actors": tuple(Actor(**actor) for actor in fields["actors"]),
            "writers": tuple(Writer(**writer) for writer in fields["writers"]),
        }
    )
