"""Pages of a user's list, newest first, and the opaque cursor that continues one.

A cursor holds the sort key of the last item a page showed; the next page starts strictly after it (keyset
pagination), so a walk never shows an item twice and costs the same on page 1 and page 100. The cursor is
URL-safe base64 of a small JSON array: the list it belongs to, then the key, then a checksum over both. The
checksum is not a secret: it catches a cursor that was cut, edited or taken from another list, which answer
INVALID_ARGUMENT instead of a silently wrong page. A forged one could only move where the caller's own list
resumes: the user always comes from the verified identity, never from a cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from meshkit.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 1024
_CHECKSUM_KEY = b"cinemesh.ugc.cursor.v1"

CursorKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None
    """Continues after the last item; None when nothing follows."""


def check_limit(limit: int, field: str = "limit") -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArgument.of(field, f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def page_of(items: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The first `limit` of `items`, which a store fetched as limit + 1 rows to learn whether more follow."""
    shown = tuple(items[:limit])
    return Page(shown, cursor_of(shown[-1]) if len(items) > limit else None)


def encode_cursor(kind: str, key: CursorKey) -> str:
    payload = [kind, *key]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    signed = [*payload, _checksum(text)]
    raw = json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, shape: Sequence[type], field: str = "cursor") -> CursorKey:
    """The key `encode_cursor(kind, key)` put in `cursor`; InvalidArgument naming `field` for anything else."""
    refused = InvalidArgument.of(field, "is not a cursor returned by this list")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signed = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        raise refused from None
    if not isinstance(signed, list) or len(signed) != len(shape) + 2:
        raise refused
    *payload, checksum = signed
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if payload[0] != kind or checksum != _checksum(text):
        raise refused
    key = tuple(payload[1:])
    # bool is an int to isinstance; no key of ours holds one.
    if any(type(value) is not wanted for value, wanted in zip(key, shape, strict=True)):
        raise refused
    return key


def _checksum(text: str) -> str:
    return hashlib.blake2b(text.encode(), key=_CHECKSUM_KEY, digest_size=8).hexdigest()
