"""Use case: apply the ratings log to the ratings store — each change at its offset in the movie's partition."""

from __future__ import annotations

from meshkit.event_consumer import ConsumedRecord
from ugc_svc.domain.ratings import RatingRequest
from ugc_svc.ports.ratings import Ratings
from ugc_svc.ports.record_decoder import RecordDecoder
from ugc_svc.service_layer.projection import Apply


def ratings_applier(decoder: RecordDecoder[RatingRequest], ratings: Ratings) -> Apply:
    async def apply(record: ConsumedRecord) -> None:
        request = await decoder.decode(record.value)
        await ratings.apply(request.at(record.offset))

    return apply
