from __future__ import annotations

import pytest
from cinemesh.search.v1 import search_pb2

from meshkit.errors import InvalidArgument, NotFound
from search_svc.domain.client_info import ParsedUserAgent
from search_svc.domain.movie import Actor, Movie, Writer
from search_svc.domain.video_query import DEFAULT_LIMIT, SortField, SortOrder
from search_svc.entrypoints.grpc_servicer import SearchServicer
from tests.unit.fake_search_index import FakeSearchIndex

DUNE = Movie(
    "tt1", "Дюна", "Пески Арракиса.", 8.0, ("Sci-Fi", "Drama"), ("Дени Вильнёв",),
    (Actor(7, "Тимоти Шаламе"),), (Writer("w1", "Фрэнк Герберт"),),
)  # fmt: skip
UNRATED = Movie("tt2", "Дюны", genre=("Drama",))


class NoParser:
    def parse(self, user_agent: str) -> ParsedUserAgent:
        return ParsedUserAgent()


@pytest.fixture
def index() -> FakeSearchIndex:
    return FakeSearchIndex([DUNE, UNRATED])


@pytest.fixture
def servicer(index: FakeSearchIndex) -> SearchServicer:
    return SearchServicer(index, NoParser())


async def test_listing_maps_the_page_and_echoes_page_and_limit(servicer: SearchServicer) -> None:
    reply = await servicer.ListVideos(search_pb2.ListVideosRequest(), None)  # type: ignore[arg-type]
    assert [(i.id, i.title) for i in reply.items] == [("tt1", "Дюна"), ("tt2", "Дюны")]
    assert (reply.total, reply.page, reply.limit) == (2, 1, DEFAULT_LIMIT)
    assert [(g.genre, g.count) for g in reply.genres] == [("Drama", 2), ("Sci-Fi", 1)]


async def test_a_repaired_search_is_passed_on_and_absent_otherwise(
    servicer: SearchServicer, index: FakeSearchIndex
) -> None:
    reply = await servicer.ListVideos(search_pb2.ListVideosRequest(search="Дюна"), None)  # type: ignore[arg-type]
    assert not reply.HasField("repaired_search")
    index.repaired_search = "Дюна"
    reply = await servicer.ListVideos(search_pb2.ListVideosRequest(search="Lbyf"), None)  # type: ignore[arg-type]
    assert reply.repaired_search == "Дюна"


async def test_an_unknown_rating_is_absent_not_zero(servicer: SearchServicer) -> None:
    reply = await servicer.ListVideos(search_pb2.ListVideosRequest(), None)  # type: ignore[arg-type]
    assert reply.items[0].HasField("imdb_rating")
    assert reply.items[0].imdb_rating == 8.0
    assert not reply.items[1].HasField("imdb_rating")


async def test_listing_parameters_reach_the_index_validated(servicer: SearchServicer, index: FakeSearchIndex) -> None:
    request = search_pb2.ListVideosRequest(
        limit=5, page=2, search="  дюна ", sort="imdb_rating", sort_order="desc", genre=["Drama", "Drama"],
        min_rating=7.5,
    )  # fmt: skip
    await servicer.ListVideos(request, None)  # type: ignore[arg-type]
    (query,) = index.queries
    assert (query.text, query.limit, query.page, query.offset) == ("дюна", 5, 2, 5)
    assert (query.sort, query.order) == (SortField.IMDB_RATING, SortOrder.DESC)
    assert (query.genres, query.min_rating, query.max_rating) == (("Drama",), 7.5, None)


async def test_a_bad_listing_never_reaches_the_index(servicer: SearchServicer, index: FakeSearchIndex) -> None:
    with pytest.raises(InvalidArgument):
        await servicer.ListVideos(search_pb2.ListVideosRequest(limit=0), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument) as too_deep:
        await servicer.ListVideos(search_pb2.ListVideosRequest(limit=100, page=101), None)  # type: ignore[arg-type]
    assert too_deep.value.violations[0].field == "page"
    with pytest.raises(InvalidArgument):
        await servicer.ListVideos(search_pb2.ListVideosRequest(min_rating=9, max_rating=2), None)  # type: ignore[arg-type]
    assert index.queries == []


async def test_the_card_carries_every_field(servicer: SearchServicer) -> None:
    card = await servicer.GetVideo(search_pb2.GetVideoRequest(id="tt1"), None)  # type: ignore[arg-type]
    assert (card.id, card.title, card.description, card.imdb_rating) == ("tt1", "Дюна", "Пески Арракиса.", 8.0)
    assert list(card.genre) == ["Sci-Fi", "Drama"]
    assert list(card.director) == ["Дени Вильнёв"]
    assert [(a.id, a.name) for a in card.actors] == [(7, "Тимоти Шаламе")]
    assert [(w.id, w.name) for w in card.writers] == [("w1", "Фрэнк Герберт")]


async def test_an_unknown_id_is_not_found(servicer: SearchServicer) -> None:
    with pytest.raises(NotFound, match="tt404"):
        await servicer.GetVideo(search_pb2.GetVideoRequest(id="tt404"), None)  # type: ignore[arg-type]


@pytest.mark.parametrize("movie_id", ["", "   ", "x" * 65])
async def test_a_malformed_id_is_invalid(servicer: SearchServicer, movie_id: str) -> None:
    with pytest.raises(InvalidArgument):
        await servicer.GetVideo(search_pb2.GetVideoRequest(id=movie_id), None)  # type: ignore[arg-type]


async def test_suggestions(servicer: SearchServicer, index: FakeSearchIndex) -> None:
    reply = await servicer.SuggestTitles(search_pb2.SuggestTitlesRequest(query="дю", limit=1), None)  # type: ignore[arg-type]
    assert [i.id for i in reply.items] == ["tt1"]
    assert index.suggestions[0].limit == 1
    with pytest.raises(InvalidArgument):
        await servicer.SuggestTitles(search_pb2.SuggestTitlesRequest(query=" "), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        await servicer.SuggestTitles(search_pb2.SuggestTitlesRequest(query="x", limit=21), None)  # type: ignore[arg-type]
