"""gRPC face of the search service: validate, call the domain and the index port, answer.

Errors map to status codes through meshkit's one table; nothing here knows which engine answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TypeAlias

import grpc
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from meshkit.errors import InvalidArgument, NotFound
from search_svc.domain.client_info import ClientInfo, Software, describe_client
from search_svc.domain.movie import Movie, VideoPage, VideoSummary
from search_svc.domain.video_query import VideoQuery, suggest_query, video_query
from search_svc.ports.search_index import SearchIndex
from search_svc.ports.user_agent_parser import UserAgentParser

SERVICE_NAME: str = search_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name

# Set by the gateway from the TCP peer it accepted, overwriting anything a client sent.
CLIENT_IP_HEADER = "x-client-ip"
MAX_ID_CHARS = 64

Context: TypeAlias = "grpc.aio.ServicerContext[object, object]"


class SearchServicer(search_pb2_grpc.SearchServiceServicer):
    def __init__(self, index: SearchIndex, user_agents: UserAgentParser) -> None:
        self._index = index
        self._user_agents = user_agents

    async def ListVideos(
        self, request: search_pb2.ListVideosRequest, context: Context
    ) -> search_pb2.ListVideosResponse:
        query = listing_query(request)
        page = await self._index.search(query)
        return _listing(page, query.page, query.limit)

    async def GetVideo(self, request: search_pb2.GetVideoRequest, context: Context) -> search_pb2.GetVideoResponse:
        movie_id = request.id.strip()
        if not movie_id:
            raise InvalidArgument.of("id", "must not be empty")
        if len(movie_id) > MAX_ID_CHARS:
            raise InvalidArgument.of("id", f"must be at most {MAX_ID_CHARS} characters")
        movie = await self._index.get(movie_id)
        if movie is None:
            raise NotFound(f"no movie with id {movie_id!r}")
        return _card(movie)

    async def SuggestTitles(
        self, request: search_pb2.SuggestTitlesRequest, context: Context
    ) -> search_pb2.SuggestTitlesResponse:
        query = suggest_query(query=request.query, limit=request.limit if request.HasField("limit") else None)
        found = await self._index.suggest(query)
        return search_pb2.SuggestTitlesResponse(items=[_summary(item) for item in found[: query.limit]])

    async def GetClientInfo(
        self, request: search_pb2.GetClientInfoRequest, context: Context
    ) -> search_pb2.GetClientInfoResponse:
        metadata = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
        user_agent = metadata.get("user-agent", "")
        ip = _valid_ip(metadata.get(CLIENT_IP_HEADER, "")) or _peer_ip(context.peer())
        parsed = await asyncio.to_thread(self._user_agents.parse, user_agent)
        return _client_info_message(describe_client(user_agent, ip, parsed))


def listing_query(request: search_pb2.ListVideosRequest) -> VideoQuery:
    """The domain's reading of a listing request: absent optional fields are None, everything else as sent."""
    return video_query(
        limit=request.limit if request.HasField("limit") else None,
        page=request.page if request.HasField("page") else None,
        search=request.search,
        sort=request.sort,
        sort_order=request.sort_order,
        genres=request.genre,
        min_rating=request.min_rating if request.HasField("min_rating") else None,
        max_rating=request.max_rating if request.HasField("max_rating") else None,
    )


def _summary(item: VideoSummary) -> search_pb2.VideoSummary:
    message = search_pb2.VideoSummary(id=item.id, title=item.title)
    if item.imdb_rating is not None:
        message.imdb_rating = item.imdb_rating
    return message


def _listing(page: VideoPage, number: int, limit: int) -> search_pb2.ListVideosResponse:
    # Rows are added in place: building each row on its own and handing the list over copies every one of them
    # again (three times slower for a page of 50). An absent rating (None) leaves the field unset.
    listing = search_pb2.ListVideosResponse(
        total=page.total, page=number, limit=limit, repaired_search=page.repaired_search
    )
    add_item = listing.items.add
    for item in page.items:
        add_item(id=item.id, title=item.title, imdb_rating=item.imdb_rating)
    add_genre = listing.genres.add
    for genre in page.genres:
        add_genre(genre=genre.genre, count=genre.count)
    return listing


def _card(movie: Movie) -> search_pb2.GetVideoResponse:
    card = search_pb2.GetVideoResponse(
        id=movie.id,
        title=movie.title,
        description=movie.description,
        genre=movie.genre,
        director=movie.director,
        actors=[search_pb2.Actor(id=a.id, name=a.name) for a in movie.actors],
        writers=[search_pb2.Writer(id=w.id, name=w.name) for w in movie.writers],
    )
    if movie.imdb_rating is not None:
        card.imdb_rating = movie.imdb_rating
    return card


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
