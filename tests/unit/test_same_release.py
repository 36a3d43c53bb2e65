"""Which running versions count as the pinned release: a version pin names a release, a shorter one its line."""

from __future__ import annotations

import pytest

from devstack.engines.base import same_release


@pytest.mark.parametrize(
    ("running", "pinned", "same"),
    [
        ("3.8.0", "3.8.0", True),
        ("15.14", "15", True),
        ("v1.24.2", "v1.24.2", True),
        ("3.8.1", "3.8.0", False),
        ("3.8", "3.8.0", False),
        ("16.1", "15", False),
        ("v1.24.20", "v1.24.2", False),
    ],
)
def test_same_release(running: str, pinned: str, same: bool) -> None:
    assert same_release(running, pinned) is same
