"""Apache Kafka in KRaft mode, one node acting as broker and controller, from the jars on Maven Central.

The jars (Kafka and its runtime dependencies, plus the SLF4J binding that makes it log through log4j2) sit in
the cache; configuration, metadata and topics live under the work directory. Storage is formatted once, when it
has no meta.properties yet: formatting again would fail.
"""

from __future__ import annotations

import base64
import re
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.engines import maven
from devstack.engines.base import DevstackSettings, EngineError, Port, log_tail
from devstack.engines.detached import DetachedEngine, Launch
from devstack.engines.java import find_java
from devstack.engines.manifest import ensure_installed
from devstack.engines.probe import tcp_open

JAVA_MINIMUM = 17
# AppInfoParser's start-up line, "Kafka version: 4.4.0".
_VERSION_LINE = re.compile(r"\bKafka version: (\S+)")
# The broker logs it once it has finished starting, which may be a moment after it first answers clients.
_VERSION_LINE_WAIT = 15.0

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
# Every client connection and each config dump at INFO would drown what matters when a test fails.
logger.network.name = kafka.network
logger.network.level = warn
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
"""


class KafkaSettings(BaseSettings):
    """Environment variables prefixed DEVSTACK_KAFKA_."""

    model_config = SettingsConfigDict(env_prefix="DEVSTACK_KAFKA_", extra="ignore", frozen=True)

    version: str = "4.4.0"
    scala_version: str = "2.13"
    log4j_version: str = "2.25.5"
    port: int = Field(9092, ge=1, le=65535)
    controller_port: int = Field(9093, ge=1, le=65535)
    heap_max: str = "512m"
    java_opts: str = ""
    auto_create_topics: bool = Field(
        False,
        description="Let the broker create a topic on first use. Off: topics are made on purpose (`make schemas`), "
        "with their partition count, so a producer whose topic is missing fails instead of writing to a topic of "
        "one partition.",
    )
    topic_replication_factor: int = Field(
        1, ge=1, le=32767, description="Replicas of the topics `make schemas` creates (one node here: 1)."
    )


class Kafka(DetachedEngine):
    name = "kafka"
    stop_grace = 30.0

    def __init__(self, settings: KafkaSettings | None = None, devstack: DevstackSettings | None = None) -> None:
        super().__init__(devstack)
        self.settings = settings or KafkaSettings()

    @property
    def artifacts(self) -> list[maven.Artifact]:
        return [
            maven.Artifact("org.apache.kafka", f"kafka_{self.settings.scala_version}", self.settings.version),
            # Without an SLF4J binding Kafka logs nothing at all.
            maven.Artifact("org.apache.logging.log4j", "log4j-slf4j-impl", self.settings.log4j_version),
        ]

    @property
    def install_dir(self) -> Path:
        return self.devstack.cache_dir / f"kafka-{self.settings.version}"

    def install(self) -> None:
        find_java(JAVA_MINIMUM, devstack=self.devstack)
        source = "maven:" + ",".join(artifact.coordinates for artifact in self.artifacts)
        ensure_installed(
            self.install_dir,
            source,
            lambda target: maven.copy_with_dependencies(
                self.artifacts, target / "lib", cache_dir=self.devstack.cache_dir
            ),
        )

    def endpoints(self) -> Mapping[str, str]:
        return {"bootstrap_servers": f"127.0.0.1:{self.settings.port}"}

    def healthy(self) -> bool:
        # An AdminClient against a closed port only logs connection errors until its timeout: ask the port first.
        if not tcp_open("127.0.0.1", self.settings.port):
            return False
        admin = AdminClient({"bootstrap.servers": self.endpoints()["bootstrap_servers"], "log_level": 2})
        try:
            return bool(admin.list_topics(timeout=1).brokers)
        except KafkaException:
            return False

    @property
    def pinned_version(self) -> str:
        return self.settings.version

    def running_version(self) -> str | None:
        """The version the broker logged when this run of it started.

        Kafka's protocol never tells a client the broker's release (ApiVersions lists request versions only, and
        JMX is not enabled here), so the broker's own start-up line in this run's log is the honest source.
        """
        deadline = time.monotonic() + _VERSION_LINE_WAIT
        while True:
            pid = self.pid_file.read()
            if pid is None:
                return None
            try:
                text = self.log_path().read_text(errors="replace")
            except OSError:
                return None
            # Only what this run logged: the start marker opens each run's section of the log.
            match = _VERSION_LINE.search(text.rpartition(f"--- devstack: starting {self.name}")[2])
            if match is not None:
                return match.group(1)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)

    def ports(self) -> Sequence[Port]:
        return [
            Port(self.settings.port, "DEVSTACK_KAFKA_PORT"),
            Port(self.settings.controller_port, "DEVSTACK_KAFKA_CONTROLLER_PORT"),
        ]

    def prepare(self) -> Launch:
        lib = self.install_dir / "lib"
        if not any(lib.glob(f"kafka_*-{self.settings.version}.jar")):
            raise EngineError(f"Kafka {self.settings.version} is not installed in {self.install_dir}: install first")
        java = find_java(JAVA_MINIMUM, devstack=self.devstack)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        properties = self.home / "server.properties"
        properties.write_text(self._server_properties())
        log4j2 = self.home / "log4j2.properties"
        log4j2.write_text(_LOG4J2)
        classpath = f"{lib}/*"
        jvm = [str(java.binary), f"-Xmx{self.settings.heap_max}", *self.settings.java_opts.split()]
        jvm += [f"-Dlog4j2.configurationFile={log4j2}", "-cp", classpath]
        if not (self.data_dir / "meta.properties").exists():
            self._format(jvm, properties)
        return Launch([*jvm, "kafka.Kafka", str(properties)], cwd=self.home)

    def _format(self, jvm: list[str], properties: Path) -> None:
        argv = [*jvm, "kafka.tools.StorageTool", "format", "--standalone", "-t", _cluster_id(), "-c", str(properties)]
        with self.log_path().open("a") as out:
            out.write(f"--- devstack: formatting {self.data_dir}\n")
            out.flush()
            result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False)
        if result.returncode != 0:
            raise EngineError(
                f"formatting Kafka storage failed (exit {result.returncode})\n{log_tail(self.log_path())}"
            )

    def _server_properties(self) -> str:
        port, controller = self.settings.port, self.settings.controller_port
        settings: dict[str, object] = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.data_dir,
            "num.partitions": 1,
            "auto.create.topics.enable": str(self.settings.auto_create_topics).lower(),
            # One node: internal topics can have one replica only.
            "offsets.topic.replication.factor": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            # Fewer internal partitions: the first consumer group then waits for 1 partition leader, not 50.
            "offsets.topic.num.partitions": 1,
            "group.initial.rebalance.delay.ms": 0,
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())


def _cluster_id() -> str:
    """A random cluster id as Kafka writes one (16 bytes, URL-safe base64 without padding), without starting a JVM."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka avoids ids that start with "-": they read as command-line options.
        if not text.startswith("-"):
            return text
