"""Session fixtures for the devstack's engines: real servers, never skipped.

A healthy engine already run by the devstack (same settings, same work dir) is reused and left running, once it
has reported the pinned version (a start checks the same); one started here is stopped when the session ends.
An engine that cannot be installed or started fails the tests that need it, with the reason and the engine's log
tail. Registered as a plugin by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import Engine, EngineError, check_version
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch

E = TypeVar("E", bound=Engine)


def session_engine(engine: E, *beneath: Engine) -> Iterator[E]:
    """`engine` healthy for the session; `beneath` are engines it runs on, whose versions a reuse checks too."""
    failure = None
    if engine.status().healthy:
        # Reused only when it is the release a start here would run.
        checked: list[Engine] = [*beneath, engine]
        try:
            for each in checked:
                check_version(each)
        except EngineError as error:
            failure = f"{engine.name} is running but cannot be reused: {error}"
        if failure is not None:
            pytest.fail(failure, pytrace=False)
        yield engine
        return
    try:
        engine.install()
        engine.start()
    except EngineError as error:
        failure = f"{engine.name} could not be started: {error}"
    if failure is not None:
        # Outside the except block, so the report shows the reason alone rather than two chained tracebacks.
        pytest.fail(failure, pytrace=False)
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def opensearch() -> Iterator[OpenSearch]:
    yield from session_engine(OpenSearch())


@pytest.fixture(scope="session")
def kafka() -> Iterator[Kafka]:
    yield from session_engine(Kafka())


@pytest.fixture(scope="session")
def apicurio() -> Iterator[Apicurio]:
    yield from session_engine(Apicurio())


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[ClickHouse]:
    yield from session_engine(ClickHouse())


@pytest.fixture(scope="session")
def ferretdb() -> Iterator[FerretDB]:
    engine = FerretDB()
    yield from session_engine(engine, engine.postgres)


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one chDB data directory of this test process: chDB holds one per process, for the process's life, so
    every chDB store in a run shares it (each in its own database)."""
    return tmp_path_factory.mktemp("chdb")
