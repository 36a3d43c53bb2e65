"""A service that does nothing behind the gateway: the floor of a benchmark's path, on grpc.aio.

    python -m bench.noop_service --port 50100 --service ugc
    python -m bench.noop_service --port 50100 --service search --response listing.json

`ugc`: RecordPlaybackEvents answers at once with no event id. `search`: ListVideos answers every request with the
listing read from --response (JSON of a ListVideosResponse, e.g. what the real service returned), so the reply is
the size a real one is. Every other RPC answers grpc's own UNIMPLEMENTED. Behind an Envoy rendered from the same
template as the real gateway, it measures what the path (REST → Envoy's transcoding and checks → gRPC → a Python
grpc.aio handler → back) costs before a service does any work.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import grpc
from cinemesh.search.v1 import search_pb2, search_pb2_grpc
from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

# The asyncio servicer is re-exported only as `health.aio`, which type checkers cannot follow.
from grpc_health.v1._async import HealthServicer as AsyncHealthServicer

Context = grpc.aio.ServicerContext[object, object]


class NoOpUgc(ugc_pb2_grpc.UgcServiceServicer):
    async def RecordPlaybackEvents(
        self, request: ugc_pb2.RecordPlaybackEventsRequest, context: Context
    ) -> ugc_pb2.RecordPlaybackEventsResponse:
        return ugc_pb2.RecordPlaybackEventsResponse()


class NoOpSearch(search_pb2_grpc.SearchServiceServicer):
    def __init__(self, listing: search_pb2.ListVideosResponse) -> None:
        self._listing = listing

    async def ListVideos(
        self, request: search_pb2.ListVideosRequest, context: Context
    ) -> search_pb2.ListVideosResponse:
        return self._listing


async def serve(port: int, listing: search_pb2.ListVideosResponse | None) -> None:
    """The no-op search service when given a listing, the no-op UGC service otherwise."""
    server = grpc.aio.server()
    # The stubs declare every RPC abstract; those not written here answer grpc's own UNIMPLEMENTED.
    if listing is None:
        ugc_pb2_grpc.add_UgcServiceServicer_to_server(NoOpUgc(), server)  # type: ignore[abstract]
    else:
        search_pb2_grpc.add_SearchServiceServicer_to_server(NoOpSearch(listing), server)  # type: ignore[abstract]
    checks = AsyncHealthServicer()
    await checks.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.noop_service",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[2:]),
    )
    parser.add_argument("--port", type=int, required=True, help="gRPC port on 127.0.0.1")
    parser.add_argument("--service", choices=("ugc", "search"), required=True, help="which API to stand in for")
    parser.add_argument("--response", type=Path, help="search: the ListVideosResponse to answer, as JSON")
    args = parser.parse_args()
    listing = None
    if args.service == "search":
        if args.response is None:
            parser.error("--service search needs --response")
        listing = json_format.Parse(args.response.read_text(), search_pb2.ListVideosResponse())
    asyncio.run(serve(args.port, listing))


if __name__ == "__main__":
    main()
