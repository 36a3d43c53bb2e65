"""Artifacts from Maven Central, fetched with the machine's `mvn` into a repository inside the engines' cache.

The repository lives in the cache (not ~/.m2) so that "an empty cache" means a cold install, and a damaged
installed tree can be rebuilt from the downloaded archives without the network. `-C` makes Maven refuse a download
whose checksum does not match the one published beside it, and before each run downloads that no longer match
their kept checksum are deleted, so Maven fetches them again instead of trusting them.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from devstack.engines.base import EngineError, require_command

log = logging.getLogger(__name__)

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    type: str = "jar"
    classifier: str = ""

    @property
    def coordinates(self) -> str:
        parts = [self.group, self.artifact, self.version, self.type]
        return ":".join([*parts, self.classifier] if self.classifier else parts)


def repository(cache_dir: Path) -> Path:
    return cache_dir / "maven"


def copy(artifact: Artifact, dest: Path, *, cache_dir: Path) -> Path:
    """Fetch one artifact (no dependencies) into `dest`; returns the file."""
    dest.mkdir(parents=True, exist_ok=True)
    _mvn(
        [
            f"{DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={artifact.coordinates}",
            f"-DoutputDirectory={dest}",
            "-Dmdep.overWriteReleases=true",
        ],
        cache_dir=cache_dir,
        cwd=dest,
    )
    suffix = f"-{artifact.classifier}" if artifact.classifier else ""
    path = dest / f"{artifact.artifact}-{artifact.version}{suffix}.{artifact.type}"
    if not path.is_file():
        raise EngineError(f"mvn finished but {path} is not there")
    return path


def copy_with_dependencies(artifacts: Sequence[Artifact], dest: Path, *, cache_dir: Path) -> list[Path]:
    """Fetch jars and their runtime dependencies (Maven's version mediation) into `dest`; returns the jars."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="devstack-pom-") as project:
        Path(project, "pom.xml").write_text(_pom(artifacts))
        _mvn(
            [
                f"{DEPENDENCY_PLUGIN}:copy-dependencies",
                f"-DoutputDirectory={dest}",
                "-DincludeScope=runtime",
            ],
            cache_dir=cache_dir,
            cwd=Path(project),
        )
    jars = sorted(dest.glob("*.jar"))
    if not jars:
        raise EngineError(f"mvn finished but put no jar into {dest}")
    return jars


def copy_unpacked(artifact: Artifact, dest: Path, *, cache_dir: Path) -> None:
    """Fetch an archive artifact (zip, tar.gz) and unpack it into `dest`."""
    with tempfile.TemporaryDirectory(prefix="download-", dir=dest.parent) as download:
        unpack(copy(artifact, Path(download), cache_dir=cache_dir), dest)


def unpack(archive: Path, dest: Path) -> None:
    """Unpack a .zip or .tar.gz into `dest`, keeping exec bits; a single top-level directory is dropped."""
    with tempfile.TemporaryDirectory(prefix="unpack-", dir=dest.parent) as scratch:
        target = Path(scratch)
        if archive.name.endswith(".zip"):
            _unzip(archive, target)
        elif archive.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
        else:
            raise EngineError(f"do not know how to unpack {archive.name}")
        entries = list(target.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
        dest.mkdir(parents=True, exist_ok=True)
        for entry in top.iterdir():
            shutil.move(str(entry), dest / entry.name)


def _unzip(archive: Path, target: Path) -> None:
    # zipfile drops Unix modes: restore them from the entries (bin/ scripts must stay executable).
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            extracted = Path(zipped.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                extracted.chmod(mode)


def _mvn(goals: Sequence[str], *, cache_dir: Path, cwd: Path) -> None:
    mvn = require_command("mvn", "install Maven 3.6+ (Debian: apt-get install -y maven)")
    _drop_damaged(repository(cache_dir))
    argv = [
        mvn,
        "-q",
        "-B",
        "-C",
        "-Dstyle.color=never",
        f"-Dmaven.repo.local={repository(cache_dir)}",
        *goals,
    ]
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"{' '.join(argv)} took longer than {_TIMEOUT:.0f} s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-40:]
        raise EngineError(f"{' '.join(argv)} exited {result.returncode}:\n" + "\n".join(output))


def _drop_damaged(repo: Path) -> None:
    """Delete downloads that no longer match the checksum published beside them, so Maven fetches them again.

    Maven trusts its local repository: without this, a damaged archive there would be unpacked again and again.
    """
    if not repo.is_dir():
        return
    for checksum in repo.rglob("*.sha1"):
        download = checksum.with_suffix("")
        if not download.is_file():
            continue
        published = checksum.read_text().split()[:1]
        with download.open("rb") as stream:
            actual = hashlib.file_digest(stream, "sha1").hexdigest()
        if published != [actual]:
            log.warning("%s does not match its published sha1: fetching it again", download)
            download.unlink()
            checksum.unlink()


def _pom(artifacts: Sequence[Artifact]) -> str:
    dependencies = "".join(
        "<dependency>"
        f"<groupId>{escape(a.group)}</groupId><artifactId>{escape(a.artifact)}</artifactId>"
        f"<version>{escape(a.version)}</version><type>{escape(a.type)}</type>"
        + (f"<classifier>{escape(a.classifier)}</classifier>" if a.classifier else "")
        + "</dependency>\n"
        for a in artifacts
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "<modelVersion>4.0.0</modelVersion>\n"
        "<groupId>local.cinemesh.devstack</groupId><artifactId>engine-jars</artifactId><version>0</version>\n"
        "<packaging>pom</packaging>\n"
        f"<dependencies>\n{dependencies}</dependencies>\n"
        "</project>\n"
    )
