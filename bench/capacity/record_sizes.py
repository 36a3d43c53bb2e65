"""Sizes of what we store, computed from our own encoders: Avro playback events as the UGC service writes them to
Kafka, and the UGC documents as docs/ugc-mongodb.md shows them, in BSON."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import bson

from meshkit.avro_wire import encode
from meshkit.bundled_schemas import bundled_schema
from tests.playback_streams import StreamShape, avro_record, deliveries

# An identity provider's subject, as the generated streams make them: a uuid (36 characters).
USER = "0b9e8c1e-7f4a-4c55-9d1f-6a8e2f0c1d22"
MOVIE = "tt0083658"


@dataclass(frozen=True)
class EventSize:
    events: int
    value_bytes: float
    """Mean Kafka message value: Confluent framing (5 bytes) and the Avro body."""
    key_bytes: float
    """Mean message key: the user id, UTF-8."""


def playback_event_size(events: int = 20_000, seed: int = 1) -> EventSize:
    """Mean sizes over `events` generated playback events (tests/playback_streams.py: uuid ids, sessions named or
    not, devices or none), each encoded exactly as the UGC service's Kafka publisher encodes it."""
    schema = bundled_schema("playback_event")
    shape = StreamShape(users=500, movies=2000, viewings=events)
    stream = itertools.islice((event for viewing in deliveries(seed, shape) for event in viewing), events)
    values = keys = count = 0
    for event in stream:
        values += len(encode(1, schema, avro_record(event)))
        keys += len(event.user_id.encode())
        count += 1
    return EventSize(count, values / count, keys / count)


def document_sizes() -> dict[str, int]:
    """BSON bytes of one document of each UGC collection, shaped as docs/ugc-mongodb.md shows them, with a uuid
    user id."""
    when = datetime(2026, 12, 1, 21, 15, 4, 1000, tzinfo=UTC)
    pair = f"{len(USER)}:{USER}/{MOVIE}"
    report = str(uuid.UUID(int=7, version=4))
    documents = {
        "resume_positions": {
            "_id": pair,
            "user_id": USER,
            "movie_id": MOVIE,
            "position_ms": 3_725_123,
            "duration_ms": 7_020_000,
            "finished": False,
            "client_time": when,
            "server_time": when,
            "report_id": report,
            "device": "Android TV",
            "recency": f"{1796159703456:015d}{1796159704001:015d}{report}",
        },
        "favourites": {"_id": pair, "user_id": USER, "movie_id": MOVIE, "added_at": when},
        "ratings": {
            "_id": pair,
            "user_id": USER,
            "movie_id": MOVIE,
            "score": 8,
            "rated": True,
            "updated_at_ms": 1_796_159_704_001,
            "applied_offset": 5121,
        },
        "movie_ratings": {"_id": MOVIE, "count": 1288, "total": 9705, "applied_offset": 5121},
    }
    return {name: len(bson.encode(document)) for name, document in documents.items()}
