"""The embedded profile's event bus: a durable, partitioned log in one SQLite file, shared by processes.

What it keeps, as Kafka does: topics with a fixed number of partitions; records (key, value, timestamp, headers) at
consecutive offsets per partition, the partition chosen from the key (`meshkit.partitioner`, Kafka's function),
so one key's records stay in order; committed offsets per consumer group (the next offset to read); the members
of each group and which of them owns each partition (`meshkit.embedded_group`). Beyond Kafka:
a whole batch is appended in one transaction, so it is on the log entirely or not at all.

Durability: WAL mode with `synchronous=FULL`, so an append that returned survives a crash of the process or the
machine. Several processes may open the same file (the UGC service appends, the sink reads); writers take turns,
each waiting at most `busy_timeout` seconds for the others, then the call raises `Unavailable`. Every SQLite
failure becomes `Unavailable`: the log is an engine the caller cannot repair.

Calls block: async callers run them in a thread. One instance may be shared by threads.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from meshkit.errors import FailedPrecondition, Unavailable
from meshkit.partitioner import partition_for

T = TypeVar("T")

Headers = tuple[tuple[str, bytes], ...]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL CHECK (partitions > 0)
) STRICT;
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    headers BLOB,
    PRIMARY KEY (topic, partition, "offset")
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    topics TEXT NOT NULL,
    session_timeout_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partition_owners (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    member_id TEXT,
    generation INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schema TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE IF NOT EXISTS subject_versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    PRIMARY KEY (subject, version),
    UNIQUE (subject, schema_id)
) STRICT;
"""


@dataclass(frozen=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int
    headers: Headers = ()


@dataclass(frozen=True)
class Entry:
    """A record to append: its key picks the partition."""

    key: bytes
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True)
class Appended:
    """Where one appended record landed."""

    partition: int
    offset: int


class EmbeddedLog:
    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        """Open (creating when missing) the log at `path`; Unavailable when it cannot be opened or written."""
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"the event log {path} cannot be opened: {exc}") from exc
        try:
            self._call(self._setup)
        except Unavailable:
            self._db.close()
            raise

    def _setup(self, db: sqlite3.Connection) -> None:
        # WAL lets readers (the sink) run beside the writer; FULL syncs the WAL on every commit, so an
        # acknowledged append survives power loss, not only a crash of the process. Both are per connection.
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"journal mode is {mode}, not wal")
        db.execute("PRAGMA synchronous=FULL")
        with transaction(db):
            # One statement at a time: executescript would commit the open transaction first.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            # Files written before records had headers get the column (NULL: no headers).
            columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
            if "headers" not in columns:
                db.execute("ALTER TABLE records ADD COLUMN headers BLOB")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- topics -------------------------------------------------------------------------------------------------

    def ensure_topic(self, topic: str, partitions: int) -> None:
        """Create `topic` with `partitions`, or check the existing one has as many (FailedPrecondition if not:
        changing the count would move keys to other partitions)."""

        def run(db: sqlite3.Connection) -> None:
            with transaction(db):
                db.execute("INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)", (topic, partitions))
                (existing,) = db.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
            if existing != partitions:
                raise FailedPrecondition(f"topic {topic!r} has {existing} partitions, not {partitions}")

        self._call(run)

    def partitions(self, topic: str) -> int:
        return self._call(lambda db: _partitions(db, topic))

    # --- records ------------------------------------------------------------------------------------------------

    def append(self, topic: str, records: Sequence[tuple[bytes, bytes]], timestamp_ms: int) -> list[Appended]:
        """Append (key, value) records in one transaction: all of them, durably, or none (Unavailable)."""
        return self.append_entries(topic, [Entry(key, value) for key, value in records], timestamp_ms)

    def append_entries(self, topic: str, entries: Sequence[Entry], timestamp_ms: int) -> list[Appended]:
        """`append` for records with headers."""

        def run(db: sqlite3.Connection) -> list[Appended]:
            with transaction(db):
                count = _partitions(db, topic)
                next_offset: dict[int, int] = {}
                landed = []
                for entry in entries:
                    partition = partition_for(entry.key, count)
                    if partition not in next_offset:
                        next_offset[partition] = _end_offset(db, topic, partition)
                    offset = next_offset[partition]
                    next_offset[partition] = offset + 1
                    db.execute(
                        'INSERT INTO records (topic, partition, "offset", key, value, timestamp_ms, headers) '
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (topic, partition, offset, entry.key, entry.value, timestamp_ms, pack_headers(entry.headers)),
                    )
                    landed.append(Appended(partition, offset))
                return landed

        return self._call(run)

    def read(self, topic: str, partition: int, offset: int, limit: int = 1000) -> list[LogRecord]:
        """Records of one partition from `offset` on, in offset order, at most `limit`."""
        rows = self._call(
            lambda db: db.execute(
                'SELECT "offset", key, value, timestamp_ms, headers FROM records '
                'WHERE topic = ? AND partition = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?',
                (topic, partition, offset, limit),
            ).fetchall()
        )
        return [LogRecord(topic, partition, row[0], row[1], row[2], row[3], unpack_headers(row[4])) for row in rows]

    def end_offset(self, topic: str, partition: int) -> int:
        """The offset the next record of this partition will get."""
        return self._call(lambda db: _end_offset(db, topic, partition))

    # --- consumer groups ----------------------------------------------------------------------------------------

    def commit(self, group: str, topic: str, partition: int, offset: int) -> None:
        """Record that `group` has processed this partition up to `offset` (exclusive: the next one to read)."""
        self._call(
            lambda db: db.execute(
                'INSERT INTO group_offsets (group_id, topic, partition, "offset") VALUES (?, ?, ?, ?) '
                'ON CONFLICT (group_id, topic, partition) DO UPDATE SET "offset" = excluded."offset"',
                (group, topic, partition, offset),
            )
        )

    def committed(self, group: str, topic: str, partition: int) -> int | None:
        """The offset `group` committed for this partition, None before its first commit."""
        row = self._call(
            lambda db: db.execute(
                'SELECT "offset" FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?',
                (group, topic, partition),
            ).fetchone()
        )
        return None if row is None else int(row[0])

    # --- plumbing -----------------------------------------------------------------------------------------------

    def _call(self, run: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return run(self._db)
            except sqlite3.Error as exc:
                raise Unavailable(f"the event log {self.path} cannot be used: {exc}") from exc

    def call(self, run: Callable[[sqlite3.Connection], T]) -> T:
        """Run `run` on the log's connection under its lock (for the embedded schema registry)."""
        return self._call(run)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction on a connection opened in autocommit mode (isolation_level=None)."""
    # IMMEDIATE takes the write lock at once: a transaction that reads then writes cannot fail half-way on a
    # lock another writer took meanwhile.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _partitions(db: sqlite3.Connection, topic: str) -> int:
    row = db.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
    if row is None:
        raise FailedPrecondition(f"the event log has no topic {topic!r}")
    return int(row[0])


def _end_offset(db: sqlite3.Connection, topic: str, partition: int) -> int:
    row = db.execute(
        'SELECT MAX("offset") FROM records WHERE topic = ? AND partition = ?', (topic, partition)
    ).fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


# Headers in one column: for each, the name's and the value's length (4 bytes, big-endian) then their bytes.
_LENGTH = struct.Struct(">I")


def pack_headers(headers: Headers) -> bytes | None:
    if not headers:
        return None
    parts = []
    for name, value in headers:
        encoded = name.encode()
        parts += [_LENGTH.pack(len(encoded)), encoded, _LENGTH.pack(len(value)), value]
    return b"".join(parts)


def unpack_headers(packed: bytes | None) -> Headers:
    headers = []
    at = 0
    while packed and at < len(packed):
        (size,) = _LENGTH.unpack_from(packed, at)
        name = packed[at + 4 : at + 4 + size].decode()
        at += 4 + size
        (size,) = _LENGTH.unpack_from(packed, at)
        headers.append((name, packed[at + 4 : at + 4 + size]))
        at += 4 + size
    return tuple(headers)
