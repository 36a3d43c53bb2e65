"""The OpenSearch request bodies, built without an engine: the shapes the port's semantics depend on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from search_svc.adapters.opensearch_queries import msearch_lines, search_bodies, suggest_body, text_query, words
from search_svc.domain.video_query import MAX_RESULT_WINDOW, SortField, SortOrder, SuggestQuery, VideoQuery


def query(text: str = "", **overrides: Any) -> VideoQuery:
    fields: dict[str, Any] = {"text": text, "limit": 10, "page": 1, "sort": None, "order": SortOrder.ASC}
    fields.update(overrides)
    return VideoQuery(**fields)


def found(tree: object, key: str) -> list[Any]:
    """Every value stored under `key` anywhere in a request body."""
    if isinstance(tree, dict):
        return [v for k, v in tree.items() if k == key] + [x for v in tree.values() for x in found(v, key)]
    if isinstance(tree, list):
        return [x for v in tree for x in found(v, key)]
    return []


def as_typed(tree: dict[str, Any] | None) -> dict[str, Any]:
    """The reading of the query as typed (the other layout's reading, if any, is its alternative)."""
    assert tree is not None
    return tree["dis_max"]["queries"][0] if "dis_max" in tree else tree


def test_words_are_runs_of_letters_and_digits_with_yo_folded() -> None:
    assert words("Звёздные войны: эпизод-4 (1977)") == ["Звездные", "войны", "эпизод", "4", "1977"]
    assert words("!!! — ...") == []


def test_every_content_word_is_required_somewhere_and_stop_words_are_not() -> None:
    required = as_typed(text_query("По лезвию бегущий"))["bool"]["must"]
    assert [clause["dis_max"]["queries"][0]["match"]["title"]["query"] for clause in required] == ["лезвию", "бегущий"]


def test_each_word_may_match_any_field_title_highest_description_lowest() -> None:
    alternatives = as_typed(text_query("зеркало"))["bool"]["must"][0]["dis_max"]["queries"]
    per_field = {field: spec["boost"] for q in alternatives for field, spec in q["match"].items()}
    stemmed = {field: boost for field, boost in per_field.items() if not field.endswith(".unstemmed")}
    fuzzy = {field for q in alternatives for field, spec in q["match"].items() if "fuzziness" in spec}
    # Typos in titles, and across every name at once as written; each fuzzy clause builds typo automata of its own.
    assert fuzzy == {"title", "title.unstemmed", "people.unstemmed"}
    # Each kind of person also scored as typed in a field of its own; the dictionary lemmas have fields of their own.
    assert set(stemmed) - fuzzy == {
        "people",
        "genre.text",
        "description",
        "director",
        "actors_names",
        "writers_names",
        "title_lemmas",
        "description_lemmas",
    }
    assert max(stemmed, key=stemmed.__getitem__) == "title"
    assert min(stemmed, key=stemmed.__getitem__) == "description"


def test_titles_and_names_also_match_typos_unstemmed_below_their_stemmed_match() -> None:
    alternatives = as_typed(text_query("terminatro"))["bool"]["must"][0]["dis_max"]["queries"]
    per_field = {field: spec["boost"] for q in alternatives for field, spec in q["match"].items()}
    unstemmed = {field.removesuffix(".unstemmed") for field in per_field if field.endswith(".unstemmed")}
    assert unstemmed == {"title", "people"}
    assert all(per_field[f"{field}.unstemmed"] < per_field[field] for field in unstemmed)


def test_typos_follow_word_length_and_spare_the_first_letter() -> None:
    tree = text_query("терминатор")
    assert {json.dumps(m, sort_keys=True) for m in found(tree, "fuzziness")} == {'"AUTO:4,8"'}
    assert set(found(tree, "prefix_length")) == {1}


def test_the_other_layout_reading_is_an_alternative_with_less_weight() -> None:
    tree = text_query("Xthyjt pthrfkj")
    assert tree is not None
    as_typed, other, carried = tree["dis_max"]["queries"]
    assert "Xthyjt" in json.dumps(as_typed, ensure_ascii=False)
    assert other["bool"]["boost"] < 1
    assert "Черное" in json.dumps(other, ensure_ascii=False)  # ё folded, as in the index
    # The third reading: the text spelled in the other alphabet, as typed, weighing less too.
    assert carried["bool"]["boost"] < 1
    assert "кстхиджт" in json.dumps(carried, ensure_ascii=False)


def test_a_query_of_stop_words_asks_for_titles_of_exactly_those_words() -> None:
    tree = text_query("The The")
    assert tree is not None
    assert tree["dis_max"]["queries"][0] == {
        "bool": {"must": [{"match_phrase": {"title.exact": "The The"}}, {"term": {"title.words": 2}}]}
    }


def test_text_without_words_lists_like_no_text() -> None:
    assert text_query("!!!") is None
    assert page_body(query("!!!"))["sort"] == page_body(query(""))["sort"]


@pytest.mark.parametrize(
    ("sort", "order", "text", "expected"),
    [
        (None, SortOrder.ASC, "", [{"id": "asc"}]),
        (None, SortOrder.DESC, "", [{"id": "desc"}]),
        (None, SortOrder.ASC, "зеркало", [{"_score": "desc"}, {"id": "asc"}]),
        (SortField.ID, SortOrder.DESC, "зеркало", [{"id": "desc"}]),
        (SortField.TITLE, SortOrder.DESC, "", [{"title.sort": "desc"}, {"id": "asc"}]),
        (
            SortField.IMDB_RATING,
            SortOrder.DESC,
            "зеркало",
            [{"imdb_rating": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
        ),
    ],
)
def test_sort(sort: SortField | None, order: SortOrder, text: str, expected: list[dict[str, Any]]) -> None:
    assert page_body(query(text, sort=sort, order=order))["sort"] == expected


def page_body(q: VideoQuery) -> dict[str, Any]:
    return search_bodies(q)[0]


def test_genre_filter_is_a_post_filter_so_facets_ignore_it() -> None:
    page, counts = search_bodies(query(genres=("Horror", "Comedy"), min_rating=7.0))
    assert counts is not None
    chosen = {"terms": {"genre": ["Horror", "Comedy"]}}
    assert page["post_filter"] == chosen
    assert page["query"]["bool"]["filter"] == [{"range": {"imdb_rating": {"gte": 7.0}}}]
    # Counted over the same matches; the total is the chosen genres' count.
    assert counts["query"] == page["query"]
    assert "post_filter" not in counts
    assert counts["aggs"]["genres"]["terms"]["order"] == [{"_count": "desc"}, {"_key": "asc"}]
    assert counts["aggs"]["chosen_genres"] == {"filter": chosen}


def test_a_listing_skips_counting_and_the_counts_are_a_cacheable_request_of_their_own() -> None:
    page_header, page, counts_header, counts = msearch_lines(query())
    assert page_header == {}
    assert page["track_total_hits"] is False
    assert "aggs" not in page
    # Only a size-0 request may be kept by the shard request cache.
    assert counts_header == {"request_cache": True}
    assert counts["size"] == 0
    assert counts["track_total_hits"] is True


def test_a_search_is_one_request_counting_itself_and_bringing_its_first_card() -> None:
    # A second request would rewrite the query (its typo automata, most of a search's cost) once more.
    header, page = msearch_lines(query("star wars", limit=10, page=3))
    assert header == {}
    assert page["track_total_hits"] is True
    assert set(page["aggs"]) == {"genres", "first_card"}
    first = page["aggs"]["first_card"]["top_hits"]
    # The page's first movie: the same order, the same offset.
    assert (first["sort"], first["from"], first["size"]) == (page["sort"], page["from"], 1)
    assert set(first["_source"]) >= {"title", "description", "genre", "director", "actors", "writers"}


def test_a_search_with_a_genre_filter_brings_the_first_card_of_the_chosen_genres() -> None:
    (_, page) = msearch_lines(query("star wars", genres=("Horror",)))
    chosen = page["aggs"]["chosen_genres"]
    assert chosen["filter"] == page["post_filter"] == {"terms": {"genre": ["Horror"]}}
    assert "first_card" in chosen["aggs"]
    assert "first_card" not in page["aggs"]


def test_a_search_deeper_than_an_aggregation_reaches_brings_no_card() -> None:
    # index.max_inner_result_window (100) bounds a top_hits aggregation's from + size.
    (_, page) = msearch_lines(query("star wars", limit=50, page=3))
    assert "first_card" not in page["aggs"]


def test_no_filters_no_post_filter() -> None:
    page, counts = search_bodies(query())
    assert counts is not None
    assert "post_filter" not in page
    assert page["query"]["bool"]["filter"] == []
    assert "chosen_genres" not in counts["aggs"]


def test_paging_never_reaches_past_the_result_window() -> None:
    assert (page_body(query(limit=20, page=3))["from"], page_body(query(limit=20, page=3))["size"]) == (40, 20)
    deep = page_body(query(limit=100, page=200))
    assert deep["from"] + deep["size"] <= MAX_RESULT_WINDOW


def test_the_other_layout_reading_allows_no_typos() -> None:
    tree = text_query("Xthyjt pthrfkj")
    assert tree is not None
    typed, other, carried = tree["dis_max"]["queries"]
    assert found(typed, "fuzziness")
    assert not found(other, "fuzziness")
    assert not found(carried, "fuzziness")


def test_suggest_wants_a_prefix_of_the_last_word_and_whole_earlier_words() -> None:
    body = suggest_body(SuggestQuery("бегущий по лез", 5))
    typed = body["query"]["dis_max"]["queries"][0]["bool"]
    fuzzy = {"fuzziness": "AUTO:4,8", "prefix_length": 1}
    assert typed["must"][0] == {"match": {"title": {"query": "бегущий", **fuzzy}}}
    assert {"match": {"title.prefix": {"query": "лез", "boost": 2.0}}} in typed["must"][1]["dis_max"]["queries"]
    # The stop word is welcome, not required.
    assert {"match": {"title.exact": "по"}} in typed["should"]
    assert body["size"] == 5


def test_suggest_reads_the_other_layout_too() -> None:
    body = suggest_body(SuggestQuery("xthyjt", 5))
    assert '"черное"' in json.dumps(body, ensure_ascii=False)


def test_relevance_is_weighed_by_the_record_in_the_fallback_its_text_scores_only() -> None:
    def weighed(built: VideoQuery, *, partial: bool = False) -> bool:
        return bool(found(search_bodies(built, partial=partial)[0]["query"], "field_value_factor"))

    assert weighed(query("empire strikes back"))
    assert not weighed(query("empire strikes back", sort=SortField.IMDB_RATING))
    assert not weighed(query())
    fallback = search_bodies(query("empire strikes back"), partial=True)[0]["query"]
    # Words matched count flat, outside the weighing, so movies matching more words still come first.
    assert "function_score" not in fallback
    weighings = found(fallback, "function_score")
    assert weighings
    assert not [score for weighing in weighings for score in found(weighing, "constant_score")]
    # Sorted by a field, the fallback's scores order nothing: no weighing to pay for.
    assert not weighed(query("empire strikes back", sort=SortField.IMDB_RATING), partial=True)
