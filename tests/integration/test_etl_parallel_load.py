"""A load by worker processes publishes, into a real tantivy index, the very documents one process publishes."""

from __future__ import annotations

from pathlib import Path

import tantivy

from etl.load import load_export
from search_svc.adapters import tantivy_schema
from search_svc.adapters.tantivy_index_loader import TantivyIndexLoader
from search_svc.adapters.tantivy_versions import serving_path
from tests.data import LEGACY_EXPORT


def published_cards(directory: Path) -> list[bytes]:
    """Every stored card of the serving version, in id order; a movie published twice appears twice."""
    path = serving_path(directory)
    assert path is not None
    searcher = tantivy.Index.open(str(path)).searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs + 1).hits
    cards = [tantivy_schema.stored_card(searcher, address) for _, address in hits]
    return sorted(cards, key=lambda card: tantivy_schema.movie_from_card(card).id)


def test_workers_publish_the_legacy_export_as_one_process_does(tmp_path: Path) -> None:
    alone = load_export(LEGACY_EXPORT, TantivyIndexLoader(tmp_path / "alone"), batch_size=64, workers=0)
    together = load_export(LEGACY_EXPORT, TantivyIndexLoader(tmp_path / "together"), batch_size=64, workers=3)
    assert alone.movies == together.movies == 999
    cards = published_cards(tmp_path / "together")
    assert len(cards) == 999
    assert len({tantivy_schema.movie_from_card(card).id for card in cards}) == 999
    assert cards == published_cards(tmp_path / "alone")
