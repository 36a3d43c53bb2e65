"""The benchmarks' OpenSearch runs as production would, on the devstack's ports."""

from __future__ import annotations

import pytest

from bench.opensearch_server import bench_settings


def test_a_benchmark_starts_opensearch_with_the_full_jit_and_a_fixed_2_gib_heap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whatever the devstack's own options say (C1 only, for tests).
    monkeypatch.setenv("DEVSTACK_OPENSEARCH_JAVA_OPTS", "-XX:TieredStopAtLevel=1")
    monkeypatch.setenv("DEVSTACK_OPENSEARCH_HEAP_MAX", "1g")
    settings = bench_settings()
    assert (settings.heap_min, settings.heap_max) == ("2g", "2g")
    assert "TieredStopAtLevel" not in settings.java_opts


def test_a_benchmark_keeps_the_devstack_ports_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVSTACK_OPENSEARCH_HTTP_PORT", "19201")
    monkeypatch.setenv("DEVSTACK_OPENSEARCH_TRANSPORT_PORT", "19301")
    settings = bench_settings()
    assert (settings.http_port, settings.transport_port) == (19201, 19301)
