"""Tiers follow folders: tests/unit is the unit tier, tests/integration the integration tier, and so on."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.engine_fixtures"]

_TIERS = ("unit", "integration", "contract", "e2e", "engines")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        tier = Path(item.fspath).relative_to(root).parts[0]
        if tier in _TIERS:
            item.add_marker(getattr(pytest.mark, tier))
