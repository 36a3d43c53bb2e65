"""The legacy export, loaded by the ETL and served through the gateway: what apps get from the real, dirty data."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Mesh


@pytest.fixture(scope="module")
def http(mesh: Mesh) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mesh.base_url, timeout=10) as client:
        yield client


def all_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def test_the_whole_export_is_served(http: httpx.Client) -> None:
    body = http.get("/api/v1/video/collection", params={"limit": 100}).json()
    assert body["total"] == 999
    assert (body["page"], body["limit"], len(body["items"])) == (1, 100, 100)
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids)


def test_no_placeholder_reaches_any_listing(http: httpx.Client) -> None:
    seen = 0
    for page in range(1, 11):
        body = http.get("/api/v1/video/collection", params={"limit": 100, "page": page}).json()
        seen += len(body["items"])
        assert not [s for s in all_strings(body) if s.strip().upper() == "N/A"]
        for item in body["items"]:
            assert set(item) <= {"id", "title", "imdb_rating"}
            assert isinstance(item.get("imdb_rating", 0.0), float | int)
    assert seen == 999


def test_the_card_of_tt0112270(http: httpx.Client) -> None:
    card = http.get("/api/v1/video/get/tt0112270").json()
    assert set(card) == {"id", "title", "description", "imdb_rating", "genre", "director", "actors", "writers"}
    assert card["id"] == "tt0112270"
    writer_ids = [w["id"] for w in card["writers"]]
    assert len(writer_ids) == len(set(writer_ids)), "writers must be deduplicated"
    assert card["actors"], "the card names its actors"
    assert all(isinstance(a["id"], int) for a in card["actors"])
    assert "N/A" not in list(all_strings(card))


def test_no_placeholder_in_any_card(http: httpx.Client) -> None:
    ids: list[str] = []
    for page in range(1, 11):
        ids += [
            i["id"] for i in http.get("/api/v1/video/collection", params={"limit": 100, "page": page}).json()["items"]
        ]
    for movie_id in ids[::7]:
        card = http.get(f"/api/v1/video/get/{movie_id}").json()
        assert not [s for s in all_strings(card) if s.strip().upper() == "N/A"], movie_id
        assert "N/A" not in card["director"]


def test_search_finds_star_wars_and_facets_genres(http: httpx.Client) -> None:
    body = http.get("/api/v1/video/collection", params={"search": "star wars", "limit": 5}).json()
    assert body["items"], body
    assert "Star Wars" in body["items"][0]["title"]
    assert body["genres"], "facets come with a search"
    assert all(set(g) == {"genre", "count"} for g in body["genres"])


def test_filters_through_rest(http: httpx.Client) -> None:
    body = http.get(
        "/api/v1/video/collection",
        params=[("genre", "Drama"), ("genre", "Comedy"), ("min_rating", "8"), ("limit", "100")],
    ).json()
    assert body["total"] > 0
    assert all(item["imdb_rating"] >= 8 for item in body["items"])


def test_suggest_through_rest(http: httpx.Client) -> None:
    body = http.get("/api/v1/video/suggest", params={"query": "star w"}).json()
    assert body["items"]
    assert body["items"][0]["title"].lower().startswith("star wars")


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "page=0",
        "sort=aaa",
        "sort_order=neutral",
        "limit=aaa",
        "min_rating=11",
        "min_rating=9&max_rating=2",
        "&".join(f"genre=g{i}" for i in range(30)),
    ],
)
def test_bad_parameters_are_400_json(http: httpx.Client, query: str) -> None:
    reply = http.get(f"/api/v1/video/collection?{query}")
    assert reply.status_code == 400
    assert reply.json()["code"] == 3


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("harisson ford", "Harrison ford"),  # a typo, put as the catalogue spells the name
        ("ыефк цфкы", "Star Wars"),  # typed on the Russian layout
        ("zqxjv star wars", "star wars"),  # no movie holds the first word: left out
    ],
)
def test_a_repaired_search_says_what_it_showed(http: httpx.Client, typed: str, understood: str) -> None:
    body = http.get("/api/v1/video/collection", params={"search": typed, "limit": 5}).json()
    assert body["items"], body
    assert body["repaired_search"] == understood


def test_a_search_taken_as_typed_has_no_repair(http: httpx.Client) -> None:
    body = http.get("/api/v1/video/collection", params={"search": "harrison ford", "limit": 5}).json()
    assert body["items"], body
    assert "repaired_search" not in body
