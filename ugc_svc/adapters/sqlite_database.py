"""One SQLite file for the embedded profile's documents, reached through one connection on one thread of its own.

The stdlib driver blocks, so every statement runs on that thread, never on the event loop; one thread also means
one writer, so each statement is atomic by construction. WAL lets readers of other processes (a second service
instance, a developer's sqlite3 shell) read while it writes. A locked or unreachable file fails after the
timeout, as meshkit.errors.Unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from meshkit.errors import Unavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

# The driver's own wait for a lock takes most of the timeout; the rest is for the statement itself.
_LOCK_SHARE = 0.8


class SqliteDatabase:
    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ugc-sqlite")
        self._connection: sqlite3.Connection | None = None
        # Schema scripts applied on this connection; only the database's thread touches it.
        self._schemas: set[str] = set()

    async def run(self, work: Callable[[sqlite3.Connection], T], *, schema: str) -> T:
        """`work(connection)` on the database's thread; each statement commits alone (autocommit).

        `schema`, the caller's idempotent `CREATE ... IF NOT EXISTS` script, runs once before the first work that
        names it, so a table exists before its first statement whichever call comes first.
        """
        loop = asyncio.get_running_loop()
        try:
            # The thread keeps running a statement the deadline gave up on; the next call queues behind it.
            async with asyncio.timeout(self.timeout):
                return await loop.run_in_executor(self._thread, self._call, work, schema)
        except TimeoutError:
            raise Unavailable(f"the SQLite document store did not answer within {self.timeout} s") from None

    def _call(self, work: Callable[[sqlite3.Connection], T], schema: str) -> T:
        try:
            connection = self._connected()
            if schema not in self._schemas:
                connection.executescript(schema)
                self._schemas.add(schema)
            return work(connection)
        except (sqlite3.OperationalError, OSError) as error:
            # Locked past the timeout, unreadable file, full disk: the store's state, not the request's.
            log.warning("SQLite document store %s cannot answer: %s", self.path, error)
            raise Unavailable("the SQLite document store cannot answer") from error

    def _connected(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self.timeout * _LOCK_SHARE, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                self._schemas.clear()

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)
