"""SearchIndex on OpenSearch (or Elasticsearch 8/9), read through the alias the loader moves on publish.

What a search asks the engine is built in `opensearch_queries`; this module sends it and reads the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, TransportError

from meshkit.errors import Unavailable
from search_svc.adapters.opensearch_errors import unavailable_answer, unavailable_error
from search_svc.adapters.opensearch_mapping import to_movie
from search_svc.adapters.opensearch_queries import CHOSEN, FIRST_CARD, msearch_lines, suggest_body
from search_svc.domain.movie import GenreCount, Movie, VideoPage, VideoSummary
from search_svc.domain.search_repair import repaired_search, taken_as_typed
from search_svc.domain.video_query import SuggestQuery, VideoQuery

# What a search reads of `_msearch`'s answer: the rest (index names, scores, sort values, shard counts, timings)
# would only be serialised by OpenSearch and parsed here. Empty lists and objects are left out of the answer too.
_READ = ",".join(
    f"responses.{path}"
    for path in (
        "hits.hits._source",
        "hits.total.value",
        "aggregations",
        "error",
        "status",
        "timed_out",
        "_shards.failed",
    )
)


class OpenSearchSearchIndex:
    def __init__(self, url: str, alias: str = "movies", timeout: float = 2.0, *, connections: int = 32) -> None:
        # One retry covers a pooled connection the server closed (after a restart); timeouts are not retried, the
        # deadline in _answer bounds the whole call anyway. Nothing connects before the first request.
        self._client = AsyncOpenSearch(
            hosts=[url],
            timeout=timeout,
            max_retries=1,
            retry_on_timeout=False,
            retry_on_status=(),
            maxsize=connections,
        )
        # aiohttp hands a freed connection to whoever asks next, not to the longest waiter: past `connections`
        # requests in flight, some starved for seconds (measured). This semaphore queues them first come first served.
        self._gate = asyncio.Semaphore(connections)
        self._alias = alias
        self._timeout = timeout

    async def search(self, query: VideoQuery) -> VideoPage:
        page, first = await self._search(query, partial=False)
        partial = page.total == 0 and bool(query.text)
        if partial:
            # Nothing holds every word: the movies holding most of them, rather than an empty page.
            page, first = await self._search(query, partial=True)
        # The first movie's words say how the search was understood, unless its title alone shows it taken as typed
        # (most searches name a title). The search brought that movie's card along; read it only if it did not.
        if query.text and page.items and not taken_as_typed(query.text, page.items[0].title):
            top = (
                to_movie(first)
                if first is not None and first["id"] == page.items[0].id
                else await self.get(page.items[0].id)
            )
            if top is not None:
                return replace(page, repaired_search=repaired_search(query.text, top, partial=partial))
        return page

    async def _search(self, query: VideoQuery, *, partial: bool) -> tuple[VideoPage, dict[str, Any] | None]:
        """The page, and its first movie's card as the engine keeps it, when the answer holds it."""
        lines = msearch_lines(query, partial=partial)
        response = await self._answer(
            lambda: self._client.msearch(index=self._alias, body=lines, params={"filter_path": _READ})
        )
        answers = [self._whole(item) for item in response["responses"]]
        # The page counts itself (a search), or the second answer counts it (a listing).
        page, counts = answers[0], answers[-1]
        aggregations = counts.get("aggregations", {})
        chosen = aggregations.get(CHOSEN, {})
        total = chosen["doc_count"] if CHOSEN in aggregations else counts["hits"]["total"]["value"]
        cards = (chosen if CHOSEN in aggregations else aggregations).get(FIRST_CARD, {}).get("hits", {}).get("hits")
        return VideoPage(
            items=tuple(_summary(hit["_source"]) for hit in page.get("hits", {}).get("hits", ())),
            total=int(total),
            genres=tuple(
                GenreCount(b["key"], int(b["doc_count"])) for b in aggregations.get("genres", {}).get("buckets", ())
            ),
        ), cards[0]["_source"] if cards else None

    async def get(self, movie_id: str) -> Movie | None:
        if not movie_id:  # the client refuses an empty path segment; no movie has an empty id anyway
            return None
        try:
            response = await self._answer(lambda: self._client.get(index=self._alias, id=movie_id))
        except NotFoundError:  # the index is there (_answer checked), the movie is not
            return None
        return to_movie(response["_source"])

    async def suggest(self, query: SuggestQuery) -> list[VideoSummary]:
        body = suggest_body(query)
        response = await self._answer(lambda: self._client.search(index=self._alias, body=body))
        return [_summary(hit["_source"]) for hit in response["hits"]["hits"]]

    async def close(self) -> None:
        await self._client.close()

    async def _answer(self, request: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout), self._gate:
                response: dict[str, Any] = await request()
        except (TimeoutError, TransportError) as error:
            unavailable = unavailable_error(error, timeout=self._timeout, serving_alias=self._alias)
            if unavailable is not None:
                raise unavailable from error
            raise
        return self._whole(response)

    def _whole(self, response: dict[str, Any]) -> dict[str, Any]:
        """`response` if complete; an error of one `_msearch` item is judged as `_answer` judges a call's."""
        if "error" in response:
            error = response["error"]
            reason = error.get("type", "unknown") if isinstance(error, dict) else str(error)
            status = int(response.get("status", 500))
            raise unavailable_answer(status, reason, serving_alias=self._alias) or RuntimeError(
                f"OpenSearch refused a search ({status}): {reason}"
            )
        shards = response.get("_shards", {})
        if response.get("timed_out") or shards.get("failed"):
            # A shard missing from the answer would make a partial page look whole.
            raise Unavailable(f"OpenSearch answered partially: {shards}")
        return response


def _summary(source: dict[str, Any]) -> VideoSummary:
    rating = source.get("imdb_rating")
    return VideoSummary(source["id"], source["title"], None if rating is None else float(rating))
