"""EventPublisher on either event bus, through meshkit's RecordPublisher (Kafka or the embedded log): each event
is framed here with the id the registry holds the bundled schema under, keyed by user id."""

from __future__ import annotations

from collections.abc import Sequence

from meshkit.avro_wire import AvroSchema, encode
from meshkit.record_publisher import OutgoingRecord, RecordPublisher
from ugc_svc.adapters.playback_event_avro import message_key, to_record
from ugc_svc.domain.playback import PlaybackEvent


class BusEventPublisher:
    def __init__(self, publisher: RecordPublisher, *, topic: str, schema: AvroSchema, schema_id: int) -> None:
        self._publisher = publisher
        self._topic = topic
        self._schema = schema
        self._schema_id = schema_id

    async def publish(self, events: Sequence[PlaybackEvent]) -> None:
        records = [
            OutgoingRecord(message_key(event), encode(self._schema_id, self._schema, to_record(event)))
            for event in events
        ]
        await self._publisher.publish(self._topic, records)

    async def close(self) -> None:
        await self._publisher.close()
