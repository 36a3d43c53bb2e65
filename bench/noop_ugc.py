"""A no-op `cinemesh.ugc.v1.UgcService` on grpc.aio: the baseline of the ingest benchmark.

`RecordPlaybackEvents` answers at once with no event id; every other RPC is grpc.aio's default UNIMPLEMENTED.
Behind an Envoy rendered from the same template as the real gateway, it measures what the path (REST → Envoy's
JWT check and transcoding → gRPC → a Python grpc.aio handler → back) costs before the service does any work.

    python -m bench.noop_ugc --port 50100
"""

from __future__ import annotations

import argparse
import asyncio

import grpc
from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# The asyncio servicer is re-exported only as `health.aio`, which type checkers cannot follow.
from grpc_health.v1._async import HealthServicer as AsyncHealthServicer


class NoOpUgc(ugc_pb2_grpc.UgcServiceServicer):
    async def RecordPlaybackEvents(
        self, request: ugc_pb2.RecordPlaybackEventsRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> ugc_pb2.RecordPlaybackEventsResponse:
        return ugc_pb2.RecordPlaybackEventsResponse()


async def serve(port: int) -> None:
    server = grpc.aio.server()
    # The stubs declare every RPC abstract; those not written here answer grpc's own UNIMPLEMENTED.
    ugc_pb2_grpc.add_UgcServiceServicer_to_server(NoOpUgc(), server)  # type: ignore[abstract]
    checks = AsyncHealthServicer()
    await checks.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.noop_ugc", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="gRPC port on 127.0.0.1")
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
