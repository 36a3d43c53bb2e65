"""Port: building a new version of the index and publishing it with no downtime (the ETL's side)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from search_svc.domain.movie import Movie


class IndexVersion(Protocol):
    """A new, not yet serving version of the index. Exactly one of publish() or discard() ends it."""

    name: str

    def add(self, movies: Sequence[Movie]) -> None:
        """Index a batch (the caller bounds its size); a movie id seen again replaces the earlier document."""

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
