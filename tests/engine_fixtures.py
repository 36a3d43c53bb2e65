"""Session fixtures for the devstack's engines: real servers, never skipped.

A healthy engine already run by the devstack (same settings, same work dir) is reused and left running; one
started here is stopped when the session ends. An engine that cannot be installed or started fails the tests
that need it, with the reason and the engine's log tail. Registered as a plugin by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest

from devstack.engines.apicurio import Apicurio
from devstack.engines.base import Engine, EngineError
from devstack.engines.clickhouse import ClickHouse
from devstack.engines.ferretdb import FerretDB
from devstack.engines.kafka import Kafka
from devstack.engines.opensearch import OpenSearch

E = TypeVar("E", bound=Engine)


def _running(engine: E) -> Iterator[E]:
    if engine.status().healthy:
        yield engine
        return
    failure = None
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
    yield from _running(OpenSearch())


@pytest.fixture(scope="session")
def kafka() -> Iterator[Kafka]:
    yield from _running(Kafka())


@pytest.fixture(scope="session")
def apicurio() -> Iterator[Apicurio]:
    yield from _running(Apicurio())


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[ClickHouse]:
    yield from _running(ClickHouse())


@pytest.fixture(scope="session")
def ferretdb() -> Iterator[FerretDB]:
    yield from _running(FerretDB())
