"""The gRPC servicer of `cinemesh.analytics.v1.AnalyticsService`: the analytics store's reads, for the gateway.

Requests arrive checked against their contract rules (meshkit's interceptor); errors map to status codes through
meshkit's one table.
"""

from __future__ import annotations

from cinemesh.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from meshkit.caller import Context, caller_user_id
from sink_svc.ports.playback_analytics import PlaybackAnalytics

SERVICE_NAME: str = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
DEFAULT_TOP_MOVIES = 10
DEFAULT_HISTORY = 20


def timestamp(millis: int) -> Timestamp:
    return Timestamp(seconds=millis // 1000, nanos=millis % 1000 * 1_000_000)


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, analytics: PlaybackAnalytics) -> None:
        self._analytics = analytics

    async def ListTopMovies(
        self, request: analytics_pb2.ListTopMoviesRequest, context: Context
    ) -> analytics_pb2.ListTopMoviesResponse:
        # `from` is a Python keyword: the generated message has the field, only not as an attribute name.
        start: int = getattr(request, "from")
        limit = request.limit if request.HasField("limit") else DEFAULT_TOP_MOVIES
        movies = await self._analytics.top_movies(start, request.to, limit)
        return analytics_pb2.ListTopMoviesResponse(
            items=[analytics_pb2.MovieWatchTime(movie_id=m.movie_id, watched_ms=m.watched_ms) for m in movies]
        )

    async def ListWatchHistory(
        self, request: analytics_pb2.ListWatchHistoryRequest, context: Context
    ) -> analytics_pb2.ListWatchHistoryResponse:
        user_id = caller_user_id(context)
        limit = request.limit if request.HasField("limit") else DEFAULT_HISTORY
        entries = await self._analytics.watch_history(user_id, limit)
        return analytics_pb2.ListWatchHistoryResponse(
            items=[
                analytics_pb2.HistoryItem(
                    movie_id=entry.movie_id,
                    watched_ms=entry.watched_ms,
                    last_position_ms=entry.last_position_ms,
                    last_seen=timestamp(entry.last_seen_ms),
                )
                for entry in entries
            ]
        )

    async def GetMovieWatchTotals(
        self, request: analytics_pb2.GetMovieWatchTotalsRequest, context: Context
    ) -> analytics_pb2.GetMovieWatchTotalsResponse:
        (totals,) = await self._analytics.movie_totals([request.movie_id])
        return analytics_pb2.GetMovieWatchTotalsResponse(
            movie_id=totals.movie_id, watched_ms=totals.watched_ms, viewers=totals.viewers
        )
