"""Port: turning a record's bytes from the event bus back into a playback event."""

from __future__ import annotations

from typing import Protocol

from ugc_svc.domain.playback import PlaybackEvent


class UndecodableEvent(ValueError):
    """The bytes are not a playback event any schema of the bus describes (not framed, unknown schema id, body
    that does not decode, values the domain refuses). Reading it again cannot help: a consumer skips it."""


class EventDecoder(Protocol):
    """Decodes Confluent-framed Avro with the writer schema the record's id names on the bus's registry, read as the
    bundled schema (so records written by an older or newer compatible schema decode too).

    Raises UndecodableEvent for a record that will never decode, meshkit.errors.Unavailable when the registry
    cannot be asked now (the caller retries). A schema id is looked up once, then kept.
    """

    async def decode(self, value: bytes) -> PlaybackEvent: ...
