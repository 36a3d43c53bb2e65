"""Use case: project the playback events on the event log into resume positions, in the background.

The playback topic is keyed by user, so the projection (`service_layer/projection.py`) gives each user one writer
at a time, which FerretDB needs (its conditional updates are not atomic). Every event type carries the position
the player was at (`position_of`); `ResumePositions.record` keeps the newest report, so a replayed or late event
changes nothing.
"""

from __future__ import annotations

from meshkit.event_consumer import ConsumedRecord
from ugc_svc.domain.playback import PlaybackEvent
from ugc_svc.domain.resume import position_of
from ugc_svc.ports.record_decoder import RecordDecoder
from ugc_svc.ports.resume_positions import ResumePositions
from ugc_svc.service_layer.projection import Apply


def positions_applier(decoder: RecordDecoder[PlaybackEvent], positions: ResumePositions) -> Apply:
    async def apply(record: ConsumedRecord) -> None:
        event = await decoder.decode(record.value)
        await positions.record(position_of(event))

    return apply
