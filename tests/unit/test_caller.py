"""A service knows the caller only by the `x-user-id` header the gateway sets: exactly one, not blank."""

from __future__ import annotations

import pytest

from meshkit.caller import MAX_USER_ID_CHARS, caller_user_id
from meshkit.errors import Unauthenticated


class Metadata:
    """The one part of a servicer context that names the caller."""

    def __init__(self, *pairs: tuple[str, str | bytes]) -> None:
        self.pairs = pairs

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self.pairs


def test_the_header_names_the_user() -> None:
    assert caller_user_id(Metadata(("user-agent", "x"), ("x-user-id", "u-42"))) == "u-42"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pairs",
    [
        (),
        (("x-user-id", ""),),
        (("x-user-id", "   "),),
        (("x-user-id", "u" * (MAX_USER_ID_CHARS + 1)),),
        (("x-user-id", "a"), ("x-user-id", "b")),
        (("x-user-id-bin", b"u"),),
        (("authorization", "Bearer x"),),
    ],
    ids=repr,
)
def test_no_single_plain_user_is_unauthenticated(pairs: tuple[tuple[str, str | bytes], ...]) -> None:
    with pytest.raises(Unauthenticated):
        caller_user_id(Metadata(*pairs))  # type: ignore[arg-type]
