"""OpenSearch through opensearch-py, the client the search service uses: Russian analysis and search."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch as OpenSearchClient

from devstack.engines.opensearch import OpenSearch

pytestmark = [pytest.mark.engines, pytest.mark.opensearch]


@pytest.fixture
def client(opensearch: OpenSearch) -> Iterator[OpenSearchClient]:
    client = OpenSearchClient(hosts=[opensearch.endpoints()["url"]], timeout=30)
    yield client
    client.close()


def test_the_russian_analyzer_stems_and_drops_stop_words(client: OpenSearchClient) -> None:
    result = client.indices.analyze(body={"analyzer": "russian", "text": "Приключения в далёких горах"})
    tokens = [token["token"] for token in result["tokens"]]
    assert "приключен" in tokens
    assert "в" not in tokens


def test_a_search_finds_another_form_of_the_word(client: OpenSearchClient) -> None:
    index = f"devstack-smoke-{uuid.uuid4().hex}"
    mappings = {"properties": {"title": {"type": "text", "analyzer": "russian"}}}
    client.indices.create(index=index, body={"settings": {"number_of_replicas": 0}, "mappings": mappings})
    try:
        client.index(index=index, id="1", body={"title": "Приключения Шерлока Холмса"}, refresh=True)
        found = client.search(index=index, body={"query": {"match": {"title": "приключение"}}})
        assert [hit["_id"] for hit in found["hits"]["hits"]] == ["1"]
    finally:
        client.indices.delete(index=index)
