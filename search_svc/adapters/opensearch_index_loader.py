"""IndexLoader on OpenSearch (or Elasticsearch 8/9): each version is an index `<alias>-<time>-<random>`, the
serving one is whichever the alias points at, and publishing moves the alias in one `_aliases` call.

The ETL is synchronous and runs apart from the service, so this uses the synchronous client. A version keeps one
`_bulk` request in flight on a thread of its own while the caller reads, cleans and encodes the next batch:
otherwise the engine idles while Python works and Python idles while the engine indexes. So add() returns before
its batch is indexed, and a batch's failure is raised by the next add(), or by publish(), which waits for it.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import orjson
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, TransportError

from meshkit.errors import FailedPrecondition, Unavailable
from search_svc.adapters import opensearch_mapping
from search_svc.adapters.opensearch_errors import TOO_MANY_REQUESTS, unavailable_error
from search_svc.domain.lemmas import lemma_text
from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import EncodedBatch, Encoder

# While a version loads it is not refreshed: segments are built once, at publish. The same setting marks the
# index as "still loading" for a concurrent run deciding what it may delete.
_LOADING = "-1"
_BULK_RETRIES = 5

T = TypeVar("T")


class OpenSearchIndexLoader:
    def __init__(
        self,
        url: str,
        alias: str = "movies",
        *,
        replicas: int = 1,
        timeout: float = 60.0,
        abandoned_after: timedelta = timedelta(hours=6),
    ) -> None:
        self._client = OpenSearch(hosts=[url], timeout=timeout, max_retries=2, retry_on_timeout=False)
        self._alias = alias
        self._replicas = replicas
        # A version still loading after this long belongs to a run that died without discarding it.
        self._abandoned_after = abandoned_after

    def new_version(self) -> OpenSearchIndexVersion:
        # Time first, so names sort by age; the random tail keeps two runs in the same microsecond apart.
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        name = f"{self._alias}-{stamp}-{uuid.uuid4().hex[:8]}"
        body = {
            "settings": opensearch_mapping.index_settings(replicas=0, refresh_interval=_LOADING),
            "mappings": opensearch_mapping.mappings(),
        }
        _call(lambda: self._client.indices.create(index=name, body=body))
        return OpenSearchIndexVersion(self._client, name, self._alias, self._replicas, self._abandoned_after)

    def serving_count(self) -> int | None:
        try:
            return int(_call(lambda: self._client.count(index=self._alias))["count"])
        except NotFoundError:
            return None

    def encoder(self) -> Encoder:
        return encode

    def analyze(self, text: str) -> list[str]:
        """The tokens the index's main analyzer makes of `text`. Needs no index: the same chain is sent inline."""
        body = {**opensearch_mapping.main_analysis_chain(), "text": text}
        result = _call(lambda: self._client.indices.analyze(body=body))
        return [token["token"] for token in result["tokens"]]

    def analyze_lemmas(self, text: str) -> list[str]:
        """The terms the index's lemma fields hold for `text`: its lemmas (`domain.lemmas`), analysed inline."""
        body = {**opensearch_mapping.lemma_analysis_chain(), "text": lemma_text(text)}
        result = _call(lambda: self._client.indices.analyze(body=body))
        return [token["token"] for token in result["tokens"]]

    def close(self) -> None:
        self._client.close()


class OpenSearchIndexVersion:
    def __init__(self, client: OpenSearch, name: str, alias: str, replicas: int, abandoned_after: timedelta) -> None:
        self._client = client
        self.name = name
        self._alias = alias
        self._replicas = replicas
        self._abandoned_after = abandoned_after
        # At most one request in flight (add() waits for the previous one first): batches land in order, so a
        # repeated id ends as its last copy, and the engine is sent one bulk at a time, as by a plain loop.
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"bulk-{name}")
        self._in_flight: Future[None] | None = None

    def add(self, movies: Sequence[Movie]) -> None:
        # Encoded here, while the previous batch is still being indexed.
        self.add_encoded(encode(movies))

    def add_encoded(self, batch: EncodedBatch) -> None:
        if not batch.documents:
            return
        body = bulk_body(batch.documents)
        self._wait_in_flight()
        self._in_flight = self._sender.submit(self._send, list(batch.documents), body)

    def _wait_in_flight(self) -> None:
        """Wait for the batch in flight, raising its failure."""
        if self._in_flight is not None:
            # Forgotten only once done: after a failure or an interrupt here, discard() must still wait for it.
            self._in_flight.result()
            self._in_flight = None

    def _send(self, documents: list[str], body: bytes) -> None:
        pending = documents
        for attempt in range(_BULK_RETRIES + 1):
            if not pending:
                return
            if attempt:
                body = bulk_body(pending)
            response = _call(functools.partial(self._client.bulk, index=self.name, body=body))
            if not response["errors"]:
                return
            items = [next(iter(item.values())) for item in response["items"]]
            failed = [(document, item) for document, item in zip(pending, items, strict=True) if item.get("error")]
            refused = [item for _, item in failed if item["status"] != TOO_MANY_REQUESTS]
            if refused:
                raise RuntimeError(f"{len(refused)} movies refused by {self.name}, first: {refused[0]['error']}")
            # Only "too many requests" left: the node is busy, the data is fine — back off and resend those.
            pending = [document for document, _ in failed]
            time.sleep(min(0.5 * 2**attempt, 10.0))
        raise Unavailable(f"OpenSearch kept refusing {len(pending)} movies as too many requests")

    def publish(self, expected: int) -> None:
        try:
            self._wait_in_flight()
        finally:
            self._sender.shutdown()
        # Counted before the version stops looking "loading", so a refused one stays safe from a concurrent run.
        _call(lambda: self._client.indices.refresh(index=self.name))
        count = int(_call(lambda: self._client.count(index=self.name))["count"])
        if count != expected:
            raise FailedPrecondition(f"version {self.name} holds {count} movies, expected {expected}: not published")
        settings = {"index": {"refresh_interval": None, "number_of_replicas": self._replicas}}
        _call(lambda: self._client.indices.put_settings(index=self.name, body=settings))
        # Active primaries are enough to serve; replicas follow (a single node never gets them). The server gives
        # up after its default 30 s; the client's `timeout` parameter would be taken for its own request timeout.
        _call(lambda: self._client.cluster.health(index=self.name, wait_for_status="yellow"))
        self._move_alias()
        self._drop_older_versions()

    def discard(self) -> None:
        # A request still in flight is let finish (within the client's timeout) before the index goes: landing
        # after the delete, it would create the index again, with a guessed mapping. Its failure is the reason
        # for the discard, or comes after it, so it is not raised here.
        if self._in_flight is not None:
            with contextlib.suppress(Exception):
                self._in_flight.result()
            self._in_flight = None
        self._sender.shutdown()
        _call(lambda: self._client.indices.delete(index=self.name, ignore_unavailable=True))

    def _move_alias(self) -> None:
        try:
            serving = list(_call(lambda: self._client.indices.get_alias(name=self._alias)))
        except NotFoundError:
            serving = []
        # One request, so readers see the old version or the new one, never none and never both. The pattern also
        # catches a version a concurrent run published after `serving` was read: a `remove` naming an index that
        # lacks the alias is a silent no-op, so naming the read ones alone could leave the alias on two indices.
        # (The pattern always matches something: this version.)
        remove = {"indices": [f"{self._alias}-*", *serving], "alias": self._alias}
        actions = [{"remove": remove}, {"add": {"index": self.name, "alias": self._alias}}]
        _call(lambda: self._client.indices.update_aliases(body={"actions": actions}))

    def _drop_older_versions(self) -> None:
        """Versions created before this one that no longer serve; a concurrent run's loading one is left alone."""
        ours = re.compile(rf"{re.escape(self._alias)}-\d{{20}}-[0-9a-f]{{8}}")
        versions = {
            index: info
            for index, info in _call(lambda: self._client.indices.get(index=f"{self._alias}-*")).items()
            if ours.fullmatch(index)
        }
        created = {index: int(info["settings"]["index"]["creation_date"]) for index, info in versions.items()}
        abandoned_before = time.time() * 1000 - self._abandoned_after.total_seconds() * 1000
        doomed = [
            index
            for index, info in versions.items()
            if created[index] < created[self.name]
            and self._alias not in info.get("aliases", {})
            and (info["settings"]["index"].get("refresh_interval") != _LOADING or created[index] < abandoned_before)
        ]
        if doomed:
            _call(lambda: self._client.indices.delete(index=",".join(doomed), ignore_unavailable=True))


def encode(movies: Sequence[Movie]) -> EncodedBatch:
    """Each movie as its two `_bulk` lines (action and source), without the final newline."""
    # Encoded here in one pass (orjson, UTF-8 as the engine reads it): the client's per-line serialiser would cost
    # more than the engine's indexing.
    documents = tuple(
        orjson.dumps({"index": {"_id": movie.id}}).decode()
        + "\n"
        + orjson.dumps(opensearch_mapping.to_document(movie)).decode()
        for movie in movies
    )
    return EncodedBatch(tuple(movie.id for movie in movies), documents)


def bulk_body(documents: Sequence[str]) -> bytes:
    """A `_bulk` request body of encoded movies."""
    return ("\n".join(documents) + "\n").encode()


def _call(request: Callable[[], T]) -> T:
    try:
        return request()
    except TransportError as error:  # connection failures and timeouts included
        unavailable = unavailable_error(error)
        if unavailable is not None:
            raise unavailable from error
        raise
