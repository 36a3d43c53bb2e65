"""The benchmarks' no-op search service answers each recorded request with its own reply, in meshkit's server too."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from bench.noop_service import NoOpSearch, read_replies
from meshkit.server import GrpcService, running_server
from meshkit.settings import ServiceSettings

SERVICE = search_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name


def recorded(path: Path) -> Path:
    # As bench.search_latency records them: the query parameters as strings, a repeatable one as a list.
    pairs = [
        {"request": {"search": "star wars"}, "response": {"items": [{"id": "tt1", "title": "Star"}], "total": 1}},
        {
            "request": {"limit": "50", "page": "5", "sort": "title"},
            "response": {"items": [{"id": "tt2", "title": "Page five"}], "total": "300", "page": 5, "limit": 50},
        },
        {"request": {"genre": ["Documentary"], "min_rating": "7"}, "response": {"total": 0}},
    ]
    path.write_text(json.dumps(pairs))
    return path


async def test_each_request_gets_its_own_reply_and_an_unrecorded_one_fails(tmp_path: Path) -> None:
    servicer = NoOpSearch(read_replies(recorded(tmp_path / "replies.json")))
    service = GrpcService(SERVICE, lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server))
    settings = ServiceSettings.model_validate({"grpc_port": 0, "metrics_port": 0, "grace_seconds": 1})
    async with (
        running_server(settings, [service]) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel,
    ):
        stub = search_pb2_grpc.SearchServiceStub(channel)
        # The messages the gateway builds from the same query parameters.
        paged = await stub.ListVideos(search_pb2.ListVideosRequest(limit=50, page=5, sort="title"), timeout=5)
        assert [(item.id, item.title) for item in paged.items] == [("tt2", "Page five")]
        assert (paged.total, paged.page, paged.limit) == (300, 5, 50)
        searched = await stub.ListVideos(search_pb2.ListVideosRequest(search="star wars"), timeout=5)
        assert [item.id for item in searched.items] == ["tt1"]
        filtered = await stub.ListVideos(search_pb2.ListVideosRequest(genre=["Documentary"], min_rating=7.0), timeout=5)
        assert filtered.total == 0
        assert not filtered.items

        with pytest.raises(grpc.aio.AioRpcError) as unrecorded:
            await stub.ListVideos(search_pb2.ListVideosRequest(search="star trek"), timeout=5)
        assert unrecorded.value.code() is grpc.StatusCode.FAILED_PRECONDITION

        # In meshkit's server the contract's rules still come first.
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await stub.ListVideos(search_pb2.ListVideosRequest(limit=0), timeout=5)
        assert invalid.value.code() is grpc.StatusCode.INVALID_ARGUMENT
