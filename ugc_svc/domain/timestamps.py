"""Instants as the UGC stores keep them: UTC, to the millisecond (a BSON date holds no more), as epoch ms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meshkit.errors import InvalidArgument

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_millis(when: datetime, field: str) -> int:
    """Milliseconds since the epoch (sub-millisecond digits dropped); an instant without a zone or before 1970 is
    refused, naming `field`: no order could be promised for either."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidArgument.of(field, "must carry a time zone (RFC 3339 with Z or an offset)")
    if when < EPOCH:
        raise InvalidArgument.of(field, "must not be before 1970-01-01T00:00:00Z")
    return (when - EPOCH) // _MS


def from_millis(millis: int) -> datetime:
    return EPOCH + millis * _MS


def truncated(when: datetime, field: str) -> datetime:
    """`when` in UTC, to the millisecond: what every store gives back."""
    return from_millis(to_millis(when, field))
