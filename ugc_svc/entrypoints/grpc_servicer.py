"""The gRPC servicer of `cinemesh.ugc.v1.UgcService`."""

from __future__ import annotations

from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc

SERVICE_NAME: str = ugc_pb2.DESCRIPTOR.services_by_name["UgcService"].full_name


class UgcServicer(ugc_pb2_grpc.UgcServiceServicer):
    """The contract declares no RPCs yet; the server already carries the service for health and reflection."""
