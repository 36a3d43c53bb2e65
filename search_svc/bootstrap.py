"""Composition root of the search service: settings in, wired servicers out. The profile picks the index adapter
(`search_svc.index_engines`, the choice the ETL makes too)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from cinemesh.search.v1 import search_pb2_grpc

from meshkit.adapters import report_adapter
from meshkit.server import GrpcService
from search_svc.adapters.device_detector_user_agent_parser import DeviceDetectorUserAgentParser
from search_svc.domain import lemmas
from search_svc.entrypoints.grpc_servicer import SERVICE_NAME, SearchServicer
from search_svc.index_engines import IndexTarget
from search_svc.settings import SearchSettings


@contextlib.asynccontextmanager
async def build(settings: SearchSettings) -> AsyncIterator[Sequence[GrpcService]]:
    user_agents = DeviceDetectorUserAgentParser(cache_size=settings.user_agent_cache_size)
    await asyncio.to_thread(user_agents.warm_up)
    # The lemma dictionary loads before SERVING, not on the first query.
    await asyncio.to_thread(lemmas.warm_up)
    index = IndexTarget.from_settings(settings).search_index()
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
