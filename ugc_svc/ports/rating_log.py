"""Port: the ratings log, where users' rating changes wait, in order per movie, to be applied."""

from __future__ import annotations

from typing import Protocol

from ugc_svc.domain.ratings import RatingRequest


class RatingLog(Protocol):
    """Appends rating changes to the ratings topic, Avro in Confluent's wire format with the bundled schema
    (`protos/avro/rating_change.avsc`), keyed by movie id: one movie's changes share a partition and its order.

    The promises of the event publisher hold (ugc_svc/ports/event_publisher.py): durable before `append` returns,
    meshkit.errors.Unavailable once the adapter's timeout passed without an acknowledgement (the change may or may
    not be on the log then; the client retries, and the later change wins), never a hang.
    """

    async def append(self, request: RatingRequest) -> None: ...

    async def close(self) -> None: ...
