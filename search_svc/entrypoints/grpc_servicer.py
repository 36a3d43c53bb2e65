"""gRPC face of the search service: validate, call the domain, answer. Errors map through meshkit."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TypeAlias

import grpc
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from meshkit.errors import InvalidArgument, Unimplemented
from search_svc.domain.client_info import ClientInfo, Software, describe_client
from search_svc.domain.video_query import video_query
from search_svc.ports.user_agent_parser import UserAgentParser

SERVICE_NAME: str = search_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name

# Set by the gateway from the TCP peer it accepted, overwriting anything a client sent.
CLIENT_IP_HEADER = "x-client-ip"

Context: TypeAlias = "grpc.aio.ServicerContext[object, object]"


class SearchServicer(search_pb2_grpc.SearchServiceServicer):
    def __init__(self, user_agents: UserAgentParser) -> None:
        self._user_agents = user_agents

    async def ListVideos(
        self, request: search_pb2.ListVideosRequest, context: Context
    ) -> search_pb2.ListVideosResponse:
        video_query(
            limit=request.limit if request.HasField("limit") else None,
            page=request.page if request.HasField("page") else None,
            search=request.search,
            sort=request.sort,
            sort_order=request.sort_order,
        )
        raise Unimplemented("the catalogue is not served yet")

    async def GetVideo(self, request: search_pb2.GetVideoRequest, context: Context) -> search_pb2.GetVideoResponse:
        if not request.id.strip():
            raise InvalidArgument.of("id", "must not be empty")
        raise Unimplemented("the catalogue is not served yet")

    async def GetClientInfo(
        self, request: search_pb2.GetClientInfoRequest, context: Context
    ) -> search_pb2.GetClientInfoResponse:
        metadata = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
        user_agent = metadata.get("user-agent", "")
        ip = _valid_ip(metadata.get(CLIENT_IP_HEADER, "")) or _peer_ip(context.peer())
        parsed = await asyncio.to_thread(self._user_agents.parse, user_agent)
        return _client_info_message(describe_client(user_agent, ip, parsed))


def _client_info_message(info: ClientInfo) -> search_pb2.GetClientInfoResponse:
    return search_pb2.GetClientInfoResponse(
        user_agent=info.user_agent,
        ip=info.ip,
        device_class=info.device_class.value,
        os=_software(info.os),
        browser=_software(info.browser),
    )


def _software(software: Software) -> search_pb2.Software:
    return search_pb2.Software(name=software.name, version=software.version)


def _valid_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


def _peer_ip(peer: str) -> str:
    """grpc peers look like 'ipv4:127.0.0.1:5000' or 'ipv6:[::1]:5000'; anything else has no IP."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return _valid_ip(rest.rpartition(":")[0])
    if kind == "ipv6":
        return _valid_ip(rest.rpartition(":")[0].strip("[]"))
    return ""
