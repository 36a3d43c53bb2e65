"""Choosing the index the ETL loads into: the embedded tantivy directory or an OpenSearch alias."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from search_svc.ports.index_loader import IndexLoader


class Engine(StrEnum):
    TANTIVY = "tantivy"
    OPENSEARCH = "opensearch"


@dataclass(frozen=True)
class IndexTarget:
    """Where a load goes; only the settings of the chosen engine matter."""

    engine: Engine
    tantivy_dir: Path
    opensearch_url: str
    alias: str

    def loader(self) -> IndexLoader:
        """The engine's loader; nothing connects until the loader is used."""
        # Imported here so that each engine's library is needed only when that engine is chosen. The ignores keep
        # this module checkable while the adapters are absent (they are written alongside).
        if self.engine is Engine.TANTIVY:
            from search_svc.adapters.tantivy_index_loader import TantivyIndexLoader  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415

            return TantivyIndexLoader(self.tantivy_dir)  # type: ignore[no-any-return, unused-ignore]
        from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415

        return OpenSearchIndexLoader(self.opensearch_url, alias=self.alias)  # type: ignore[no-any-return, unused-ignore]

    def __str__(self) -> str:
        if self.engine is Engine.TANTIVY:
            return f"the tantivy index in {self.tantivy_dir}"
        return f"the OpenSearch alias {self.alias!r} at {self.opensearch_url}"
