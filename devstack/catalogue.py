"""The catalogue `make run` serves: the demo one, generated here, unless CATALOGUE names a legacy export.

Loading goes through the ETL's own command line (`python -m etl load`), so what `make run` does is
exactly what an operator would do, progress bar included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack.gateway import REPO
from search_svc.adapters.tantivy_versions import is_published
from search_svc.index_engines import PROFILE_ENGINES, Engine, IndexTarget
from search_svc.settings import SearchSettings

DEMO = REPO / "build" / "catalogue" / "demo.sqlite"


class CatalogueError(RuntimeError):
    """The catalogue could not be generated or loaded; the ETL has said why on the terminal."""


def _etl(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "etl", *args], cwd=REPO, check=False)
    if result.returncode != 0:
        raise CatalogueError(f"`python -m etl {' '.join(args)}` failed (exit {result.returncode})")


def _loaded(profile: str, search: SearchSettings) -> bool:
    target = IndexTarget.from_settings(search, PROFILE_ENGINES[profile])
    if target.engine is Engine.TANTIVY:
        # The pointer file alone tells, without opening the index.
        return is_published(target.tantivy_dir)
    return target.loader().serving_count() is not None


def ensure(profile: str, search: SearchSettings, source: Path | None) -> str:
    """Load `source`, or the demo catalogue when nothing is loaded yet; say what is being served."""
    if source is None and _loaded(profile, search):
        return "the catalogue loaded before (CATALOGUE=path/to/export.sqlite loads another)"
    if source is None:
        if not DEMO.exists():
            DEMO.parent.mkdir(parents=True, exist_ok=True)
            _etl("demo", str(DEMO))
        source = DEMO
    if not source.is_file():
        raise CatalogueError(f"CATALOGUE={source} is not a file")
    if profile == "production":
        _etl("load", str(source), "--engine", "opensearch", "--opensearch-url", search.opensearch_url,
             "--alias", search.opensearch_alias)  # fmt: skip
    else:
        _etl("load", str(source), "--engine", "tantivy", "--tantivy-dir", str(search.tantivy_dir))
    return f"{source} (loaded now)"


def source_from_env() -> Path | None:
    value = os.environ.get("CATALOGUE", "").strip()
    return Path(value).expanduser().resolve() if value else None
