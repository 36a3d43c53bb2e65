"""Tools that read the event bus from outside the project's own code, so tests can check what is on a topic with
decoders the services do not share: `kcat` (Debian) reads raw messages off Kafka, and Apache Avro's own
`avro-tools` jar (Maven Central) decodes each Avro body with the writer schema (`fragtojson`).

Both install once: the Debian package through apt (a warm check is one dpkg query), the jar into the engines'
cache beside its manifest. Neither runs as a service.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines import maven
from devstack.engines.apt import AptPackages
from devstack.engines.base import DevstackSettings, EngineError
from devstack.engines.java import Java, find_java
from devstack.engines.manifest import ensure_installed

# avro-tools 1.12 is built for Java 11.
JAVA_MINIMUM = 11


class EventToolsSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_EVENT_TOOLS_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_EVENT_TOOLS_", extra="ignore", frozen=True)

    avro_tools_version: str = "1.12.2"


@dataclass(frozen=True)
class EventTools:
    kcat: Path
    java: Java
    avro_tools: Path
    """The avro-tools jar: `java -jar avro-tools.jar fragtojson --schema-file S.avsc BODY`."""


def install_event_tools(
    settings: EventToolsSettings | None = None, devstack: DevstackSettings | None = None
) -> EventTools:
    """Install kcat and avro-tools when missing (EngineError saying why when that fails); where they are."""
    settings = settings or EventToolsSettings()
    devstack = devstack or DevstackSettings()
    AptPackages("kcat").install()
    kcat = shutil.which("kcat")
    if kcat is None:
        raise EngineError("the Debian package kcat is installed but `kcat` is not on PATH")
    java = find_java(JAVA_MINIMUM, devstack=devstack)
    artifact = maven.Artifact("org.apache.avro", "avro-tools", settings.avro_tools_version)
    root = devstack.cache_dir / f"avro-tools-{settings.avro_tools_version}"
    ensure_installed(
        root, f"maven:{artifact.coordinates}", lambda target: maven.copy(artifact, target, cache_dir=devstack.cache_dir)
    )
    jar = root / f"avro-tools-{settings.avro_tools_version}.jar"
    if not jar.is_file():
        raise EngineError(f"avro-tools was installed into {root} but {jar.name} is not there")
    return EventTools(Path(kcat), java, jar)
