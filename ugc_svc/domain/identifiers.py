"""What a user, movie or report id may be: text every store compares the same way.

SQLite compares TEXT byte by byte as UTF-8, MongoDB compares strings by their UTF-8 bytes, Python by code points:
the three agree on any text that is valid Unicode, so ids that cannot be UTF-8 (lone surrogates) are refused.
Control characters are refused too: an id is shown in logs and lists, and none of ours needs one.
"""

from __future__ import annotations

import unicodedata

from meshkit.errors import InvalidArgument

MAX_ID_LENGTH = 128


def check_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.of(field, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument.of(field, f"must be at most {MAX_ID_LENGTH} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument.of(field, "must be valid Unicode text") from None
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise InvalidArgument.of(field, "must not contain control characters")
    return value
