"""Composition root of the UGC service. Its RPCs arrive with the UGC work; today it serves health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc

from meshkit.server import GrpcService
from ugc_svc.settings import UgcSettings

SERVICE_NAME: str = ugc_pb2.DESCRIPTOR.services_by_name["UgcService"].full_name


@contextlib.asynccontextmanager
async def build(settings: UgcSettings) -> AsyncIterator[Sequence[GrpcService]]:
    servicer = ugc_pb2_grpc.UgcServiceServicer()
    yield [GrpcService(SERVICE_NAME, lambda server: ugc_pb2_grpc.add_UgcServiceServicer_to_server(servicer, server))]
