"""One analysis, two engines: OpenSearch's `_analyze` and tantivy's analyser cut the same text into the same terms.

Both are configured from search_svc/domain/analysis.py; this is where a drift between them would show.
"""

from __future__ import annotations

import pytest

from devstack.engines.opensearch import OpenSearch
from search_svc.adapters import tantivy_schema
from search_svc.adapters.opensearch_index_loader import OpenSearchIndexLoader

CASES = [
    "Бегущий по лезвию",
    "Звёздные войны: Эпизод IV — Новая надежда",
    "ЧЁРНОЕ зеркало",
    "Терминатора, терминаторы и терминатором",
    "The Empire Strikes Back",
    "running runners ran",
    "Blade Runner 2049",
    "It",
    "Это и то, и это",
    "Kin-dza-dza!",
    "WALL·E",
    "Schindler's List",
    "Ёжик в тумане",
    "E.T. the Extra-Terrestrial",
    "Москва слезам не верит",
    "Star Wars: Episode V - The Empire Strikes Back: Deleted Scenes",
    "mixed Русский and English words вместе",
    "Дети и люди: день, дня, дни; отец и отцы; лёд и льда",
    "Ребёнок, человек и пёс во льдах",
    "  пробелы\tи\nпереводы строк ",
    "",
]


@pytest.fixture(scope="module")
def loader(opensearch: OpenSearch) -> OpenSearchIndexLoader:
    return OpenSearchIndexLoader(opensearch.endpoints()["url"], alias="analysis-check")


@pytest.mark.parametrize("text", CASES)
def test_both_engines_produce_the_same_terms(loader: OpenSearchIndexLoader, text: str) -> None:
    assert tantivy_schema.analyze(text) == loader.analyze(text)


def test_the_terms_are_stemmed_folded_and_free_of_stop_words() -> None:
    assert tantivy_schema.analyze("Чёрное зеркало и терминаторы") == ["черн", "зерка", "терминатор"]
    assert tantivy_schema.analyze("the running blades") == ["run", "blade"]


@pytest.mark.parametrize("text", CASES)
def test_both_engines_produce_the_same_lemma_terms(loader: OpenSearchIndexLoader, text: str) -> None:
    assert tantivy_schema.analyze_lemmas(text) == loader.analyze_lemmas(text)


def test_the_lemma_terms_join_forms_snowball_keeps_apart() -> None:
    assert tantivy_schema.analyze_lemmas("Дети и люди: дня, дни; отцы; льда") == [
        "ребенок",
        "человек",
        "день",
        "день",
        "отец",
        "лед",
    ]
    assert tantivy_schema.analyze("дня дни отцы дети") != tantivy_schema.analyze("день день отец ребёнок")
