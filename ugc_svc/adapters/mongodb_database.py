"""The production profile's document store: MongoDB (FerretDB v1 in the devstack) through pymongo's async API.

One client, owned by the composition root, serves every collection; nothing connects before the first call.
Every operation is bounded twice: pymongo's own client-side timeout (`timeoutMS`, which covers server selection,
connecting and the command) and a deadline around the call. Either one ends as meshkit.errors.Unavailable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WaitQueueTimeoutError, WTimeoutError

from meshkit.errors import Unavailable

T = TypeVar("T")
Document = dict[str, Any]
log = logging.getLogger(__name__)

# The deadline around a call leaves pymongo's own timeout the first word, with its more precise error.
_DEADLINE_SLACK = 0.5


def open_client(url: str, timeout: float) -> AsyncMongoClient[Document]:
    """A client whose every operation gives up after `timeout` seconds; it connects on first use."""
    millis = max(1, int(timeout * 1000))
    return AsyncMongoClient(
        url,
        tz_aware=True,
        timeoutMS=millis,
        serverSelectionTimeoutMS=millis,
        connectTimeoutMS=millis,
        appname="cinemesh-ugc",
    )


class MongoDatabase:
    """A database of the client, with the bound and the error translation every adapter call goes through."""

    def __init__(self, client: AsyncMongoClient[Document], name: str, timeout: float) -> None:
        self.database: AsyncDatabase[Document] = client[name]
        self.timeout = timeout

    async def answer(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout + _DEADLINE_SLACK):
                return await operation()
        except TimeoutError:
            raise Unavailable(f"the document store did not answer within {self.timeout} s") from None
        except PyMongoError as error:
            unavailable = unavailable_error(error, self.timeout)
            if unavailable is None:
                raise
            raise unavailable from error


def unavailable_error(error: PyMongoError, timeout: float) -> Unavailable | None:
    """The driver's error as UNAVAILABLE, or None when it is not the store's state (a bug: re-raise it)."""
    if error.timeout or isinstance(error, ExecutionTimeout | WTimeoutError | WaitQueueTimeoutError):
        return Unavailable(f"the document store did not answer within {timeout} s")
    if isinstance(error, ConnectionFailure):
        # The error names hosts and ports: the log gets it, the caller does not.
        log.warning("the document store cannot be reached: %s", error)
        return Unavailable("the document store cannot be reached")
    return None


def one_document(user_id: str, movie_id: str) -> Document:
    """The filter of one (user, movie) document: its `_id`, plus the shard key fields, so that a sharded cluster
    sends the command to the one shard holding it (docs/ugc-mongodb.md)."""
    return {"_id": document_id(user_id, movie_id), "user_id": user_id, "movie_id": movie_id}


def document_id(user_id: str, movie_id: str) -> str:
    """One document per (user, movie), found by `_id` alone. The user id's length goes first, so no two pairs
    share an id whatever characters the ids hold ("2:u1/m1")."""
    return f"{len(user_id)}:{user_id}/{movie_id}"
