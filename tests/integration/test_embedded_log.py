"""The embedded event log and its schema registry on a real SQLite file: what the UGC service writes and the sink
reads (offsets, consumer groups, schema ids), as Kafka and a Confluent-compatible registry keep them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshkit.avro_wire import AvroSchema
from meshkit.embedded_log import EmbeddedLog, Entry
from meshkit.embedded_schema_registry import EmbeddedSchemaRegistry
from meshkit.errors import FailedPrecondition, NotFound, Unavailable
from meshkit.partitioner import partition_for

V1 = AvroSchema.parse('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}')
V2 = AvroSchema.parse(
    '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}, '
    '{"name": "b", "type": ["null", "long"], "default": null}]}'
)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EmbeddedLog]:
    opened = EmbeddedLog(tmp_path / "log.sqlite3")
    opened.ensure_topic("t", 3)
    yield opened
    opened.close()


def test_the_file_is_in_wal_mode(log: EmbeddedLog) -> None:
    with sqlite3.connect(log.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_records_get_consecutive_offsets_in_the_partition_of_their_key(log: EmbeddedLog) -> None:
    first = log.append("t", [(b"k1", b"a"), (b"k2", b"b"), (b"k1", b"c")], timestamp_ms=1)
    second = log.append("t", [(b"k1", b"d")], timestamp_ms=2)

    p1 = partition_for(b"k1", 3)
    assert [a.partition for a in (first[0], first[2], second[0])] == [p1] * 3
    assert [a.offset for a in (first[0], first[2], second[0])] == [0, 1, 2]
    assert [r.value for r in log.read("t", p1, 0)] == [b"a", b"c", b"d"]
    assert [r.value for r in log.read("t", p1, 1, limit=1)] == [b"c"]
    assert log.end_offset("t", p1) == 3
    assert log.read("t", p1, 3) == []
    assert log.read("t", p1, 2)[0].timestamp_ms == 2


def test_a_failing_batch_leaves_nothing(log: EmbeddedLog) -> None:
    with pytest.raises(Unavailable):
        # The third value breaks NOT NULL: the first two must not stay either.
        log.append("t", [(b"k1", b"a"), (b"k2", b"b"), (b"k3", None)], timestamp_ms=1)  # type: ignore[list-item]
    assert sum(log.end_offset("t", p) for p in range(3)) == 0


def test_a_topics_partition_count_is_fixed(log: EmbeddedLog) -> None:
    log.ensure_topic("t", 3)
    with pytest.raises(FailedPrecondition, match="3 partitions"):
        log.ensure_topic("t", 4)
    with pytest.raises(FailedPrecondition, match="no topic"):
        log.append("missing", [(b"k", b"v")], timestamp_ms=1)


def test_consumer_groups_commit_their_own_offsets(log: EmbeddedLog) -> None:
    assert log.committed("sink", "t", 0) is None
    log.commit("sink", "t", 0, 5)
    log.commit("sink", "t", 0, 7)
    log.commit("other", "t", 0, 1)
    assert (log.committed("sink", "t", 0), log.committed("other", "t", 0), log.committed("sink", "t", 1)) == (
        7,
        1,
        None,
    )


def test_another_connection_sees_what_was_appended(log: EmbeddedLog) -> None:
    log.append("t", [(b"k", b"v")], timestamp_ms=1)
    reader = EmbeddedLog(log.path)
    try:
        assert reader.read("t", partition_for(b"k", 3), 0)[0].value == b"v"
    finally:
        reader.close()


def test_the_registry_gives_stable_ids_and_versions(log: EmbeddedLog) -> None:
    registry = EmbeddedSchemaRegistry(log)
    first = registry.register("t-value", V1)
    assert registry.register("t-value", AvroSchema.parse(V1.text.replace(",", ", "))) == first
    second = registry.register("t-value", V2)
    assert second != first
    # The same schema under another subject keeps its id.
    assert registry.register("u-value", V1) == first

    latest = registry.latest("t-value")
    assert (latest.version, latest.schema_id, latest.schema) == (2, second, V2)
    assert registry.schema(first) == V1
    found = registry.lookup("t-value", V1)
    assert found is not None
    assert found.version == 1
    assert registry.lookup("u-value", V2) is None
    with pytest.raises(NotFound):
        registry.schema(999)
    with pytest.raises(NotFound):
        registry.latest("missing-value")


def test_a_reopened_log_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log = EmbeddedLog(path)
    log.ensure_topic("t", 2)
    schema_id = EmbeddedSchemaRegistry(log).register("t-value", V1)
    log.append("t", [(b"k", b"v")], timestamp_ms=1)
    log.commit("g", "t", 0, 1)
    log.close()

    again = EmbeddedLog(path)
    try:
        assert again.partitions("t") == 2
        assert EmbeddedSchemaRegistry(again).latest("t-value").schema_id == schema_id
        assert again.read("t", partition_for(b"k", 2), 0)[0].value == b"v"
        assert again.committed("g", "t", 0) == 1
    finally:
        again.close()


def test_headers_are_kept_in_order_with_repeated_names(log: EmbeddedLog) -> None:
    headers = (("reason", "поле".encode()), ("reason", b""), ("raw", bytes(range(256))))
    log.append_entries("t", [Entry(b"k", b"with", headers), Entry(b"k", b"without")], timestamp_ms=1)
    with_headers, without = log.read("t", partition_for(b"k", 3), 0)
    assert (with_headers.value, with_headers.headers) == (b"with", headers)
    assert (without.value, without.headers) == (b"without", ())


def test_a_log_written_before_records_had_headers_opens_and_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        # The records table as the first release of the log created it.
        old.execute("CREATE TABLE topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL) STRICT")
        old.execute(
            'CREATE TABLE records (topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, '
            "key BLOB, value BLOB NOT NULL, timestamp_ms INTEGER NOT NULL, PRIMARY KEY (topic, partition, "
            '"offset")) STRICT, WITHOUT ROWID'
        )
        old.execute("INSERT INTO topics VALUES ('t', 1)")
        old.execute("INSERT INTO records VALUES ('t', 0, 0, x'6b', x'6f6c64', 5)")
    log = EmbeddedLog(path)
    try:
        log.append_entries("t", [Entry(b"k", b"new", (("h", b"1"),))], timestamp_ms=6)
        assert [(r.value, r.headers) for r in log.read("t", 0, 0)] == [(b"old", ()), (b"new", (("h", b"1"),))]
    finally:
        log.close()
    old.close()
