"""The adapter-info metric names the engine from the adapter's module, by the `<engine>_<port>` rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from meshkit.adapters import engine_of, report_adapter
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.adapters.tantivy_search_index import TantivySearchIndex


class Unnamed:
    """An adapter in a module (this one) that is not named `<engine>_<port>`."""


def test_the_engine_is_read_from_the_adapter_module() -> None:
    assert engine_of("search_index", TantivySearchIndex) == "tantivy"
    assert engine_of("search_index", OpenSearchSearchIndex) == "opensearch"


def test_a_module_that_breaks_the_naming_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="is not named <engine>_search_index"):
        engine_of("search_index", Unnamed)


def test_the_reported_adapter_is_on_the_metrics_page(tmp_path: Path) -> None:
    # Nothing is opened before the first query.
    engine = report_adapter("search_index", TantivySearchIndex(tmp_path))

    labels = {"port": "search_index", "engine": "tantivy", "adapter": "TantivySearchIndex"}
    assert engine == "tantivy"
    assert REGISTRY.get_sample_value("cinemesh_adapter_info", labels) == 1.0
