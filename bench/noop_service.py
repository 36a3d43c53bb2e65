"""A service that does nothing behind the gateway: the floor of a benchmark's path, on grpc.aio.

    python -m bench.noop_service --port 50100 --service ugc
    python -m bench.noop_service --port 50100 --service search --replies replies.json [--meshkit]

`ugc`: RecordPlaybackEvents answers at once with no event id. `search`: ListVideos answers each request with the
reply --replies holds for it (a JSON list of {"request": ListVideosRequest, "response": ListVideosResponse}, e.g.
what the real service answered to each of a benchmark's requests), so every reply is the size a real one is; a
request the file does not hold fails with FAILED_PRECONDITION, which the benchmark counts as a failed request.
Every other RPC answers grpc's own UNIMPLEMENTED. Behind an Envoy rendered from the same template as the real
gateway, it measures what the path (REST → Envoy's transcoding and checks → gRPC → a Python grpc.aio handler →
back) costs before a service does any work.

With --meshkit the same servicer runs in the services' own server (meshkit.server: the interceptor with its
contract check, deadline, metrics and error mapping; health, reflection and the Prometheus exporter): the floor
of a real service, so that what a service spends above it is its handler's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import grpc
from cinemesh.search.v1 import search_pb2, search_pb2_grpc
from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

# The asyncio servicer is re-exported only as `health.aio`, which type checkers cannot follow.
from grpc_health.v1._async import HealthServicer as AsyncHealthServicer

from meshkit.server import GrpcService, running_server
from meshkit.settings import ServiceSettings

Context = grpc.aio.ServicerContext[object, object]
Replies = dict[bytes, search_pb2.ListVideosResponse]


class NoOpUgc(ugc_pb2_grpc.UgcServiceServicer):
    async def RecordPlaybackEvents(
        self, request: ugc_pb2.RecordPlaybackEventsRequest, context: Context
    ) -> ugc_pb2.RecordPlaybackEventsResponse:
        return ugc_pb2.RecordPlaybackEventsResponse()


class NoOpSearch(search_pb2_grpc.SearchServiceServicer):
    def __init__(self, replies: Replies) -> None:
        self._replies = replies

    async def ListVideos(
        self, request: search_pb2.ListVideosRequest, context: Context
    ) -> search_pb2.ListVideosResponse:
        reply = self._replies.get(request.SerializeToString(deterministic=True))
        if reply is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no reply recorded for this request")
        return reply


def read_replies(path: Path) -> Replies:
    """The recorded replies by their request's deterministic encoding (equal messages, equal bytes)."""
    replies: Replies = {}
    for pair in json.loads(path.read_text()):
        request = json_format.ParseDict(pair["request"], search_pb2.ListVideosRequest())
        response = json_format.ParseDict(pair["response"], search_pb2.ListVideosResponse())
        replies[request.SerializeToString(deterministic=True)] = response
    return replies


async def serve(port: int, replies: Replies | None) -> None:
    """The no-op search service when given replies, the no-op UGC service otherwise."""
    server = grpc.aio.server()
    # The stubs declare every RPC abstract; those not written here answer grpc's own UNIMPLEMENTED.
    if replies is None:
        ugc_pb2_grpc.add_UgcServiceServicer_to_server(NoOpUgc(), server)  # type: ignore[abstract]
    else:
        search_pb2_grpc.add_SearchServiceServicer_to_server(NoOpSearch(replies), server)  # type: ignore[abstract]
    checks = AsyncHealthServicer()
    await checks.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def serve_in_meshkit(port: int, replies: Replies) -> None:
    """The no-op search servicer in the services' own server, until the process is stopped."""
    servicer = NoOpSearch(replies)  # type: ignore[abstract]
    service = GrpcService(
        search_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name,
        lambda server: search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server),
    )
    settings = ServiceSettings(grpc_port=port, metrics_port=0, log_level="WARNING")
    async with running_server(settings, [service]):
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.noop_service",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[2:]),
    )
    parser.add_argument("--port", type=int, required=True, help="gRPC port on 127.0.0.1")
    parser.add_argument("--service", choices=("ugc", "search"), required=True, help="which API to stand in for")
    parser.add_argument("--replies", type=Path, help="search: the recorded requests and replies, as JSON")
    parser.add_argument("--meshkit", action="store_true", help="search: run in the services' own server")
    args = parser.parse_args()
    if args.service == "ugc":
        asyncio.run(serve(args.port, None))
        return
    if args.replies is None:
        parser.error("--service search needs --replies")
    replies = read_replies(args.replies)
    asyncio.run(serve_in_meshkit(args.port, replies) if args.meshkit else serve(args.port, replies))


if __name__ == "__main__":
    main()
