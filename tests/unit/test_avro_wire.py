"""Confluent's wire format around Avro bodies, and Kafka's partitioner: the bytes and partitions both buses share."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from meshkit.avro_wire import AvroSchema, WireFormatError, decode, encode, schema_id_of
from meshkit.bundled_schemas import bundled_schema, bundled_schemas, value_subject
from meshkit.partitioner import murmur2, partition_for
from ugc_svc.adapters.playback_event_avro import from_record, to_record
from ugc_svc.domain.playback import EventType, PlaybackEvent

SCHEMA = bundled_schema("playback_event")
EVENT = PlaybackEvent(
    "e-1", "пользователь", "tt0112270", EventType.SEEK_FORWARD, 5_000_000_000,
    datetime(2026, 12, 1, 9, 0, 0, 123000, tzinfo=UTC), datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC), device="tv",
)  # fmt: skip


def test_the_frame_is_magic_byte_then_the_big_endian_schema_id() -> None:
    message = encode(0x01020304, SCHEMA, to_record(EVENT))
    assert message[:5] == b"\x00\x01\x02\x03\x04"
    assert schema_id_of(message) == 0x01020304


def test_an_event_round_trips() -> None:
    assert from_record(decode(encode(7, SCHEMA, to_record(EVENT)), SCHEMA)) == EVENT


def test_the_body_is_avro_binary_of_the_fields_in_schema_order() -> None:
    # Strings are zigzag-varint lengths then UTF-8: the first field is event_id "e-1".
    assert encode(1, SCHEMA, to_record(EVENT))[5:9] == b"\x06e-1"


@pytest.mark.parametrize("message", [b"", b"\x00\x00\x00", b"\x01\x00\x00\x00\x01\x06e-1"])
def test_unframed_bytes_are_refused(message: bytes) -> None:
    with pytest.raises(WireFormatError):
        schema_id_of(message)


def test_a_truncated_or_padded_body_is_refused() -> None:
    message = encode(1, SCHEMA, to_record(EVENT))
    with pytest.raises(WireFormatError):
        decode(message[:-3], SCHEMA)
    with pytest.raises(WireFormatError, match="left after"):
        decode(message + b"\x00", SCHEMA)


def test_a_record_missing_a_field_is_refused() -> None:
    record = to_record(EVENT)
    del record["movie_id"]
    with pytest.raises(ValueError, match="movie_id"):
        encode(1, SCHEMA, record)


def test_the_same_schema_in_other_whitespace_has_the_same_text() -> None:
    spaced = json.dumps(json.loads(SCHEMA.text), indent=4)
    assert AvroSchema.parse(spaced) == SCHEMA


def test_the_bundled_schema_keeps_times_in_milliseconds_and_optional_fields_defaulted() -> None:
    fields = {f["name"]: f for f in json.loads(SCHEMA.text)["fields"]}
    assert json.loads(SCHEMA.text)["namespace"] == "cinemesh.ugc.v1"
    for name in ("client_time", "server_time"):
        assert fields[name]["type"] == {"type": "long", "logicalType": "timestamp-millis"}
    for name in ("device", "playback_session_id"):
        assert (fields[name]["type"], fields[name]["default"]) == (["null", "string"], None)
    assert set(bundled_schemas()) == {"playback_event", "rating_change"}
    assert value_subject("ugc.playback-events") == "ugc.playback-events-value"


@pytest.mark.parametrize(
    ("key", "hashed"),
    [
        # Kafka's own test vectors for Utils.murmur2.
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ("abc", 479470107),
    ],
)
def test_murmur2_is_kafkas(key: str, hashed: int) -> None:
    assert murmur2(key.encode()) == hashed


def test_a_key_always_gets_the_same_partition_and_keys_spread() -> None:
    assert partition_for(b"user-1", 6) == partition_for(b"user-1", 6)
    assert len({partition_for(f"user-{n}".encode(), 6) for n in range(100)}) == 6
    with pytest.raises(ValueError, match="at least one"):
        partition_for(b"x", 0)


def test_without_logical_types_a_timestamp_decodes_as_its_epoch_milliseconds() -> None:
    raw = SCHEMA.without_logical_types()
    message = encode(3, SCHEMA, to_record(EVENT))

    as_written = decode(message, raw)
    resolved = decode(message, raw, SCHEMA.without_logical_types())

    millis = to_record(EVENT)["client_time"]
    assert as_written["client_time"] == resolved["client_time"] == millis
    assert "logicalType" not in raw.text
    assert decode(message, SCHEMA)["client_time"] == EVENT.client_time
