"""The gRPC servicer of `cinemesh.ugc.v1.UgcService`: who calls, what they sent, which use case runs.

Errors map to status codes through meshkit's one table. Operations whose store has not landed answer UNIMPLEMENTED
(listed in ugc_svc/README.md). Progress is read from the resume positions the projection writes from the event log:
a report shows up a moment after the bus took it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC

from cinemesh.ugc.v1 import ugc_pb2, ugc_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from meshkit.caller import Context, caller_user_id
from meshkit.errors import FieldViolation, InvalidArgument
from ugc_svc.domain.event_batch import SubmittedEvent
from ugc_svc.domain.favourites import Favourite
from ugc_svc.domain.ratings import Rating
from ugc_svc.domain.resume import ResumePosition
from ugc_svc.ports.event_publisher import EventPublisher
from ugc_svc.ports.favourites import Favourites
from ugc_svc.ports.rating_log import RatingLog
from ugc_svc.ports.ratings import Ratings
from ugc_svc.ports.resume_positions import ResumePositions
from ugc_svc.service_layer.favourites import add_favourite, list_favourites, remove_favourite
from ugc_svc.service_layer.progress import ProgressReport, get_progress, list_progress, set_progress
from ugc_svc.service_layer.ratings import list_ratings, movie_rating, remove_rating, set_rating
from ugc_svc.service_layer.record_events import record_playback_events

SERVICE_NAME: str = ugc_pb2.DESCRIPTOR.services_by_name["UgcService"].full_name


class UgcServicer(ugc_pb2_grpc.UgcServiceServicer):
    def __init__(
        self,
        publisher: EventPublisher,
        favourites: Favourites,
        positions: ResumePositions,
        rating_log: RatingLog,
        ratings: Ratings,
    ) -> None:
        self._publisher = publisher
        self._favourites = favourites
        self._positions = positions
        self._rating_log = rating_log
        self._ratings = ratings

    async def RecordPlaybackEvents(
        self, request: ugc_pb2.RecordPlaybackEventsRequest, context: Context
    ) -> ugc_pb2.RecordPlaybackEventsResponse:
        user_id = caller_user_id(context)
        event_ids = await record_playback_events(
            [submitted_event(event) for event in request.events], user_id=user_id, publisher=self._publisher
        )
        return ugc_pb2.RecordPlaybackEventsResponse(event_ids=event_ids)

    async def SetProgress(self, request: ugc_pb2.SetProgressRequest, context: Context) -> ugc_pb2.SetProgressResponse:
        user_id = caller_user_id(context)
        report = ProgressReport(
            movie_id=request.movie_id,
            position_ms=request.position_ms,
            duration_ms=request.duration_ms or None,  # 0: the player did not say
            finished=request.finished,
            client_time=request.client_time.ToDatetime(tzinfo=UTC) if request.HasField("client_time") else None,
            device=request.device if request.HasField("device") else None,
        )
        position = await set_progress(report, user_id=user_id, publisher=self._publisher, positions=self._positions)
        return ugc_pb2.SetProgressResponse(progress=progress_message(position))

    async def GetProgress(self, request: ugc_pb2.GetProgressRequest, context: Context) -> ugc_pb2.GetProgressResponse:
        user_id = caller_user_id(context)
        position = await get_progress(request.movie_id, user_id=user_id, positions=self._positions)
        return ugc_pb2.GetProgressResponse(progress=progress_message(position))

    async def ListProgress(
        self, request: ugc_pb2.ListProgressRequest, context: Context
    ) -> ugc_pb2.ListProgressResponse:
        user_id = caller_user_id(context)
        limit = request.page_size if request.HasField("page_size") else None
        with _fields_named_as_sent(_PAGE_FIELDS):
            page = await list_progress(
                user_id=user_id, positions=self._positions, limit=limit, cursor=request.page_token
            )
        return ugc_pb2.ListProgressResponse(
            items=[progress_message(position) for position in page.items], next_page_token=page.next_cursor or ""
        )

    async def AddFavorite(self, request: ugc_pb2.AddFavoriteRequest, context: Context) -> ugc_pb2.AddFavoriteResponse:
        user_id = caller_user_id(context)
        favourite = await add_favourite(request.movie_id, user_id=user_id, favourites=self._favourites)
        return ugc_pb2.AddFavoriteResponse(favorite=favorite_message(favourite))

    async def RemoveFavorite(
        self, request: ugc_pb2.RemoveFavoriteRequest, context: Context
    ) -> ugc_pb2.RemoveFavoriteResponse:
        user_id = caller_user_id(context)
        await remove_favourite(request.movie_id, user_id=user_id, favourites=self._favourites)
        return ugc_pb2.RemoveFavoriteResponse()

    async def ListFavorites(
        self, request: ugc_pb2.ListFavoritesRequest, context: Context
    ) -> ugc_pb2.ListFavoritesResponse:
        user_id = caller_user_id(context)
        limit = request.page_size if request.HasField("page_size") else None
        with _fields_named_as_sent(_PAGE_FIELDS):
            page = await list_favourites(
                user_id=user_id, favourites=self._favourites, limit=limit, cursor=request.page_token
            )
        return ugc_pb2.ListFavoritesResponse(
            items=[favorite_message(favourite) for favourite in page.items], next_page_token=page.next_cursor or ""
        )

    async def SetRating(self, request: ugc_pb2.SetRatingRequest, context: Context) -> ugc_pb2.SetRatingResponse:
        user_id = caller_user_id(context)
        rating = await set_rating(request.movie_id, request.score, user_id=user_id, log=self._rating_log)
        return ugc_pb2.SetRatingResponse(rating=rating_message(rating))

    async def DeleteRating(
        self, request: ugc_pb2.DeleteRatingRequest, context: Context
    ) -> ugc_pb2.DeleteRatingResponse:
        user_id = caller_user_id(context)
        await remove_rating(request.movie_id, user_id=user_id, log=self._rating_log)
        return ugc_pb2.DeleteRatingResponse()

    async def ListRatings(self, request: ugc_pb2.ListRatingsRequest, context: Context) -> ugc_pb2.ListRatingsResponse:
        user_id = caller_user_id(context)
        limit = request.page_size if request.HasField("page_size") else None
        with _fields_named_as_sent(_PAGE_FIELDS):
            page = await list_ratings(user_id=user_id, ratings=self._ratings, limit=limit, cursor=request.page_token)
        return ugc_pb2.ListRatingsResponse(
            items=[rating_message(rating) for rating in page.items], next_page_token=page.next_cursor or ""
        )

    async def GetMovieRating(
        self, request: ugc_pb2.GetMovieRatingRequest, context: Context
    ) -> ugc_pb2.GetMovieRatingResponse:
        # Public: no caller needed.
        summary = await movie_rating(request.movie_id, ratings=self._ratings)
        return ugc_pb2.GetMovieRatingResponse(movie_id=summary.movie_id, average=summary.average, count=summary.count)


# The port names a page by `limit` and `cursor`; the client sent `page_size` and `page_token`. A cursor is
# refused for one reason only, that no page of this list returned it: the id the OpenAPI document lists that rule
# under (`x-message-rules`, devstack/contracts/openapi.py).
_PAGE_FIELDS = {"limit": ("page_size", None), "cursor": ("page_token", "page_token.issued")}


@contextlib.contextmanager
def _fields_named_as_sent(names: Mapping[str, tuple[str, str | None]]) -> Iterator[None]:
    """Renames the fields of an InvalidArgument raised inside to those of the request, so a refusal names what the
    client can change."""
    try:
        yield
    except InvalidArgument as refused:
        raise InvalidArgument(*(_as_sent(v, names) for v in refused.violations)) from None


def _as_sent(violation: FieldViolation, names: Mapping[str, tuple[str, str | None]]) -> FieldViolation:
    if violation.field not in names:
        return violation
    field, reason = names[violation.field]
    return dataclasses.replace(violation, field=field, reason=reason or violation.reason)


def favorite_message(favourite: Favourite) -> ugc_pb2.Favorite:
    added_at = Timestamp()
    added_at.FromDatetime(favourite.added_at)
    return ugc_pb2.Favorite(movie_id=favourite.movie_id, added_at=added_at)


def rating_message(rating: Rating) -> ugc_pb2.Rating:
    updated_at = Timestamp()
    updated_at.FromDatetime(rating.updated_at)
    return ugc_pb2.Rating(movie_id=rating.movie_id, score=rating.score, updated_at=updated_at)


# Progress carries int32 milliseconds (24.8 days): a longer position reads as the largest one.
_INT32_MAX = 2**31 - 1


def progress_message(position: ResumePosition) -> ugc_pb2.Progress:
    updated_at = Timestamp()
    updated_at.FromDatetime(position.client_time)
    return ugc_pb2.Progress(
        movie_id=position.movie_id,
        position_ms=min(position.position_ms, _INT32_MAX),
        duration_ms=min(position.duration_ms or 0, _INT32_MAX),
        finished=position.finished,
        updated_at=updated_at,
        device=position.device,
    )


def submitted_event(event: ugc_pb2.PlaybackEvent) -> SubmittedEvent:
    return SubmittedEvent(
        event_id=event.event_id,
        movie_id=event.movie_id,
        type=event.type,
        position_ms=event.position_ms,
        client_time=event.client_time.ToDatetime(tzinfo=UTC) if event.HasField("client_time") else None,
        device=event.device if event.HasField("device") else None,
        session_id=event.session_id if event.HasField("session_id") else None,
    )
