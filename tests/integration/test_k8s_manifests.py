"""The rendered k8s overlays hold what the services and the gateway rely on.

Schemas say a manifest is well-formed; these say it fits this project: probes point at the ports the containers
listen on (as their settings configure them), every variable a service is given is a field of its settings class
and parses, every Deployment has a PodDisruptionBudget and spreads over zones, the namespace denies by default and
each workload has its own allowances, the drain fits in the termination grace, and the gateway image's upstreams
are the headless Services. Each overlay is rendered with the kustomize `make k8s-validate` built (build/k8s-tools.env).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack import k8s
from devstack.services import SERVICES, ServiceSpec, by_name
from search_svc.settings import SearchSettings
from tests.dockerfiles import GATEWAY_DOCKERFILE, parse

Doc = dict[str, Any]
# Envoy's default dns_refresh_rate: how long the gateway may still send to a pod that left the headless Service.
ENVOY_DNS_REFRESH_SECONDS = 5
# Values the platform's Secrets and the downward API supply at run time, for parsing the settings here.
RUNTIME_VALUES = {
    "host": "10.0.0.7",
    "metrics_host": "10.0.0.7",
    "opensearch_url": "https://search-index:9200",
    "mongodb_url": "mongodb://ugc:secret@documents-svc:27017/ugc?replicaSet=documents",
    "clickhouse_url": "clickhouse://sink:secret@analytics:9000/default",
}


def _tool(name: str) -> Path:
    path = k8s.tool_paths().get(name)
    if not path or not Path(path).exists():
        pytest.fail(f"{name} is not built: run `make k8s-validate` (it names the tools in {k8s.TOOLS_ENV})")
    return Path(path)


@pytest.fixture(scope="module", params=k8s.OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> list[Doc]:
    return k8s.documents(k8s.render(_tool("K8S_KUSTOMIZE"), request.param))


def _of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def _named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [doc for doc in _of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors are read here: {selector}"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _service_deployments(docs: list[Doc]) -> Iterator[tuple[ServiceSpec, Doc]]:
    for spec in SERVICES:
        yield spec, _named(docs, "Deployment", spec.name)


def _environment(docs: list[Doc], container: Doc) -> dict[str, str | None]:
    """Variable → value as the container gets it; None where a Secret or the downward API supplies it."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"only ConfigMaps are read whole: {source}"
        env.update(_named(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif "configMapKeyRef" in variable.get("valueFrom", {}):
            ref = variable["valueFrom"]["configMapKeyRef"]
            env[variable["name"]] = _named(docs, "ConfigMap", ref["name"])["data"][ref["key"]]
        else:
            env[variable["name"]] = None
    return env


def _settings(spec: ServiceSpec, env: dict[str, str | None]) -> Any:
    """The service's settings as its process would build them from `env`; every variable must be a field."""
    fields: dict[str, Any] = {}
    for variable, value in env.items():
        assert variable.startswith(spec.env_prefix), f"{spec.name} is given {variable}, not one of its settings"
        name = variable.removeprefix(spec.env_prefix).lower()
        assert name in spec.settings.model_fields, f"{variable} is not a field of {spec.settings.__name__}"
        fields[name] = RUNTIME_VALUES[name] if value is None else value
    return spec.settings(**fields)


def test_every_variable_a_service_gets_is_a_field_of_its_settings_and_parses(overlay: list[Doc]) -> None:
    for spec, deployment in _service_deployments(overlay):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        settings = _settings(spec, _environment(overlay, container))
        assert settings.profile == "production"


def test_the_etl_job_reads_the_search_settings(overlay: list[Doc]) -> None:
    job = _named(overlay, "CronJob", "etl")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = job["containers"]
    env = _environment(overlay, container)
    assert env
    assert isinstance(_settings(by_name("search"), env), SearchSettings)
    assert container["args"][container["args"].index("--engine") + 1] == "opensearch"


def test_probes_ask_the_ports_the_containers_listen_on(overlay: list[Doc]) -> None:
    for spec, deployment in _service_deployments(overlay):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        settings = _settings(spec, _environment(overlay, container))
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports == {"grpc": settings.grpc_port, "metrics": settings.metrics_port}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == settings.grpc_port, f"{spec.name} {probe}"
    gateway = _named(overlay, "Deployment", "gateway")["spec"]["template"]["spec"]
    (envoy,) = gateway["containers"]
    listener = {port["containerPort"] for port in envoy["ports"]}
    exposed = {int(port) for port in (parse(GATEWAY_DOCKERFILE).final.last("EXPOSE") or "").split()}
    assert listener == exposed
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert envoy[probe]["httpGet"]["port"] in listener


def test_every_deployment_has_a_disruption_budget_and_spreads_over_zones(overlay: list[Doc]) -> None:
    budgets = _of_kind(overlay, "PodDisruptionBudget")
    for deployment in _of_kind(overlay, "Deployment"):
        template = deployment["spec"]["template"]
        labels = template["metadata"]["labels"]
        name = deployment["metadata"]["name"]
        matching = [budget for budget in budgets if _selects(budget["spec"]["selector"], labels)]
        # Exactly one: the eviction API refuses pods that two budgets select.
        assert len(matching) == 1, f"{name}: {len(matching)} PodDisruptionBudgets"
        spread = template["spec"].get("topologySpreadConstraints", [])
        zones = [c for c in spread if c["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zones, f"{name} does not spread over zones"
        assert all(_selects(c["labelSelector"], labels) for c in zones), f"{name} spreads other pods"
        assert _named(overlay, "HorizontalPodAutoscaler", name)["spec"]["scaleTargetRef"]["name"] == name


def test_the_namespace_denies_by_default_and_each_workload_has_its_own_allowances(overlay: list[Doc]) -> None:
    policies = _of_kind(overlay, "NetworkPolicy")
    deny = _named(overlay, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {}
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny
    assert "egress" not in deny
    workloads = [
        (doc["metadata"]["name"], doc["spec"]["template"]["metadata"]["labels"])
        for doc in _of_kind(overlay, "Deployment")
    ]
    job = _named(overlay, "CronJob", "etl")["spec"]["jobTemplate"]["spec"]["template"]
    workloads.append(("etl", job["metadata"]["labels"]))
    for name, labels in workloads:
        own = [p for p in policies if p["spec"]["podSelector"] != {} and _selects(p["spec"]["podSelector"], labels)]
        assert own, f"{name} has no NetworkPolicy of its own"


def test_the_gateway_reaches_each_service_it_routes_to_on_its_grpc_port(overlay: list[Doc]) -> None:
    gateway = _named(overlay, "NetworkPolicy", "gateway")["spec"]
    allowed = {
        (peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"])
        for rule in gateway["egress"]
        for peer in rule["to"]
        for port in rule["ports"]
    }
    for spec in SERVICES:
        if spec.behind_gateway:
            (container,) = _named(overlay, "Deployment", spec.name)["spec"]["template"]["spec"]["containers"]
            grpc_port = _settings(spec, _environment(overlay, container)).grpc_port
            assert (spec.name, grpc_port) in allowed
            ingress = _named(overlay, "NetworkPolicy", spec.name)["spec"]["ingress"]
            assert any(
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}} in rule["from"]
                and {"port": grpc_port, "protocol": "TCP"} in rule["ports"]
                for rule in ingress
            ), f"{spec.name} does not admit the gateway"


def test_the_gateway_images_upstreams_are_headless_services_of_the_services(overlay: list[Doc]) -> None:
    build = next(stage for stage in parse(GATEWAY_DOCKERFILE).stages if stage.name == "build")
    upstreams = dict(line.split("=", 1) for line in build.all("ARG"))
    for variable, upstream in upstreams.items():
        spec = by_name(variable.removesuffix("_UPSTREAM").lower())
        host, _, port = upstream.rpartition(":")
        service = _named(overlay, "Service", host)
        assert service["spec"]["clusterIP"] == "None", f"{host} is not headless: calls would stick to one pod"
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": spec.name}
        assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    # The config baked into the image reads the JWKS where the Deployment mounts the Secret.
    jwks_path = Path(build.env()["GATEWAY_JWKS_PATH"])
    pod = _named(overlay, "Deployment", "gateway")["spec"]["template"]["spec"]
    (envoy,) = pod["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in envoy["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    (name,) = [name for name, path in mounts.items() if path == str(jwks_path.parent)]
    assert {"key": "jwks.json", "path": jwks_path.name} in volumes[name]["secret"]["items"]


def test_termination_grace_covers_the_drain_and_the_in_flight_calls(overlay: list[Doc]) -> None:
    for spec, deployment in _service_deployments(overlay):
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        settings = _settings(spec, _environment(overlay, container))
        # The drain outlasts the gateway's DNS refresh (5 s), so no new call reaches a pod that is stopping.
        assert settings.drain_seconds > ENVOY_DNS_REFRESH_SECONDS, spec.name
        assert pod["terminationGracePeriodSeconds"] > settings.drain_seconds + settings.grace_seconds, spec.name


def test_strict_validation_refuses_a_field_kubernetes_does_not_know(tmp_path: Path) -> None:
    """kubeconform with the schemas `make k8s-validate` wrote fails a misspelt field: the validation can fail."""
    tools = k8s.tool_paths()
    kubeconform = _tool("K8S_KUBECONFORM")
    docs = k8s.documents(k8s.render(_tool("K8S_KUSTOMIZE"), "prod"))
    deployment = _named(docs, "Deployment", "search")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    container["readinessProbe"]["grpcc"] = container["readinessProbe"].pop("grpc")
    mongo = _named(docs, "MongoDBCommunity", "documents")
    mongo["spec"]["member"] = mongo["spec"].pop("members")
    for doc, what in ((deployment, "Deployment"), (mongo, "MongoDBCommunity")):
        target = tmp_path / f"{what}.yaml"
        target.write_text(yaml.safe_dump(doc))
        command = k8s.kubeconform_command(
            k8s.Tools(Path(), kubeconform, Path()), Path(tools["K8S_CORE_SCHEMAS"]), Path(tools["K8S_CRD_SCHEMAS"]), []
        )
        result = subprocess.run([*command, str(target)], capture_output=True, text=True, check=False)
        assert result.returncode != 0, f"a misspelt {what} passed: {result.stdout}"
        assert "additional properties" in result.stdout.lower() or "additionalproperties" in result.stdout.lower()


def test_the_strimzi_validator_refuses_a_wrong_type_and_value() -> None:
    """No registry serves Strimzi's CRDs; npm's validators of them must still catch a typed mistake."""
    validators = _tool("K8S_VALIDATORS")
    docs = k8s.documents(k8s.render(_tool("K8S_KUSTOMIZE"), "prod"))
    tools = k8s.Tools(Path(), Path(), Path(), validators)
    strimzi = [doc for doc in docs if str(doc["apiVersion"]).startswith("kafka.strimzi.io/")]
    assert k8s.node_validate(tools, strimzi)
    topic = _named(docs, "KafkaTopic", "ugc.playback-events")
    topic["spec"]["partitions"] = "six"
    assert not k8s.node_validate(tools, [topic])
    pool = _named(docs, "KafkaNodePool", "events-nodes")
    pool["spec"]["roles"] = ["leader"]
    assert not k8s.node_validate(tools, [pool])
