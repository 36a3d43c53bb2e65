"""What the production manifests (k8s/) configure today, for the plan to set beside what the load needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.capacity.figures import Basis, Figure


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(path.read_text()):
        if isinstance(document, dict):
            yield document


def _find(path: Path, kind: str, name: str) -> dict[str, Any]:
    for document in _documents(path):
        if document.get("kind") == kind and document.get("metadata", {}).get("name") == name:
            return document
    raise LookupError(f"no {kind} {name} in {path}")


def _gibibytes(size: str) -> float:
    units = {"Gi": 1, "Ti": 1024}
    for suffix, factor in units.items():
        if size.endswith(suffix):
            return float(size[: -len(suffix)]) * factor
    raise ValueError(f"unexpected size {size!r}")


def configured(repo: Path) -> dict[str, Figure]:
    """The figures of k8s/ the plan compares with, each naming its file."""
    k8s = repo / "k8s"
    kafka = k8s / "components/kafka/kafka.yaml"
    clickhouse = k8s / "components/clickhouse/clickhouse.yaml"
    opensearch = k8s / "components/opensearch/opensearch.yaml"
    mongodb = k8s / "components/mongodb/mongodb.yaml"
    topic = _find(kafka, "KafkaTopic", "ugc.playback-events")["spec"]
    pool = _find(kafka, "KafkaNodePool", "events-nodes")["spec"]
    chi = _find(clickhouse, "ClickHouseInstallation", "analytics")["spec"]
    layout = chi["configuration"]["clusters"][0]["layout"]
    ch_volume = chi["templates"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    pools = _find(opensearch, "OpenSearchCluster", "search-index")["spec"]["nodePools"]
    members = _find(mongodb, "MongoDBCommunity", "documents")["spec"]["members"]

    def figure(name: str, value: float, unit: str, path: Path, where: str) -> Figure:
        return Figure(name, value, unit, Basis.CONFIGURED, f"`{path.relative_to(repo)}`, {where}")

    found = {
        "topic partitions": figure("playback topic partitions", topic["partitions"], "", kafka, "ugc.playback-events"),
        "topic replicas": figure("playback topic replicas", topic["replicas"], "", kafka, "ugc.playback-events"),
        "retention": figure(
            "playback topic retention",
            int(topic["config"]["retention.ms"]) / 86_400_000,
            "days",
            kafka,
            "ugc.playback-events retention.ms",
        ),
        "brokers": figure("Kafka brokers", pool["replicas"], "", kafka, "KafkaNodePool events-nodes"),
        "broker volume": figure(
            "Kafka broker volume", _gibibytes(pool["storage"]["volumes"][0]["size"]), "GiB", kafka, "events-nodes"
        ),
        "clickhouse shards": figure("ClickHouse shards", layout["shardsCount"], "", clickhouse, "layout"),
        "clickhouse replicas": figure("ClickHouse replicas", layout["replicasCount"], "", clickhouse, "layout"),
        "clickhouse volume": figure("ClickHouse volume", _gibibytes(ch_volume), "GiB", clickhouse, "data claim"),
        "opensearch nodes": figure(
            "OpenSearch data nodes", sum(pool_["replicas"] for pool_ in pools), "", opensearch, "node pools"
        ),
        "opensearch volume": figure(
            "OpenSearch node volume", _gibibytes(pools[0]["diskSize"]), "GiB", opensearch, "diskSize"
        ),
        "mongodb members": figure("MongoDB members", members, "", mongodb, "members"),
    }
    for service in ("search", "gateway", "ugc", "sink"):
        path = k8s / f"base/{service}/scaling.yaml"
        hpa = _find(path, "HorizontalPodAutoscaler", service)["spec"]
        found[f"{service} max pods"] = figure(f"{service} HPA maximum", hpa["maxReplicas"], "pods", path, "maxReplicas")
    return found
