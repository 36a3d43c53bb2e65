"""Which engine holds the catalogue, and the adapters that reach it: the one choice the search service's
composition root and the ETL share, so both always open the same index with the same settings.

Each engine's library is imported only when that engine is chosen: an embedded deployment needs no OpenSearch
client, a production one never loads tantivy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from search_svc.ports.index_loader import IndexLoader
from search_svc.ports.search_index import SearchIndex
from search_svc.settings import SearchSettings


class Engine(StrEnum):
    TANTIVY = "tantivy"
    OPENSEARCH = "opensearch"


# The service's profile names the engine it reads.
PROFILE_ENGINES = {"embedded": Engine.TANTIVY, "production": Engine.OPENSEARCH}


@dataclass(frozen=True)
class IndexTarget:
    """Where the catalogue is; only the settings of the chosen engine matter."""

    engine: Engine
    tantivy_dir: Path
    opensearch_url: str
    alias: str
    opensearch_timeout_seconds: float = 2.0

    @classmethod
    def from_settings(cls, settings: SearchSettings, engine: Engine | None = None) -> IndexTarget:
        """The service's own target, or the same settings for another engine (the ETL names its engine)."""
        return cls(
            engine or PROFILE_ENGINES[settings.profile],
            tantivy_dir=settings.tantivy_dir,
            opensearch_url=settings.opensearch_url,
            alias=settings.opensearch_alias,
            opensearch_timeout_seconds=settings.opensearch_timeout_seconds,
        )

    def search_index(self) -> SearchIndex:
        """The reader the service serves from; nothing connects before its first request."""
        return index_adapters(self).search_index()

    def loader(self) -> IndexLoader:
        """The loader the ETL publishes through; nothing connects until it is used."""
        return index_adapters(self).loader()

    def __str__(self) -> str:
        if self.engine is Engine.TANTIVY:
            return f"the tantivy index in {self.tantivy_dir}"
        return f"the OpenSearch alias {self.alias!r} at {self.opensearch_url}"


@dataclass(frozen=True)
class IndexAdapters:
    search_index: Callable[[], SearchIndex]
    loader: Callable[[], IndexLoader]


def index_adapters(target: IndexTarget) -> IndexAdapters:
    """The chosen engine's reader and loader, both opening `target`."""
    if target.engine is Engine.TANTIVY:
        from search_svc.adapters.tantivy_index_loader import TantivyIndexLoader  # noqa: PLC0415
        from search_svc.adapters.tantivy_search_index import TantivySearchIndex  # noqa: PLC0415

        return IndexAdapters(
            lambda: TantivySearchIndex(target.tantivy_dir), lambda: TantivyIndexLoader(target.tantivy_dir)
        )
    from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader  # noqa: PLC0415
    from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex  # noqa: PLC0415

    return IndexAdapters(
        lambda: OpenSearchSearchIndex(
            target.opensearch_url, alias=target.alias, timeout=target.opensearch_timeout_seconds
        ),
        lambda: OpenSearchIndexLoader(target.opensearch_url, alias=target.alias),
    )
