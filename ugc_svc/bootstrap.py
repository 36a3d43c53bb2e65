"""Composition root of the UGC service: settings in, wired servicers out. It will pick each port's adapter from
the profile, as `search_svc.bootstrap` does; the contract has no RPCs yet, so it wires the servicer alone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from cinemesh.ugc.v1 import ugc_pb2_grpc

from meshkit.server import GrpcService
from ugc_svc.entrypoints.grpc_servicer import SERVICE_NAME, UgcServicer
from ugc_svc.settings import UgcSettings


@contextlib.asynccontextmanager
async def build(settings: UgcSettings) -> AsyncIterator[Sequence[GrpcService]]:
    servicer = UgcServicer()
    yield [GrpcService(SERVICE_NAME, lambda server: ugc_pb2_grpc.add_UgcServiceServicer_to_server(servicer, server))]
