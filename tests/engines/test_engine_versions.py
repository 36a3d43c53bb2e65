"""Every engine says which release runs, asked of the engine itself, and one that is not the pinned release is
refused: when it is reused (already running) and when it is started here.

Another pin is simulated by settings that name another release for the running engine's own ports and work
directory: the engine answering is the real one.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest

import devstack.engines.postgres as postgres_module
from devstack.engines.apicurio import Apicurio, ApicurioSettings
from devstack.engines.base import DevstackSettings, Engine, EngineError, check_version
from devstack.engines.clickhouse import ClickHouse, ClickHouseSettings
from devstack.engines.ferretdb import FerretDB, FerretDBSettings
from devstack.engines.kafka import Kafka, KafkaSettings
from devstack.engines.opensearch import OpenSearch, OpenSearchSettings
from devstack.engines.postgres import Postgres, PostgresSettings
from devstack.mesh import free_port
from tests.engine_fixtures import session_engine

pytestmark = [
    pytest.mark.engines,
    pytest.mark.opensearch,
    pytest.mark.kafka,
    pytest.mark.apicurio,
    pytest.mark.clickhouse,
    pytest.mark.ferretdb,
]

ENGINES = ["opensearch", "kafka", "apicurio", "clickhouse", "ferretdb"]

# Each engine, configured as the devstack's but pinned to a release that is not running.
REPINNED: dict[str, Callable[[], Engine]] = {
    "opensearch": lambda: OpenSearch(OpenSearchSettings(version="3.7.0")),
    "kafka": lambda: Kafka(KafkaSettings(version="4.3.1")),
    "apicurio": lambda: Apicurio(ApicurioSettings(version="3.3.2")),
    "clickhouse": lambda: ClickHouse(ClickHouseSettings(version="18.16.2")),
    "ferretdb": lambda: FerretDB(FerretDBSettings(version="v1.24.1")),
}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    running: Engine = request.getfixturevalue(request.param)
    return running


def test_each_engine_reports_the_pinned_release(engine: Engine) -> None:
    running = engine.running_version()

    assert running == engine.pinned_version
    assert check_version(engine) == running
    assert engine.status().version == running


def test_postgresql_reports_a_release_of_the_pinned_major(ferretdb: FerretDB) -> None:
    running = ferretdb.postgres.running_version()

    assert running is not None
    assert running.split(".")[0] == "15"
    assert check_version(ferretdb.postgres) == running


@pytest.mark.parametrize("name", ENGINES)
def test_a_running_engine_of_another_release_is_not_reused(request: pytest.FixtureRequest, name: str) -> None:
    real: Engine = request.getfixturevalue(name)
    running = real.running_version()
    repinned = REPINNED[name]()
    assert repinned.status().healthy, "the repinned engine must see the running one"

    message = f"runs version {running}, but the devstack pins {repinned.pinned_version}"
    with pytest.raises(EngineError, match=message):
        check_version(repinned)
    # The session fixtures refuse to reuse it...
    with pytest.raises(pytest.fail.Exception, match=f"{name} is running but cannot be reused: .*{message}"):
        next(session_engine(repinned))
    # ...and so does a start, which leaves it running for whoever started it.
    with pytest.raises(EngineError, match=message):
        repinned.start()
    assert real.healthy()
    assert real.running_version() == running


def test_postgresql_of_another_major_is_not_reused(ferretdb: FerretDB, monkeypatch: pytest.MonkeyPatch) -> None:
    running = ferretdb.postgres.running_version()
    monkeypatch.setattr(postgres_module, "MAJOR", "16")

    with pytest.raises(pytest.fail.Exception, match=f"runs version {running}, but the devstack pins 16"):
        next(session_engine(FerretDB(), FerretDB().postgres))
    with pytest.raises(EngineError, match=f"runs version {running}, but the devstack pins 16"):
        ferretdb.postgres.start()
    assert ferretdb.healthy()


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def scratch_dir() -> Iterator[DevstackSettings]:
    """A work directory of its own under the devstack's (where the unprivileged user may enter), removed after."""
    devstack = DevstackSettings()
    work = devstack.work_dir / f"version-check-{uuid.uuid4().hex[:8]}"
    yield devstack.model_copy(update={"work_dir": work})
    shutil.rmtree(work, ignore_errors=True)


def test_a_fresh_clickhouse_of_another_release_is_stopped_with_a_clear_error(
    clickhouse: ClickHouse, scratch_dir: DevstackSettings
) -> None:
    # Debian's package is what installs ClickHouse, so a new Debian release could bring another version.
    settings = ClickHouseSettings(version="18.16.2", tcp_port=free_port(), http_port=free_port())
    engine = ClickHouse(settings, scratch_dir)

    with pytest.raises(EngineError, match=r"runs version 18\.16\.1, but the devstack pins 18\.16\.2"):
        engine.start()

    assert engine.pid_file.read() is None
    assert _port_is_free(settings.tcp_port)
    assert _port_is_free(settings.http_port)


def test_a_fresh_postgresql_of_another_major_is_stopped_with_a_clear_error(
    ferretdb: FerretDB, scratch_dir: DevstackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_module, "MAJOR", "16")
    engine = Postgres(PostgresSettings(port=free_port()), scratch_dir)

    with pytest.raises(EngineError, match=r"runs version 15\.\S+, but the devstack pins 16"):
        engine.start()

    assert engine.status().pid is None
    assert _port_is_free(engine.settings.port)
