"""The UGC servicer's favourites: the user from the header only, the store's entries as messages, and a refused
page naming the request's own fields (`page_size`, `page_token`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cinemesh.ugc.v1 import ugc_pb2

from meshkit.errors import InvalidArgument, Unauthenticated
from tests.unit.fakes_event_publisher import FakeEventPublisher
from tests.unit.fakes_favourites import FakeFavourites
from tests.unit.fakes_ratings import FakeRatingLog, FakeRatings
from tests.unit.fakes_resume_positions import FakeResumePositions
from tests.unit.test_caller import Metadata
from ugc_svc.domain.favourites import Favourite
from ugc_svc.entrypoints.grpc_servicer import UgcServicer

AS_ALICE = Metadata(("x-user-id", "alice"))


def servicer() -> tuple[UgcServicer, FakeFavourites]:
    store = FakeFavourites()
    return UgcServicer(FakeEventPublisher(), store, FakeResumePositions(), FakeRatingLog(), FakeRatings()), store


async def test_add_answers_the_kept_entry_for_the_caller_as_a_message() -> None:
    service, store = servicer()
    kept = Favourite("alice", "tt1", datetime(2026, 12, 1, 12, 0, 0, 250_000, tzinfo=UTC))
    store.entries[("alice", "tt1")] = kept

    reply = await service.AddFavorite(ugc_pb2.AddFavoriteRequest(movie_id="tt1"), AS_ALICE)  # type: ignore[arg-type]

    assert reply.favorite.movie_id == "tt1"
    assert reply.favorite.added_at.ToDatetime(tzinfo=UTC) == kept.added_at
    assert list(store.entries) == [("alice", "tt1")]


async def test_list_and_remove_act_for_the_caller_only() -> None:
    service, store = servicer()
    for user_id in ("alice", "bob"):
        await service.AddFavorite(ugc_pb2.AddFavoriteRequest(movie_id="tt1"), Metadata(("x-user-id", user_id)))  # type: ignore[arg-type]

    await service.RemoveFavorite(ugc_pb2.RemoveFavoriteRequest(movie_id="tt1"), AS_ALICE)  # type: ignore[arg-type]

    mine = await service.ListFavorites(ugc_pb2.ListFavoritesRequest(), AS_ALICE)  # type: ignore[arg-type]
    assert list(mine.items) == []
    assert mine.next_page_token == ""
    assert list(store.entries) == [("bob", "tt1")]


async def test_a_page_is_the_next_page_token_and_the_items_newest_first() -> None:
    service, _ = servicer()
    for movie in ("tt1", "tt2", "tt3"):
        await service.AddFavorite(ugc_pb2.AddFavoriteRequest(movie_id=movie), AS_ALICE)  # type: ignore[arg-type]

    first = await service.ListFavorites(ugc_pb2.ListFavoritesRequest(page_size=2), AS_ALICE)  # type: ignore[arg-type]
    request = ugc_pb2.ListFavoritesRequest(page_size=2, page_token=first.next_page_token)
    second = await service.ListFavorites(request, AS_ALICE)  # type: ignore[arg-type]

    assert [item.movie_id for item in [*first.items, *second.items]] == ["tt3", "tt2", "tt1"]
    assert second.next_page_token == ""


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ugc_pb2.ListFavoritesRequest(page_token="abc"), "page_token"),
        (ugc_pb2.ListFavoritesRequest(page_size=0), "page_size"),
    ],
)
async def test_a_refused_page_names_the_field_the_client_sent(
    request_: ugc_pb2.ListFavoritesRequest, field: str
) -> None:
    service, _ = servicer()
    with pytest.raises(InvalidArgument) as refused:
        await service.ListFavorites(request_, AS_ALICE)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == [field]
    if field == "page_token":
        assert [v.reason for v in refused.value.violations] == ["page_token.issued"]


async def test_no_user_is_unauthenticated_and_touches_nothing() -> None:
    service, store = servicer()
    with pytest.raises(Unauthenticated):
        await service.AddFavorite(ugc_pb2.AddFavoriteRequest(movie_id="tt1"), Metadata())  # type: ignore[arg-type]
    assert store.entries == {}
