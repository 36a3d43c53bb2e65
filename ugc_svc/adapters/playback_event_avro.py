"""A playback event as the Avro record of `protos/avro/playback_event.avsc`, and back: both event bus adapters
write these records, and tests read them back through the same mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshkit.avro_wire import AvroSchema
from meshkit.bundled_schemas import bundled_schema
from ugc_svc.domain.playback import EventType, PlaybackEvent
from ugc_svc.domain.timestamps import to_millis

SCHEMA_NAME = "playback_event"


def playback_schema() -> AvroSchema:
    return bundled_schema(SCHEMA_NAME)


def to_record(event: PlaybackEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "user_id": event.user_id,
        "movie_id": event.movie_id,
        "type": event.type.value,
        "position_ms": event.position_ms,
        # timestamp-millis as the long it is on the wire: fastavro writes an int as it is, and skips converting
        # two datetimes for every event published.
        "client_time": to_millis(event.client_time, "client_time"),
        "server_time": to_millis(event.server_time, "server_time"),
        "device": event.device,
        "playback_session_id": event.playback_session_id,
        "duration_ms": event.duration_ms,
        "finished": event.finished,
    }


def from_record(record: Mapping[str, Any]) -> PlaybackEvent:
    return PlaybackEvent(
        event_id=record["event_id"],
        user_id=record["user_id"],
        movie_id=record["movie_id"],
        type=EventType(record["type"]),
        position_ms=record["position_ms"],
        client_time=record["client_time"],
        server_time=record["server_time"],
        device=record.get("device"),
        playback_session_id=record.get("playback_session_id"),
        duration_ms=record.get("duration_ms"),
        finished=record.get("finished"),
    )


def message_key(event: PlaybackEvent) -> bytes:
    return event.user_id.encode()
