"""The UGC servicer's ratings: a set or removal goes on the ratings log for the caller only; what the projection
applied is read back as messages; the public average needs no caller."""

from __future__ import annotations

from datetime import UTC

import pytest
from cinemesh.ugc.v1 import ugc_pb2

from meshkit.errors import InvalidArgument, Unauthenticated, Unavailable
from tests.unit.fakes_event_publisher import FakeEventPublisher
from tests.unit.fakes_favourites import FakeFavourites
from tests.unit.fakes_ratings import FakeRatingLog, FakeRatings
from tests.unit.fakes_resume_positions import FakeResumePositions
from tests.unit.test_caller import Metadata
from ugc_svc.entrypoints.grpc_servicer import UgcServicer

AS_ALICE = Metadata(("x-user-id", "alice"))
AS_BOB = Metadata(("x-user-id", "bob"))


def servicer() -> tuple[UgcServicer, FakeRatingLog, FakeRatings]:
    log, store = FakeRatingLog(), FakeRatings()
    return UgcServicer(FakeEventPublisher(), FakeFavourites(), FakeResumePositions(), log, store), log, store


async def project(log: FakeRatingLog, store: FakeRatings) -> None:
    """What the projection does: each appended change at its offset, in order."""
    for offset, request in enumerate(log.appended):
        await store.apply(request.at(offset))


async def test_a_set_rating_goes_on_the_log_for_the_caller_and_answers_what_will_be_applied() -> None:
    service, log, _ = servicer()

    reply = await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=8), AS_ALICE)  # type: ignore[arg-type]

    (request,) = log.appended
    assert (request.user_id, request.movie_id, request.score) == ("alice", "tt1", 8)
    assert (reply.rating.movie_id, reply.rating.score) == ("tt1", 8)
    assert reply.rating.updated_at.ToDatetime(tzinfo=UTC) == request.changed_at


async def test_ratings_applied_are_listed_for_their_user_and_summed_per_movie() -> None:
    service, log, store = servicer()
    await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=8), AS_ALICE)  # type: ignore[arg-type]
    await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=5), AS_BOB)  # type: ignore[arg-type]
    await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt2", score=0), AS_ALICE)  # type: ignore[arg-type]
    await service.DeleteRating(ugc_pb2.DeleteRatingRequest(movie_id="tt2"), AS_ALICE)  # type: ignore[arg-type]
    await project(log, store)

    mine = await service.ListRatings(ugc_pb2.ListRatingsRequest(), AS_ALICE)  # type: ignore[arg-type]
    summary = await service.GetMovieRating(ugc_pb2.GetMovieRatingRequest(movie_id="tt1"), Metadata())  # type: ignore[arg-type]

    assert [(item.movie_id, item.score) for item in mine.items] == [("tt1", 8)]
    assert (summary.count, summary.average) == (2, 6.5)


async def test_a_movie_nobody_rated_has_no_average_at_all() -> None:
    service, _, _ = servicer()
    summary = await service.GetMovieRating(ugc_pb2.GetMovieRatingRequest(movie_id="tt9"), Metadata())  # type: ignore[arg-type]
    assert (summary.movie_id, summary.count, summary.HasField("average")) == ("tt9", 0, False)


async def test_no_user_is_unauthenticated_and_appends_nothing() -> None:
    service, log, _ = servicer()
    with pytest.raises(Unauthenticated):
        await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=3), Metadata())  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        await service.DeleteRating(ugc_pb2.DeleteRatingRequest(movie_id="tt1"), Metadata())  # type: ignore[arg-type]
    assert log.appended == []


async def test_a_score_out_of_range_is_refused_before_the_log() -> None:
    service, log, _ = servicer()
    with pytest.raises(InvalidArgument) as refused:
        await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=11), AS_ALICE)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == ["score"]
    assert log.appended == []


async def test_a_bus_that_is_down_is_unavailable_to_the_client() -> None:
    service, log, _ = servicer()
    log.unavailable = True
    with pytest.raises(Unavailable):
        await service.SetRating(ugc_pb2.SetRatingRequest(movie_id="tt1", score=3), AS_ALICE)  # type: ignore[arg-type]


async def test_a_foreign_page_token_names_the_field_sent() -> None:
    service, _, _ = servicer()
    with pytest.raises(InvalidArgument) as refused:
        await service.ListRatings(ugc_pb2.ListRatingsRequest(page_token="abc"), AS_ALICE)  # type: ignore[arg-type]
    assert [(v.field, v.reason) for v in refused.value.violations] == [("page_token", "page_token.issued")]
