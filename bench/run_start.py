"""Time from `make run` to "cinemesh is up" on a fresh clone: cold (empty caches) and warm.

    python -m bench.run_start [--write docs/benchmarks.md]

Clones this repository into a temporary directory, then runs `make run` three times, stopping
it with SIGINT once it is up: (1) with empty uv, Go and tool caches (`cold`: every download and
build happens), (2) again in the same clone (`warm`: nothing to set up), (3) with a fresh
virtualenv but the caches kept (`fresh clone, warm caches`, what a second clone sees).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import publish

REPO = Path(__file__).resolve().parent.parent
MARK = ("<!-- run-start:begin -->", "<!-- run-start:end -->")


def time_make_run(clone: Path, env: dict[str, str], timeout: float = 600) -> float:
    started = time.monotonic()
    log = clone / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while "cinemesh is up" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError(f"make run did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cinemesh-bench-") as tmp:
        root = Path(tmp)
        clone = root / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        caches = root / "caches"
        env = os.environ | {
            "UV_CACHE_DIR": str(caches / "uv"),
            "GOMODCACHE": str(caches / "gomod"),
            "GOCACHE": str(caches / "gobuild"),
            "CINEMESH_CACHE": str(caches / "cinemesh"),
        }
        cold = time_make_run(clone, env)
        warm = time_make_run(clone, env)
        shutil.rmtree(clone / ".venv")
        shutil.rmtree(clone / "build")
        fresh = time_make_run(clone, env)
        subprocess.run(["chmod", "-R", "u+w", str(caches)], check=False)
    section = "\n".join(
        [
            MARK[0],
            "## `make run` start time",
            "",
            f"`python -m bench.run_start` — {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores. "
            'From `make run` to the "cinemesh is up" line (all three services SERVING over gRPC health, Envoy ready).',
            "",
            "| case | seconds |",
            "|---|---|",
            "| cold: fresh clone, empty uv, Go and tool caches (downloads, builds protoc-gen-openapi, "
            f"generates and loads the demo catalogue) | {cold:.1f} |",
            f"| fresh clone, warm caches (new virtualenv and generated code) | {fresh:.1f} |",
            f"| warm: run again in the same clone | {warm:.1f} |",
            MARK[1],
        ]
    )
    publish(section, args.write, MARK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
