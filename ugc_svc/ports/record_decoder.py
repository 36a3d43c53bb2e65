"""Port: turning the bytes of a record on the event bus back into what the service wrote."""

from __future__ import annotations

from typing import Protocol, TypeVar

T_co = TypeVar("T_co", covariant=True)


class Undecodable(ValueError):
    """The bytes will never decode (not framed, unknown schema id, a body its schema cannot read, values the domain
    refuses): reading them again cannot help, so a consumer passes over them."""


class RecordDecoder(Protocol[T_co]):
    """Decodes Confluent-framed Avro with the writer schema the record's id names on the bus's registry, read as the
    bundled schema, so records of an older or newer compatible schema decode too.

    Raises Undecodable for a record that never will, meshkit.errors.Unavailable when the registry cannot be asked
    now (the caller retries). A schema id is looked up once, then kept.
    """

    async def decode(self, value: bytes) -> T_co: ...
