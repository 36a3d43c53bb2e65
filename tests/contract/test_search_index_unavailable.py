"""When the index cannot answer, every adapter says UNAVAILABLE quickly — never a hang, never a wrong empty page."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from devstack.mesh import free_port
from meshkit.errors import Unavailable
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.adapters.tantivy_search_index import TantivySearchIndex
from search_svc.domain.video_query import SortOrder, SuggestQuery, VideoQuery
from search_svc.ports.search_index import SearchIndex

LISTING = VideoQuery("", 10, 1, None, SortOrder.ASC)


def silent_server() -> socket.socket:
    """Accepts connections and never answers: an engine that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


async def assert_unavailable_within(index: SearchIndex, seconds: float) -> None:
    for call in (lambda: index.search(LISTING), lambda: index.get("tt1"), lambda: index.suggest(SuggestQuery("x", 5))):
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await call()
        assert time.monotonic() - started < seconds


async def test_opensearch_down_is_unavailable() -> None:
    index = OpenSearchSearchIndex(f"http://127.0.0.1:{free_port()}", timeout=1.0)
    try:
        await assert_unavailable_within(index, 2.0)
    finally:
        await index.close()


async def test_opensearch_hanging_is_unavailable_at_the_timeout() -> None:
    server = silent_server()
    index = OpenSearchSearchIndex(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=0.5)
    try:
        await assert_unavailable_within(index, 2.0)
    finally:
        await index.close()
        server.close()


async def test_tantivy_with_nothing_published_is_unavailable(tmp_path: Path) -> None:
    index = TantivySearchIndex(tmp_path / "empty")
    try:
        await assert_unavailable_within(index, 1.0)
    finally:
        await index.close()
