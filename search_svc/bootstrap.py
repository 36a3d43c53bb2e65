"""Composition root of the search service: settings in, wired servicers out. The profile picks the index adapter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from cinemesh.search.v1 import search_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.server import GrpcService
from search_svc.adapters.device_detector_user_agent_parser import DeviceDetectorUserAgentParser
from search_svc.entrypoints.grpc_servicer import SERVICE_NAME, SearchServicer
from search_svc.ports.search_index import SearchIndex
from search_svc.settings import SearchSettings


def search_index(settings: SearchSettings) -> SearchIndex:
    # Imported here so that each profile loads only its own engine's library.
    if settings.profile == "production":
        from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex  # noqa: PLC0415

        return OpenSearchSearchIndex(
            settings.opensearch_url, alias=settings.opensearch_alias, timeout=settings.opensearch_timeout_seconds
        )
    from search_svc.adapters.tantivy_search_index import TantivySearchIndex  # noqa: PLC0415

    return TantivySearchIndex(settings.tantivy_dir)


@contextlib.asynccontextmanager
async def build(settings: SearchSettings) -> AsyncIterator[Sequence[GrpcService]]:
    user_agents = DeviceDetectorUserAgentParser(cache_size=settings.user_agent_cache_size)
    await asyncio.to_thread(user_agents.warm_up)
    index = search_index(settings)
    report_adapter("search_index", index)
    try:
        servicer = SearchServicer(index, user_agents)
        yield [
            GrpcService(
                SERVICE_NAME, lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server)
            )
        ]
    finally:
        await index.close()
