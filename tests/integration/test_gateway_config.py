"""The gateway config, offline: it renders, Envoy accepts it, and it routes every REST path the protos declare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from devstack.gateway import DESCRIPTOR, GatewaySettings, Upstream, render, validate
from devstack.services import SERVICES, behind_gateway

UPSTREAMS = {spec.name: Upstream("127.0.0.1", spec.default_grpc_port()) for spec in behind_gateway()}
CLUSTER_OF = {spec.grpc_service: spec.name for spec in behind_gateway()}


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
    return yaml.safe_load(render(GatewaySettings(), UPSTREAMS))  # type: ignore[no-any-return]


def routes(config: dict[str, object]) -> list[dict[str, object]]:
    listener = config["static_resources"]["listeners"][0]  # type: ignore[index]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return manager["route_config"]["virtual_hosts"][0]["routes"]  # type: ignore[no-any-return]


def test_envoy_accepts_the_rendered_config(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(render(GatewaySettings(), UPSTREAMS))
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_placeholder_is_filled() -> None:
    assert "${" not in render(GatewaySettings(), UPSTREAMS)


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
    assert matched["route"]["cluster"] == CLUSTER_OF[service]  # type: ignore[index]
    assert matched["route"]["timeout"]  # type: ignore[index]


def test_every_service_behind_the_gateway_has_a_cluster_at_its_upstream(config: dict[str, object]) -> None:
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}  # type: ignore[index]
    assert sorted(clusters) == sorted(UPSTREAMS)
    for name, upstream in UPSTREAMS.items():
        endpoint = clusters[name]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        assert endpoint["address"]["socket_address"] == {"address": upstream.host, "port_value": upstream.port}


def test_every_service_behind_the_gateway_is_transcoded_and_reached_by_native_grpc(
    config: dict[str, object],
) -> None:
    listener = config["static_resources"]["listeners"][0]  # type: ignore[index]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    transcoder = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.grpc_json_transcoder")
    assert transcoder["typed_config"]["services"] == list(CLUSTER_OF)
    native = {
        r["match"]["prefix"]: r["route"]["cluster"]  # type: ignore[index]
        for r in routes(config)
        if "grpc" in r["match"]  # type: ignore[operator]
    }
    assert native == {f"/{service}/": name for service, name in CLUSTER_OF.items()}


def test_the_table_names_grpc_services_the_contracts_declare() -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes())
    declared = {f"{file.package}.{service.name}" for file in files.file for service in file.service}
    assert {spec.grpc_service for spec in SERVICES if spec.grpc_service} <= declared


def test_a_service_taken_off_the_table_loses_its_cluster_and_route(tmp_path: Path) -> None:
    table = [spec for spec in SERVICES if spec.name != "ugc"]
    upstreams = {name: upstream for name, upstream in UPSTREAMS.items() if name != "ugc"}
    text = render(GatewaySettings(), upstreams, table)
    rendered = yaml.safe_load(text)
    assert [c["name"] for c in rendered["static_resources"]["clusters"]] == [
        spec.name for spec in behind_gateway() if spec.name != "ugc"
    ]
    assert "UgcService" not in text
    assert "cluster: ugc" not in text
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "upstreams",
    [
        {"search": Upstream("127.0.0.1", 50051)},
        {**UPSTREAMS, "billing": Upstream("127.0.0.1", 50059)},
    ],
    ids=["one missing", "one not behind the gateway"],
)
def test_upstreams_must_match_the_services_behind_the_gateway(upstreams: dict[str, Upstream]) -> None:
    with pytest.raises(ValueError, match="the services behind the gateway are"):
        render(GatewaySettings(), upstreams)


def test_a_host_name_is_taken_literally() -> None:
    text = render(GatewaySettings(), UPSTREAMS | {"search": Upstream("svc-$HOME.internal", 1)})
    assert "address: svc-$HOME.internal," in text


def test_admin_stays_on_loopback_even_when_the_api_is_public() -> None:
    config = yaml.safe_load(render(GatewaySettings(listen_host="0.0.0.0"), UPSTREAMS))
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == "0.0.0.0"


def test_cors_origins_can_be_restricted() -> None:
    text = render(GatewaySettings(cors_origins=["https://tv.example"]), UPSTREAMS)
    assert '[{"exact": "https://tv.example"}]' in text
    assert ".*" not in re.findall(r"allow_origin_string_match: (.*)", text)[0]


def test_validation_catches_a_missing_descriptor(tmp_path: Path) -> None:
    broken = tmp_path / "gateway.yaml"
    broken.write_text(render(GatewaySettings(), UPSTREAMS).replace(str(DESCRIPTOR), str(tmp_path / "nope.binpb")))
    assert validate(broken).returncode != 0


# --- who may call ---------------------------------------------------------------------------------------------------

JWT_FILTER = "envoy.filters.http.jwt_authn"


def jwt_requirement(route: dict[str, object]) -> str:
    """`user`, `anyone` or `disabled`; a route with none would not be authenticated at all (jwt_authn fails open)."""
    per_route = route.get("typed_per_filter_config", {}).get(JWT_FILTER)  # type: ignore[attr-defined]
    assert per_route is not None, f"route {route['match']} names no jwt_authn requirement"
    return "disabled" if per_route.get("disabled") else str(per_route["requirement_name"])


def test_every_route_names_a_requirement_the_filter_defines(config: dict[str, object]) -> None:
    listener = config["static_resources"]["listeners"][0]  # type: ignore[index]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    jwt = next(f for f in manager["http_filters"] if f["name"] == JWT_FILTER)["typed_config"]
    defined = set(jwt["requirement_map"])
    for route in routes(config):
        requirement = jwt_requirement(route)
        assert requirement == "disabled" or requirement in defined, route["match"]
        # Only what the gateway answers itself skips authentication: nothing reaches a service unauthenticated.
        assert (requirement == "disabled") == ("route" not in route), route["match"]


def test_a_clients_user_header_is_removed_before_the_token_is_checked(config: dict[str, object]) -> None:
    listener = config["static_resources"]["listeners"][0]  # type: ignore[index]
    names = [f["name"] for f in listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]]
    assert names.index("envoy.filters.http.header_mutation") < names.index(JWT_FILTER)


def test_the_rest_routes_that_need_a_token_are_the_documents_authenticated_operations(
    config: dict[str, object],
) -> None:
    document = yaml.safe_load((Path(__file__).resolve().parents[2] / "build" / "openapi" / "openapi.yaml").read_text())
    for path, item in document["paths"].items():
        example = re.sub(r"\{[^}]+\}", "x1", path)
        for verb, operation in item.items():
            route = next(
                r
                for r in routes(config)
                if "route" in r
                and (
                    r["match"].get("path") == example  # type: ignore[attr-defined]
                    or ("safe_regex" in r["match"] and re.fullmatch(r["match"]["safe_regex"]["regex"], example))  # type: ignore[index,operator]
                )
                and any(
                    re.fullmatch(h["string_match"]["safe_regex"]["regex"], verb.upper())
                    for h in r["match"]["headers"]  # type: ignore[index]
                )
            )
            expected = "user" if "security" in operation else "anyone"
            assert jwt_requirement(route) == expected, f"{verb.upper()} {path}"


def test_a_platform_jwks_file_replaces_the_development_key(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    text = render(GatewaySettings(jwks_path=jwks, jwt_issuer="https://id.example", jwt_audience="tv"), UPSTREAMS)
    provider = yaml.safe_load(text)["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["http_filters"]
    jwt = next(f for f in provider if f["name"] == JWT_FILTER)["typed_config"]["providers"]["identity"]
    assert jwt["local_jwks"] == {"filename": str(jwks)}
    assert (jwt["issuer"], jwt["audiences"]) == ("https://id.example", ["tv"])
