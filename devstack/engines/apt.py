"""Debian packages an engine runs from: installed once, and never started as the distribution's own services.

Not an engine itself: engines built on Debian packages call `AptPackages(...).install()` from their `install()`.
A warm install is one `dpkg-query` call (milliseconds). A cold one runs `apt-get install`, refreshing the package
lists first only when apt does not know the packages or their files have gone from the mirror.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from devstack.engines.base import EngineError, is_root

POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
# invoke-rc.d (and deb-systemd-invoke) ask this script before a maintainer script starts a service; 101 = "no".
_DENY_ALL_SERVICES = "#!/bin/sh\n# Written by cinemesh devstack for the duration of an apt-get install.\nexit 101\n"
_APT_LOCK_WAIT = "120"


class AptPackages:
    """Debian packages that must be installed; `install` is idempotent."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def missing(self) -> list[str]:
        result = subprocess.run(
            ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\n", *self.names],
            capture_output=True,
            text=True,
            check=False,
        )
        installed = {line.split()[0] for line in result.stdout.splitlines() if line.split()[1:2] == ["ii"]}
        return [name for name in self.names if name not in installed]

    def install(self) -> None:
        missing = self.missing()
        if not missing:
            return
        if not is_root():
            raise EngineError(
                f"Debian packages {' '.join(missing)} are missing and installing them needs root: "
                f"sudo apt-get install -y --no-install-recommends {' '.join(missing)}"
            )
        with _services_kept_down():
            if not _known_to_apt(missing):
                _apt_get("update")
            try:
                _apt_get("install", "-y", "--no-install-recommends", *missing)
            except EngineError:
                # Package lists older than the mirror point at files it no longer has: refresh once, retry once.
                _apt_get("update")
                _apt_get("install", "-y", "--no-install-recommends", *missing)
        still_missing = self.missing()
        if still_missing:
            raise EngineError(f"apt-get finished but {' '.join(still_missing)} are still not installed")


def _known_to_apt(names: Sequence[str]) -> bool:
    result = subprocess.run(["apt-cache", "policy", *names], capture_output=True, text=True, check=False)
    candidates = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if "Candidate:" in line]
    return len(candidates) == len(names) and "(none)" not in candidates


def _apt_get(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "-q", "-o", f"DPkg::Lock::Timeout={_APT_LOCK_WAIT}", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise EngineError(f"`{' '.join(command)}` failed with exit code {result.returncode}\n{output}")


@contextlib.contextmanager
def _services_kept_down() -> Iterator[None]:
    """Packages such as postgresql-15 start a default instance from their postinst; ours run from the work dir."""
    if POLICY_RC_D.exists():
        # The machine already has a policy (containers ship one that denies everything): respect it.
        yield
        return
    POLICY_RC_D.write_text(_DENY_ALL_SERVICES)
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC_D.unlink(missing_ok=True)
