"""Where the contract tools are: `make setup` builds them into the tool cache and names each in build/tools.env.

The gate and the tests read that file, so they find the same tools whether they run under make or are called
directly (`.venv/bin/pytest tests/integration`); a variable of the same name in the environment wins.
"""

from __future__ import annotations

import os
from pathlib import Path

TOOLS_ENV = Path(__file__).resolve().parents[2] / "build" / "tools.env"
NAMES = ("CONTRACTS_BUF", "CONTRACTS_OASDIFF", "CONTRACTS_OPENAPI_PLUGIN")


def tool_paths() -> dict[str, str]:
    """Variable name → path, from build/tools.env with the environment's values over it."""
    found: dict[str, str] = {}
    if TOOLS_ENV.is_file():
        for line in TOOLS_ENV.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() in NAMES:
                found[name.strip()] = value.strip()
    found.update({name: os.environ[name] for name in NAMES if os.environ.get(name)})
    return found
