"""Port: building a new version of the index and publishing it with no downtime (the ETL's side)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from search_svc.domain.movie import Movie


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """Movies in the engine's own encoding: for each, its id and its document, as the engine reads it.

    Plain strings, so a batch crosses a process boundary cheaply: the ETL encodes in worker processes.
    """

    ids: tuple[str, ...]
    documents: tuple[str, ...]


# A function of the adapter's module (so it pickles by name): the same encoding add() applies.
Encoder = Callable[[Sequence[Movie]], EncodedBatch]


class IndexVersion(Protocol):
    """A new, not yet serving version of the index. Exactly one of publish() or discard() ends it."""

    name: str

    def add(self, movies: Sequence[Movie]) -> None:
        """Index a batch (the caller bounds its size); a movie id seen again replaces the earlier document."""

    def add_encoded(self, batch: EncodedBatch) -> None:
        """add() for a batch the loader's encoder() made, in this process or another."""

    def publish(self, expected: int) -> None:
        """Make the version durable and searchable, check it holds exactly `expected` movies, then make it the
        serving version in one atomic step and drop the versions before it. On a count mismatch raise
        meshkit.errors.FailedPrecondition and leave the serving version untouched."""

    def discard(self) -> None:
        """Delete this version; the serving one is untouched. Safe after a failed add or publish."""


class IndexLoader(Protocol):
    def new_version(self) -> IndexVersion:
        """Create an empty version beside the serving one (a failed or concurrent run never touches it)."""

    def serving_count(self) -> int | None:
        """Movies in the serving version, or None when nothing has been published yet."""

    def encoder(self) -> Encoder:
        """How this engine encodes movies for add_encoded(): a pure function, safe to run in any process."""
