"""A rating change as the Avro record of `protos/avro/rating_change.avsc`, and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from meshkit.avro_wire import AvroSchema
from meshkit.bundled_schemas import bundled_schema
from ugc_svc.domain.ratings import RatingRequest
from ugc_svc.domain.timestamps import from_millis, to_millis

SCHEMA_NAME = "rating_change"


def rating_schema() -> AvroSchema:
    return bundled_schema(SCHEMA_NAME)


def to_record(request: RatingRequest) -> dict[str, Any]:
    return {
        "change_id": request.change_id,
        "user_id": request.user_id,
        "movie_id": request.movie_id,
        "score": request.score,
        "changed_at": to_millis(request.changed_at, "changed_at"),
    }


def from_record(record: Mapping[str, Any]) -> RatingRequest:
    changed_at = record["changed_at"]
    return RatingRequest(
        change_id=record["change_id"],
        user_id=record["user_id"],
        movie_id=record["movie_id"],
        score=record.get("score"),
        changed_at=changed_at if isinstance(changed_at, datetime) else from_millis(int(changed_at)),
    )


def message_key(request: RatingRequest) -> bytes:
    return request.movie_id.encode()
