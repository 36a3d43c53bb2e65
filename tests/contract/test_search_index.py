"""The SearchIndex and IndexLoader ports, one suite over every adapter: tantivy (embedded) and OpenSearch (devstack).

The cases are the promises of search_svc/ports/search_index.py, each on a movie of tests/contract/catalogue.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from meshkit.errors import FailedPrecondition
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader
from search_svc.adapters.opensearch_search_index import OpenSearchSearchIndex
from search_svc.adapters.tantivy_index_loader import TantivyIndexLoader
from search_svc.adapters.tantivy_search_index import TantivySearchIndex
from search_svc.domain.movie import Movie
from search_svc.domain.video_query import SortField, SortOrder, SuggestQuery, VideoQuery
from search_svc.ports.index_loader import IndexLoader
from search_svc.ports.search_index import SearchIndex
from tests.contract.catalogue import BY_ID, MOVIES

ADAPTERS = ["tantivy", "opensearch"]


def load(loader: IndexLoader, movies: tuple[Movie, ...]) -> None:
    version = loader.new_version()
    version.add(movies[: len(movies) // 2])
    version.add(movies[len(movies) // 2 :])
    version.publish(expected=len(movies))


def tantivy_pair(tmp: Path) -> tuple[IndexLoader, Callable[[], SearchIndex]]:
    return TantivyIndexLoader(tmp), lambda: TantivySearchIndex(tmp)


def opensearch_pair(url: str, alias: str) -> tuple[IndexLoader, Callable[[], SearchIndex]]:
    return OpenSearchIndexLoader(url, alias=alias), lambda: OpenSearchSearchIndex(url, alias=alias)


@pytest.fixture(params=ADAPTERS, scope="module")
def adapter(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[IndexLoader, Callable[[], SearchIndex]]]:
    if request.param == "tantivy":
        yield tantivy_pair(tmp_path_factory.mktemp("tantivy"))
        return
    url = request.getfixturevalue("opensearch").endpoints()["url"]
    alias = f"contract-{uuid.uuid4().hex[:8]}"
    yield opensearch_pair(url, alias)
    # The engine is shared with other runs and a developer's own data: leave it as found.
    with httpx.Client(base_url=url, timeout=30) as client:
        versions = client.get(f"/{alias}-*/_settings").raise_for_status().json()
        if versions:  # by name: Elasticsearch refuses wildcard deletes by default
            client.delete(f"/{','.join(versions)}").raise_for_status()


@pytest.fixture(scope="module")
async def index(adapter: tuple[IndexLoader, Callable[[], SearchIndex]]) -> AsyncIterator[SearchIndex]:
    loader, reader = adapter
    load(loader, MOVIES)
    opened = reader()
    try:
        yield opened
    finally:
        await opened.close()


def query(text: str = "", **overrides: object) -> VideoQuery:
    fields: dict[str, object] = {"text": text, "limit": 10, "page": 1, "sort": None, "order": SortOrder.ASC}
    fields.update(overrides)
    return VideoQuery(**fields)  # type: ignore[arg-type]


async def ids(index: SearchIndex, text: str = "", **overrides: object) -> list[str]:
    page = await index.search(query(text, **overrides))
    return [item.id for item in page.items]


# --- text: what the user meant --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "within"),
    [
        ("По лезвию бегущий", "m01", 1),  # word order, stop word, inflections
        ("Тирминатер", "m03", 1),  # two typos
        ("Xthyjt pthrfkj", "m05", 1),  # typed on the wrong layout, ё in the title
        ("Лукас войны", "m06", 1),  # director and title words together
        ("Джордж Лукас", "m06", 2),  # director alone
        ("черное зеркало", "m05", 1),  # е for ё
        ("терминатора", "m03", 1),  # Russian inflection
        ("blade runners", "m02", 1),  # English inflection
        ("ыефк цфкы", "m07", 1),  # Latin typed on the Russian layout
        ("елки", "m13", 1),  # ё in the title, е in the query
        ("Харрисон Форд", "m01", 2),  # actor
        ("replicant", "m02", 1),  # a word only in descriptions
        ("terminator", "m04", 1),
        # A typo that hides the word from its stemmer: "terminatro" is left whole, four edits from "termin".
        ("the terminatro", "m04", 1),
    ],
)
async def test_finds_what_the_user_meant(index: SearchIndex, text: str, expected: str, within: int) -> None:
    found = await ids(index, text)
    assert expected in found[:within], f"{text!r} → {found}"


@pytest.mark.parametrize(("text", "expected"), [("The The", "m09"), ("это", "m10"), ("It", "m11")])
async def test_stop_word_titles_are_found(index: SearchIndex, text: str, expected: str) -> None:
    assert (await ids(index, text))[:1] == [expected]


async def test_the_same_title_in_the_other_alphabet_follows_the_one_typed(index: SearchIndex) -> None:
    # «Терминатор» as typed, then "The Terminator", the same title as the English catalogue spells it (then
    # "Blade Runner", whose description says "terminate", a word of the same stem).
    assert (await ids(index, "терминатор"))[:2] == ["m03", "m04"]


async def test_a_title_holding_the_words_as_typed_in_order_ranks_first(index: SearchIndex) -> None:
    # The shorter title would win on its words alone; the other holds "night train" as a phrase.
    assert await ids(index, "night train") == ["m24", "m25"]


async def test_title_matches_rank_above_description_matches(index: SearchIndex) -> None:
    found = await ids(index, "бегущих")
    # «Бегущий по лезвию» by its title; «Лезвие» only through its description.
    assert found[:2] == ["m01", "m16"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("дни", "m19"),  # день: the dictionary's lemma, not Snowball's stem
        ("ребёнок", "m10"),  # «детей» in the description: another root, the same lemma
        ("Nthvbyfnh", "m03"),  # «терминатр»: the other keyboard layout and a typo
    ],
)
async def test_finds_forms_and_slips_the_stemmer_cannot(index: SearchIndex, text: str, expected: str) -> None:
    found = await ids(index, text)
    assert expected in found[:2], f"{text!r} → {found}"


async def test_a_short_name_one_edit_off_is_forgiven_beside_the_rest_of_the_name(index: SearchIndex) -> None:
    # "tom" for Tim: only Tim Roth's film holds every word; Eli Roth's would come in through the surname alone.
    page = await index.search(query("tom roth"))
    assert ([i.id for i in page.items], page.total) == (["m17"], 1)


async def test_a_name_weighs_the_same_in_a_long_credit_list_as_in_a_short_one(index: SearchIndex) -> None:
    # «Harbour Lights» credits seven people, «Quiet Pier» two: with BM25's length norm the stub came first. Equal
    # scores leave the two in id order.
    assert await ids(index, "Ruth Vance") == ["m21", "m22"]


async def test_a_name_weighs_more_in_the_part_where_it_is_rarer(index: SearchIndex) -> None:
    # Ann Keller directed «Harbour Lights» (the one film of hers among the directors) and appears in two others,
    # whose order is the fuller record's (`domain.completeness`).
    assert await ids(index, "Ann Keller") == ["m21", "m22", "m20"]


async def test_a_typo_as_typed_ranks_above_the_same_name_in_the_other_alphabet(index: SearchIndex) -> None:
    # "rot" is one edit from Roth in «Reservoir Dogs»; «Бешеные псы» credits «Тим Рот» exactly, in the other
    # alphabet, which counts less. A typo once weighed as little as the commonest word, and lost.
    assert (await ids(index, "tim rot"))[:2] == ["m17", "m23"]


async def test_in_the_fallback_a_typo_in_a_rare_title_word_outweighs_a_plot_word(index: SearchIndex) -> None:
    # No movie holds both words. «Терминатор» holds the first with a typo, in its title; «Лезвие» the second, as
    # typed, in its plot. A typo once scored flat, below any exact match.
    found = await ids(index, "Тирминатор вампиров")
    assert found[0] == "m03", found


async def test_when_no_movie_holds_every_word_the_ones_holding_most_come_first(index: SearchIndex) -> None:
    # No movie says 1977; «Звёздные войны» holds both other words, «Американские граффити» only «Лукас».
    found = await ids(index, "Лукас войны 1977")
    assert found[:2] == ["m06", "m08"]


async def test_in_the_fallback_a_word_may_match_spelled_in_the_other_alphabet(index: SearchIndex) -> None:
    # No movie holds «джордж» and "lucas" as typed. «Звёздные войны» and «Американские граффити» hold both once
    # "lucas" reads «лукас»; without that, George Lucas's "Star Wars" came first, on the rarer word alone.
    found = await ids(index, "джордж lucas")
    assert found[:2] == ["m06", "m08"], found


async def test_in_the_fallback_a_word_counts_the_same_in_either_layout(index: SearchIndex) -> None:
    # "blade runner" typed on the Russian layout, then «зеркало» typed right: no movie holds all three. "Blade Runner"
    # holds two words in the other layout's reading, the mirrors one as typed; the reading's lower weight once
    # halved the two words' count too, and the mirrors came first.
    found = await ids(index, "ишфву кгттук зеркало")
    assert found[0] == "m02", found


async def test_a_fully_described_movie_ranks_above_a_bare_record_of_the_same_words(index: SearchIndex) -> None:
    # «Comet Over Vale» is a title and a one-line note; «Comet Over Vale: Winter» has a director, writers,
    # a cast and a plot. On the words alone the shorter title scored more.
    assert (await ids(index, "comet over vale"))[:2] == ["m27", "m26"]


async def test_in_the_fallback_a_fully_described_movie_ranks_above_a_bare_record_of_as_many_words(
    index: SearchIndex,
) -> None:
    # No movie holds "qzxwvkj": both match the other two words, and on the words alone the shorter title scored more.
    assert (await ids(index, "kestrel dunmore qzxwvkj"))[:2] == ["s02", "s01"]


async def test_a_word_few_movies_hold_as_typed_may_still_be_a_typo(index: SearchIndex) -> None:
    # «Lantern Bay» credits a Carie, so "carie" was taken as typed and no movie held both words: the fallback listed
    # both movies, the one credit holding "carie" among them.
    assert await ids(index, "carie fisher") == ["m29"]


# --- text: how typos and names rank ---------------------------------------------------------------------------------


async def test_a_typo_in_a_name_is_looked_for_among_names_as_written(index: SearchIndex) -> None:
    # «Dry Creek Crossing» credits a Vera and a William: "wiliams" is one edit from the stem both names share
    # ("william"), and the fuller record came first, above the film of Vera Williams herself.
    page = await index.search(query("vera wiliams"))
    assert ([i.id for i in page.items], page.total) == (["r01"], 1)


async def test_a_name_many_credits_hold_as_typed_may_still_be_a_typo(index: SearchIndex) -> None:
    # Three credits hold a Dana, so "dana" was taken as typed, no movie held both words, and the fallback listed the
    # Danas beside Dane Corwin's film; OpenSearch looks beside every word and found his film alone.
    page = await index.search(query("dana corwin"))
    assert ([i.id for i in page.items], page.total) == (["r06"], 1)


async def test_a_typo_weighs_more_in_a_shorter_title_as_a_word_typed_right_does(index: SearchIndex) -> None:
    # A typo once scored flat whatever the title's length, and the two tied, left in id order.
    assert await ids(index, "brimstome") == ["r08", "r07"]


async def test_a_word_weighs_more_in_a_title_than_in_the_credits(index: SearchIndex) -> None:
    # A title word counts four times a name in the credits (2.7 times a director's), as on OpenSearch; tantivy once
    # weighed a director nearly as much as a title, and a longer title lost to the credit.
    assert await ids(index, "quenby") == ["r09", "r10"]


async def test_a_plot_word_is_matched_as_typed_not_through_a_typo(index: SearchIndex) -> None:
    # "snaw" is one edit from the "snow" of «Dry Creek Crossing»'s plot. Typos are looked for in titles and names
    # only: a plot holds many words, and a slip matching one of them found films by chance. No movie holds both
    # words, so the two holding "creek" are listed.
    page = await index.search(query("creek snaw"))
    assert (sorted(i.id for i in page.items), page.total) == (["r01", "r02"], 2)


async def test_one_word_found_is_enough_for_a_page(index: SearchIndex) -> None:
    page = await index.search(query("терминатор qzxwvkj"))
    assert "m03" in {i.id for i in page.items}
    assert page.total == len(page.items)


async def test_gibberish_finds_nothing(index: SearchIndex) -> None:
    page = await index.search(query("qzxwvkj ъъъыыы"))
    assert (page.items, page.total) == ((), 0)


# --- the search as understood ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("Тирминатер", "Терминатор"),  # two typos
        ("the terminatro", "the Terminator"),  # a typo the stemmer cannot see through; the stop word kept
        ("Xthyjt pthrfkj", "Чёрное зеркало"),  # the other keyboard layout, put as the catalogue spells it
        (",tueobq gj ktpdb.", "Бегущий по лезвию"),  # "," and "." are «б» and «ю» on the other layout
        ("ыефк цфкы", "Star Wars"),
        ("Nthvbyfnh", "Терминатор"),  # the other layout and a typo
        ("tom roth", "Tim roth"),  # a short name one edit off
        ("терминатор qzxwvkj", "терминатор"),  # the fallback: the word no movie holds left out
        ("Лукас войны 1977", "Лукас войны"),
    ],
)
async def test_a_repaired_search_says_how_it_was_understood(index: SearchIndex, text: str, understood: str) -> None:
    page = await index.search(query(text))
    assert page.repaired_search == understood, [i.id for i in page.items]


@pytest.mark.parametrize(
    "text",
    [
        "терминатора",  # an inflection
        "blade runners",
        "черное зеркало",  # е for ё
        "дни",  # a dictionary lemma («День сурка»)
        "ребёнок",  # a lemma in the description
        "По лезвию бегущий",  # word order and a stop word
        "Лукас войны",  # a director and a title word
        "джордж lucas",  # the fallback, both words matched, one spelled in the other alphabet
        "",  # no search
    ],
)
async def test_a_search_taken_as_typed_has_no_repair(index: SearchIndex, text: str) -> None:
    page = await index.search(query(text))
    assert page.items
    assert page.repaired_search is None


async def test_a_search_finding_nothing_has_no_repair(index: SearchIndex) -> None:
    page = await index.search(query("qzxwvkj ъъъыыы"))
    assert page.repaired_search is None


# --- listing, sorting, paging ---------------------------------------------------------------------------------------


async def test_without_text_lists_by_id(index: SearchIndex) -> None:
    page = await index.search(query(limit=100))
    assert [i.id for i in page.items] == sorted(BY_ID)
    assert page.total == len(MOVIES)
    down = await index.search(query(limit=100, order=SortOrder.DESC))
    assert [i.id for i in down.items] == sorted(BY_ID, reverse=True)


async def test_items_carry_title_and_rating(index: SearchIndex) -> None:
    page = await index.search(query(limit=100))
    for item in page.items:
        assert (item.title, item.imdb_rating) == (BY_ID[item.id].title, BY_ID[item.id].imdb_rating)


async def test_paging(index: SearchIndex) -> None:
    first = await ids(index, limit=5, page=1)
    second = await ids(index, limit=5, page=2)
    assert first + second == sorted(BY_ID)[:10]
    beyond = await index.search(query(limit=5, page=10))
    assert (beyond.items, beyond.total) == ((), len(MOVIES))


async def test_sort_by_title_ignores_case_and_yo(index: SearchIndex) -> None:
    titles = [BY_ID[i].title for i in await ids(index, limit=100, sort=SortField.TITLE)]
    assert titles == sorted(titles, key=lambda t: (t.lower().replace("ё", "е"), t))


async def test_sort_by_rating_puts_unrated_last_both_ways(index: SearchIndex) -> None:
    for order in SortOrder:
        found = await ids(index, limit=100, sort=SortField.IMDB_RATING, order=order)
        ratings = [BY_ID[i].imdb_rating for i in found]
        rated = [r for r in ratings if r is not None]
        assert ratings == rated + [None] * (len(ratings) - len(rated))
        assert rated == sorted(rated, reverse=order is SortOrder.DESC)
        # Ties by id ascending.
        for a, b in itertools.pairwise(found):
            if BY_ID[a].imdb_rating == BY_ID[b].imdb_rating:
                assert a < b


async def test_an_explicit_sort_overrides_relevance(index: SearchIndex) -> None:
    found = await ids(index, "Лукас", sort=SortField.IMDB_RATING, order=SortOrder.DESC)
    assert found == ["m06", "m08"]


# --- filters and facets ---------------------------------------------------------------------------------------------


async def test_genre_filter_is_any_of(index: SearchIndex) -> None:
    found = await ids(index, limit=100, genres=("Horror", "Documentary"))
    assert found == ["m09", "m10", "m11", "m16"]


async def test_rating_range_is_inclusive_and_excludes_unrated(index: SearchIndex) -> None:
    found = await ids(index, limit=100, min_rating=8.0, max_rating=8.1)
    assert found == ["m01", "m02", "m03", "m04", "m12"]


async def test_facets_ignore_the_genre_filter_but_keep_the_rest(index: SearchIndex) -> None:
    page = await index.search(query("Лукас", genres=("Comedy",)))
    assert [i.id for i in page.items] == ["m08"]
    assert page.total == 1
    facets = {f.genre: f.count for f in page.genres}
    assert facets == {"Adventure": 1, "Comedy": 1, "Drama": 1, "Sci-Fi": 1}
    assert [f.genre for f in page.genres] == sorted(facets, key=lambda g: (-facets[g], g))


async def test_facets_over_the_whole_catalogue(index: SearchIndex) -> None:
    page = await index.search(query(limit=1))
    facets = {f.genre: f.count for f in page.genres}
    assert facets["Sci-Fi"] == 7
    assert facets["Horror"] == 3


# --- cards and suggestions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("movie", MOVIES, ids=lambda m: m.id)
async def test_get_returns_the_movie_as_loaded(index: SearchIndex, movie: Movie) -> None:
    assert await index.get(movie.id) == movie


async def test_get_unknown_is_none(index: SearchIndex) -> None:
    assert await index.get("tt-nope") is None
    assert await index.get("M01") is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("терм", "m03"), ("Blade Ru", "m02"), ("звездные в", "m06"), ("xthyjt", "m05"), ("бегущий по лез", "m01")],
)
async def test_suggest_completes_titles(index: SearchIndex, typed: str, expected: str) -> None:
    found = [s.id for s in await index.suggest(SuggestQuery(typed, 5))]
    assert expected == found[0], f"{typed!r} → {found}"


async def test_suggest_respects_the_limit(index: SearchIndex) -> None:
    assert len(await index.suggest(SuggestQuery("т", 2))) <= 2


# --- publishing -----------------------------------------------------------------------------------------------------


async def test_a_new_version_replaces_the_old_without_a_restart(
    adapter: tuple[IndexLoader, Callable[[], SearchIndex]], index: SearchIndex
) -> None:
    loader, _ = adapter
    smaller = MOVIES[:3]
    load(loader, smaller)
    try:
        assert loader.serving_count() == 3
        # The reader opened before the swap now serves the new version.
        assert (await index.search(query(limit=100))).total == 3
    finally:
        load(loader, MOVIES)
    assert (await index.search(query(limit=100))).total == len(MOVIES)


async def test_a_wrong_count_is_refused_and_the_serving_version_kept(
    adapter: tuple[IndexLoader, Callable[[], SearchIndex]], index: SearchIndex
) -> None:
    loader, _ = adapter
    version = loader.new_version()
    version.add(MOVIES[:2])
    with pytest.raises(FailedPrecondition):
        version.publish(expected=5)
    version.discard()
    assert loader.serving_count() == len(MOVIES)
    assert (await index.search(query(limit=100))).total == len(MOVIES)


async def test_a_discarded_version_changes_nothing(
    adapter: tuple[IndexLoader, Callable[[], SearchIndex]], index: SearchIndex
) -> None:
    loader, _ = adapter
    version = loader.new_version()
    version.add(MOVIES[:1])
    version.discard()
    assert loader.serving_count() == len(MOVIES)
    assert await index.get("m05") == BY_ID["m05"]
