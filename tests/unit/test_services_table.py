"""The services table: every variable the devstack hands a service is a field of its settings and parses.

A service's settings ignore variables they do not define, so a misspelled one (UGC_MONGO_URL for
UGC_MONGODB_URL) would leave the service on its default without a word. These tests build the environment
exactly as `devstack run` does, for both profiles, with the engine objects the devstack uses (constructing one
starts nothing), and read each variable back through the service's own settings class.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from devstack.engines.registry import ENGINES, production_env
from devstack.mesh import Service
from devstack.services import SERVICES, EngineEndpoint, ServiceSpec, behind_gateway, by_name
from ugc_svc.settings import UgcSettings

DEVSTACK_DOC = Path(__file__).resolve().parents[2] / "docs" / "devstack.md"


def engines_env() -> dict[str, str]:
    return production_env({name: factory() for name, factory in ENGINES.items()})


def handed_to(spec: ServiceSpec, profile: str) -> dict[str, str]:
    """The variables `devstack run` sets for `spec`'s process beyond what the caller's environment holds."""
    settings = spec.settings(grpc_port=50999, metrics_port=9199)
    profile_env = engines_env() if profile == "production" else {}
    return Service(spec, settings).env(profile, profile_env)


def test_the_table_names_each_service_once() -> None:
    assert len({spec.name for spec in SERVICES}) == len(SERVICES)
    assert len({spec.module for spec in SERVICES}) == len(SERVICES)
    assert all(spec.env_prefix == f"{spec.name.upper()}_" for spec in SERVICES)
    # `make run` starts every service on its default ports at once.
    assert len({spec.default_grpc_port() for spec in SERVICES}) == len(SERVICES)
    assert len({spec.settings.model_fields["metrics_port"].get_default() for spec in SERVICES}) == len(SERVICES)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_each_module_can_be_run(spec: ServiceSpec) -> None:
    assert importlib.util.find_spec(f"{spec.module}.__main__") is not None


@pytest.mark.parametrize("profile", ["embedded", "production"])
@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_every_variable_the_devstack_sets_is_a_field_that_parses(
    spec: ServiceSpec, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = {var: value for var, value in handed_to(spec, profile).items() if var.startswith(spec.env_prefix)}
    fields = {var.removeprefix(spec.env_prefix).lower(): var for var in own}
    assert sorted(set(fields) - set(spec.settings.model_fields)) == []
    for var, value in own.items():
        monkeypatch.setenv(var, value)

    settings = spec.settings()

    for field_name, var in fields.items():
        assert str(getattr(settings, field_name)) == own[var], var
    assert settings.profile == profile


def test_the_production_profile_sets_every_engine_setting_of_every_service() -> None:
    env = engines_env()
    for spec in SERVICES:
        assert env[spec.env_var("profile")] == "production"
        for field_name, source in spec.production.items():
            assert env[spec.env_var(field_name)] == ENGINES[source.engine]().endpoints()[source.endpoint]
    assert len(env) == sum(1 + len(spec.production) for spec in SERVICES)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_the_engine_defaults_are_where_the_devstack_runs_them(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in [var for var in os.environ if var.startswith("DEVSTACK_")]:
        monkeypatch.delenv(var)  # the devstack's own defaults, not a moved engine
    env = engines_env()
    for field_name in spec.production:
        assert spec.settings.model_fields[field_name].get_default() == env[spec.env_var(field_name)]


def test_a_misspelled_setting_stops_the_table_from_loading() -> None:
    with pytest.raises(ValueError, match="UgcSettings has no field 'mongo_url': UGC_MONGO_URL would be ignored"):
        ServiceSpec("ugc", "ugc_svc", UgcSettings, production={"mongo_url": EngineEndpoint("ferretdb", "url")})


def test_a_service_behind_the_gateway_serves_grpc() -> None:
    with pytest.raises(ValueError, match="serves no gRPC service"):
        ServiceSpec("ugc", "ugc_svc", UgcSettings, behind_gateway=True)


def test_every_engine_named_is_one_the_devstack_runs() -> None:
    for spec in SERVICES:
        assert spec.engines <= set(ENGINES), spec.name


def test_services_are_found_by_name() -> None:
    assert [by_name(spec.name) for spec in SERVICES] == list(SERVICES)
    assert all(spec.grpc_service for spec in behind_gateway())
    with pytest.raises(KeyError, match="no service 'ratings'"):
        by_name("ratings")


def test_the_devstack_docs_list_every_production_variable() -> None:
    text = DEVSTACK_DOC.read_text()
    missing = [var for var in engines_env() if var.removesuffix("_PROFILE") == var and f"`{var}`" not in text]
    assert missing == []
