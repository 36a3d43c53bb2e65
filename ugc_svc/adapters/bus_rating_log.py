"""RatingLog on either event bus, through meshkit's RecordPublisher (Kafka or the embedded log): the change is
framed here with the id the registry holds the bundled schema under, keyed by movie id."""

from __future__ import annotations

from meshkit.avro_wire import AvroSchema, encode
from meshkit.record_publisher import OutgoingRecord, RecordPublisher
from ugc_svc.adapters.rating_change_avro import message_key, to_record
from ugc_svc.domain.ratings import RatingRequest


class BusRatingLog:
    def __init__(self, publisher: RecordPublisher, *, topic: str, schema: AvroSchema, schema_id: int) -> None:
        self._publisher = publisher
        self._topic = topic
        self._schema = schema
        self._schema_id = schema_id

    async def append(self, request: RatingRequest) -> None:
        value = encode(self._schema_id, self._schema, to_record(request))
        await self._publisher.publish(self._topic, [OutgoingRecord(message_key(request), value)])

    async def close(self) -> None:
        await self._publisher.close()
