"""`python -m devstack.k8s`: render every overlay of k8s/ and validate it (`make k8s-validate`).

For each overlay: `kustomize build` → build/k8s/<overlay>.yaml; kubeconform in strict mode against Kubernetes' own
schemas and the operators' CRD schemas that a package registry serves (devstack/k8s_schemas.py), and npm's validators
for the operator whose CRDs none serves (k8s/validators/); checkov over the
rendered manifests, whose skipped checks are annotations on the resources, each with its reason. The tools are
named in build/k8s-tools.env for the manifest tests, which render the overlays with the same kustomize.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from devstack import k8s_schemas

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "k8s"
OVERLAYS = ("dev", "prod")
TOOLS_ENV = REPO / "build" / "k8s-tools.env"
KUBERNETES_VERSION = "1.34.0"


@dataclass(frozen=True)
class CrdSource:
    """A Go module of an operator whose files include its CustomResourceDefinitions."""

    module: str
    version: str
    crd_glob: str


# Operators whose CRDs a registry serves: the Go module proxy keeps the community operator's module with its CRD.
CRD_SOURCES = (
    CrdSource("github.com/mongodb/mongodb-kubernetes-operator", "v0.9.0", "config/crd/bases/mongodbcommunity*.yaml"),
)

# Kinds no registry we reach has a CRD schema for: kubeconform skips them, and every report lists them.
UNREACHABLE_CRDS = {
    "kafka.strimzi.io": "Strimzi's CRDs ship only in its release bundles and Helm chart; Maven's io.strimzi:api jar "
    "holds the model classes without the YAML, and its crd-generator is not published. npm's validators generated "
    "from them check types, enums and required fields instead (unknown fields pass)",
    "opensearch.opster.io": "the OpenSearch operator's Go module is refused by the Go module proxy we reach",
    "clickhouse.altinity.com": "the Altinity operator's Go module is refused by the Go module proxy we reach",
    "clickhouse-keeper.altinity.com": "the Altinity operator's Go module is refused by the Go module proxy we reach",
    "registry.apicur.io": "Apicurio Registry 3's operator publishes no artifact with its CRD on Maven Central, and "
    "the Go module of the older operator is refused by the Go module proxy",
}


# Groups whose resources a Node validator of k8s/validators/ checks (its npm packages pinned by package-lock.json).
NODE_VALIDATORS = {"kafka.strimzi.io": "strimzi.mjs"}


@dataclass(frozen=True)
class Tools:
    kustomize: Path
    kubeconform: Path
    venv: Path
    """The k8s tools' virtualenv (k8s/tools.lock): checkov, kubernetes-validate's schemas."""
    validators: Path | None = None
    """k8s/validators/ installed with `npm ci` (make k8s-validate); None runs no Node validator."""

    @property
    def checkov(self) -> Path:
        return self.venv / "bin" / "checkov"

    def core_schema_source(self) -> Path:
        found = sorted(self.venv.glob("lib/python*/site-packages/kubernetes_validate/kubernetes-json-schema"))
        if not found:
            raise FileNotFoundError(f"kubernetes-validate is not installed in {self.venv}")
        source = found[0] / f"v{KUBERNETES_VERSION}-local-strict"
        if not source.is_dir():
            raise FileNotFoundError(f"kubernetes-validate has no schemas for Kubernetes {KUBERNETES_VERSION}")
        return source


def render(kustomize: Path, overlay: str) -> str:
    result = subprocess.run(
        [str(kustomize), "build", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize build {overlay}: {result.stderr.strip()}")
    return result.stdout


def documents(rendered: str) -> list[dict[str, object]]:
    return [doc for doc in yaml.safe_load_all(rendered) if isinstance(doc, dict)]


def crd_files(sources: Sequence[CrdSource] = CRD_SOURCES) -> list[Path]:
    """Each source's CRD files, from the Go module cache (`go mod download` fetches the module once)."""
    files: list[Path] = []
    for source in sources:
        found = subprocess.run(
            ["go", "mod", "download", "-json", f"{source.module}@{source.version}"],
            capture_output=True,
            text=True,
            check=False,
        )
        info = json.loads(found.stdout or "{}")
        if found.returncode != 0 or "Dir" not in info:
            raise RuntimeError(f"go mod download {source.module}@{source.version}: {info.get('Error', found.stderr)}")
        matched = sorted(Path(info["Dir"]).glob(source.crd_glob))
        if not matched:
            raise RuntimeError(f"{source.module}@{source.version} holds no {source.crd_glob}")
        files.extend(matched)
    return files


def schemas(tools: Tools, dest: Path) -> tuple[Path, Path, list[str]]:
    """Write the core and CRD schemas under `dest`; returns both folders and the CRD versions written."""
    core, crds = dest / f"core-v{KUBERNETES_VERSION}", dest / "crds"
    if not (core / "deployment-apps-v1.json").is_file():
        k8s_schemas.core_schemas(tools.core_schema_source(), core)
    written = k8s_schemas.crd_schemas(k8s_schemas.crd_documents(crd_files()), crds)
    return core, crds, written


def kubeconform_command(tools: Tools, core: Path, crds: Path, skip: Sequence[str]) -> list[str]:
    command = [
        str(tools.kubeconform),
        "-strict",
        "-summary",
        "-kubernetes-version",
        KUBERNETES_VERSION,
        "-schema-location",
        f"{core}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        "-schema-location",
        f"{crds}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
    ]
    if skip:
        command += ["-skip", ",".join(skip)]
    return command


def unreachable_kinds(docs: Sequence[dict[str, object]]) -> list[str]:
    """`group/version/Kind` of the rendered resources whose CRD schema no registry serves."""
    kinds = set()
    for doc in docs:
        group = str(doc.get("apiVersion", "")).rpartition("/")[0]
        if group in UNREACHABLE_CRDS:
            kinds.add(f"{doc['apiVersion']}/{doc['kind']}")
    return sorted(kinds)


def node_validate(tools: Tools, docs: Sequence[dict[str, object]]) -> bool:
    """Run each Node validator over the resources of its group; False when one refuses any."""
    if tools.validators is None:
        raise ValueError("the Node validators are not installed: pass --validators")
    passed = True
    for group, script in NODE_VALIDATORS.items():
        mine = [doc for doc in docs if str(doc.get("apiVersion", "")).rpartition("/")[0] == group]
        if not mine:
            continue
        result = subprocess.run(
            ["node", str(tools.validators / script)], input=json.dumps(mine), text=True, check=False
        )
        passed &= result.returncode == 0
    return passed


def write_tools_env(tools: Tools, core: Path, crds: Path) -> None:
    TOOLS_ENV.parent.mkdir(parents=True, exist_ok=True)
    TOOLS_ENV.write_text(
        f"K8S_KUSTOMIZE={tools.kustomize}\nK8S_KUBECONFORM={tools.kubeconform}\n"
        f"K8S_CORE_SCHEMAS={core}\nK8S_CRD_SCHEMAS={crds}\nK8S_VALIDATORS={tools.validators or ''}\n"
    )


def tool_paths() -> dict[str, str]:
    """build/k8s-tools.env, with the environment's variables of the same names over it."""
    found: dict[str, str] = {}
    if TOOLS_ENV.is_file():
        for line in TOOLS_ENV.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep:
                found[name.strip()] = value.strip()
    found.update({name: os.environ[name] for name in list(found) if os.environ.get(name)})
    return found


def validate(tools: Tools, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    core, crds, written = schemas(tools, out / "schemas")
    write_tools_env(tools, core, crds)
    print(f"k8s: schemas of Kubernetes {KUBERNETES_VERSION}; CRDs from registries: {', '.join(written)}")
    failed = False
    targets = []
    for overlay in OVERLAYS:
        rendered = render(tools.kustomize, overlay)
        target = out / f"{overlay}.yaml"
        target.write_text(rendered)
        targets.append(target)
        docs = documents(rendered)
        skip = unreachable_kinds(docs)
        print(f"k8s: {overlay}: {len(docs)} resources rendered to {target.relative_to(REPO)}")
        for kind in skip:
            print(f"k8s: {overlay}: {kind} not schema-checked: {UNREACHABLE_CRDS[kind.rsplit('/', 2)[0]]}")
        checked = subprocess.run([*kubeconform_command(tools, core, crds, skip), str(target)], check=False)
        failed |= checked.returncode != 0
        failed |= not node_validate(tools, docs)
    # One checkov run for every overlay (its start-up is most of its time). --skip-download: checkov would
    # otherwise ask its vendor's API for guidelines, which is not reachable here.
    files = [argument for target in targets for argument in ("-f", str(target))]
    checkov = [str(tools.checkov), *files, "--framework", "kubernetes", "--compact", "--quiet", "--skip-download"]
    failed |= subprocess.run(checkov, check=False).returncode != 0
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.k8s", description=__doc__.splitlines()[0])
    parser.add_argument("--kustomize", type=Path, required=True)
    parser.add_argument("--kubeconform", type=Path, required=True)
    parser.add_argument("--tools-venv", type=Path, required=True, help="the virtualenv of k8s/tools.lock")
    parser.add_argument("--validators", type=Path, required=True, help="k8s/validators/ installed with npm ci")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "k8s")
    args = parser.parse_args(argv)
    tools = Tools(args.kustomize, args.kubeconform, args.tools_venv, args.validators)
    return validate(tools, args.out.resolve())


if __name__ == "__main__":
    sys.exit(main())
