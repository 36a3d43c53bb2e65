"""Each service's packages are layers its import-linter contract names, and each says what lives in it.

`lint-imports` checks only the modules a contract names: a package added to a service but left out of its layers
contract would be free to import anything.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

from devstack.services import SERVICES, ServiceSpec

REPO = Path(__file__).resolve().parents[2]


def layers_of(module: str) -> set[str]:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    found = [
        contract["layers"]
        for contract in contracts
        if contract["type"] == "layers" and all(layer.startswith(f"{module}.") for layer in contract["layers"])
    ]
    assert len(found) == 1, f"expected one layers contract for {module}, found {len(found)}"
    return {name.strip() for layer in found[0] for name in layer.split("|")}


def packages_of(module: str) -> list[str]:
    return sorted(f"{module}.{info.name}" for info in pkgutil.iter_modules([str(REPO / module)]) if info.ispkg)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_every_package_of_a_service_is_a_layer_of_its_contract(spec: ServiceSpec) -> None:
    packages = packages_of(spec.module)
    assert {f"{spec.module}.{name}" for name in ("domain", "ports", "adapters", "entrypoints")} <= set(packages)
    assert set(packages) | {f"{spec.module}.bootstrap"} <= layers_of(spec.module)


# Search's packages hold code that says it; these are still empty but for what will live in them.
@pytest.mark.parametrize("module", ["ugc_svc", "sink_svc"])
def test_every_package_says_what_will_live_in_it(module: str) -> None:
    assert f"{module}.service_layer" in packages_of(module)
    for package in packages_of(module):
        doc = importlib.import_module(package).__doc__
        assert doc, f"{package} has no docstring"
