"""The gateway config, offline: it renders, Envoy accepts it, and it routes every REST path the protos declare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from devstack.gateway import DESCRIPTOR, SERVICES, GatewaySettings, Upstream, render, validate

UPSTREAMS = {"search": Upstream("127.0.0.1", 50051), "ugc": Upstream("127.0.0.1", 50052)}


def rest_rules() -> list[tuple[str, str, str]]:
    """(service, verb, path template) for every google.api.http annotation in the built descriptor set."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    rules = []
    for file in files.file:
        for service in file.service:
            for method in service.method:
                rule: http_pb2.HttpRule = method.options.Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                if verb and verb != "custom":
                    rules.append((f"{file.package}.{service.name}", verb.upper(), getattr(rule, verb)))
    return rules


@pytest.fixture(scope="module")
def config() -> dict[str, object]:
    return yaml.safe_load(render(GatewaySettings(), **UPSTREAMS))  # type: ignore[no-any-return]


def routes(config: dict[str, object]) -> list[dict[str, object]]:
    listener = config["static_resources"]["listeners"][0]  # type: ignore[index]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return manager["route_config"]["virtual_hosts"][0]["routes"]  # type: ignore[no-any-return]


def test_envoy_accepts_the_rendered_config(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(render(GatewaySettings(), **UPSTREAMS))
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_placeholder_is_filled() -> None:
    assert "${" not in render(GatewaySettings(), **UPSTREAMS)


def test_the_protos_declare_rest_paths() -> None:
    assert len(rest_rules()) >= 3


@pytest.mark.parametrize(("service", "verb", "template"), rest_rules())
def test_every_rest_path_has_a_get_route_to_its_service(
    config: dict[str, object], service: str, verb: str, template: str
) -> None:
    example = re.sub(r"\{[^}]+\}", "x1", template)
    matched = None
    for route in routes(config):
        match = route["match"]
        methods = [h["string_match"] for h in match.get("headers", []) if h["name"] == ":method"]  # type: ignore[attr-defined]
        path_ok = match.get("path") == example or (  # type: ignore[attr-defined]
            "safe_regex" in match and re.fullmatch(match["safe_regex"]["regex"], example)  # type: ignore[index,operator]
        )
        method_ok = not methods or any(re.fullmatch(m["safe_regex"]["regex"], verb) for m in methods)
        if path_ok and method_ok:
            matched = route
            break
    assert matched is not None, f"no route for {verb} {template}"
    assert "route" in matched, f"{verb} {template} is not routed to a service"
    assert matched["route"]["cluster"] == service.split(".")[1]  # type: ignore[index]
    assert matched["route"]["timeout"]  # type: ignore[index]


def test_every_transcoded_service_has_a_cluster(config: dict[str, object]) -> None:
    clusters = {c["name"] for c in config["static_resources"]["clusters"]}  # type: ignore[index]
    assert {name.split(".")[1] for name in SERVICES} <= clusters


def test_admin_stays_on_loopback_even_when_the_api_is_public() -> None:
    config = yaml.safe_load(render(GatewaySettings(listen_host="0.0.0.0"), **UPSTREAMS))
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == "0.0.0.0"


def test_cors_origins_can_be_restricted() -> None:
    text = render(GatewaySettings(cors_origins=["https://tv.example"]), **UPSTREAMS)
    assert '[{"exact": "https://tv.example"}]' in text
    assert ".*" not in re.findall(r"allow_origin_string_match: (.*)", text)[0]


def test_validation_catches_a_missing_descriptor(tmp_path: Path) -> None:
    broken = tmp_path / "gateway.yaml"
    broken.write_text(render(GatewaySettings(), **UPSTREAMS).replace(str(DESCRIPTOR), str(tmp_path / "nope.binpb")))
    assert validate(broken).returncode != 0
