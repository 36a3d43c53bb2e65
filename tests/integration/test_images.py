"""Each image's contents, run without Docker: a fresh virtualenv from the runtime lock, the stubs made by the
Dockerfile's own build-stage commands, a directory holding only what its final stage copies, its ENV and commands.

The virtualenvs are built once (hash-checked wheels only, as the build stage installs them). A service then
starts from its image directory and answers gRPC health through the image's own HEALTHCHECK command; the ETL image
loads a catalogue the search image then serves; the gateway's config is rendered as its build stage renders it and
every file it names is one the final stage copies. Nothing from the repository's own virtualenv or `build/` is on
these processes' paths, so a module the image forgot fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
import pytest
import yaml
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from devstack import identity
from devstack.services import SERVICES, ServiceSpec, by_name
from tests.dockerfiles import ETL_DOCKERFILE, GATEWAY_DOCKERFILE, REPO, SERVICE_DOCKERFILES, Dockerfile, parse

# Generous: a guard against a hang on a busy 2-core machine, never a speed target.
STARTUP_LIMIT_SECONDS = 90.0
IMAGE_APP = "/app"
IMAGE_VENV = "/opt/venv"


def _fresh_venv(venv: Path, lock: Path) -> Path:
    """`lock` in a new virtualenv, wheels only, every hash checked, as the images' build stages install it."""
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, venv], check=True)
    installed = subprocess.run(
        [uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "--require-hashes", "--no-build", "-r", lock],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    # The repository's own virtualenv puts the clone on sys.path with a .pth file; this one must not.
    for pth in venv.glob("lib/python*/site-packages/*.pth"):
        assert str(REPO) not in pth.read_text(), pth
    return venv


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """requirements-runtime.lock: the image's /opt/venv."""
    return _fresh_venv(tmp_path_factory.mktemp("image") / "venv", REPO / "requirements-runtime.lock")


@pytest.fixture(scope="module")
def codegen_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """requirements.lock: the build stage's /opt/codegen."""
    return _fresh_venv(tmp_path_factory.mktemp("build-stage") / "codegen", REPO / "requirements.lock")


class BuildStages:
    """Runs a Dockerfile's own stages that make `/out/gen`, their absolute paths mapped into a work directory.

    The Go stage fetches validate.proto (`go mod download`, as `make protos`), the build stage's protoc command
    writes the stubs: the commands are the Dockerfile's, so a broken one fails here. Built once per distinct
    set of commands.
    """

    def __init__(self, codegen: Path, work: Path) -> None:
        self.codegen = codegen
        self.work = work
        self.built: dict[tuple[str, ...], Path] = {}

    def generated(self, dockerfile: Dockerfile) -> Path:
        go = next(stage for stage in dockerfile.stages if stage.name == "protovalidate")
        build = next(stage for stage in dockerfile.stages if stage.name == "build")
        (codegen_run,) = [run for run in build.all("RUN") if "grpc_tools.protoc" in run]
        key = (*go.all("RUN"), codegen_run)
        if key not in self.built:
            work = self.work / f"stages-{len(self.built)}"
            mapping = {"/opt/codegen": str(self.codegen), "/out/gen": str(work / "out" / "gen")}
            mapping["/protodeps"] = str(work / "protodeps")
            src = work / "src"
            src.mkdir(parents=True)
            arguments = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in go.all("ARG")}
            for run in go.all("RUN"):
                self._run(run, mapping, work, arguments)
            shutil.copytree(REPO / "protos", src / "protos")
            shutil.copytree(work / "protodeps", src / "protodeps")
            self._run(codegen_run, mapping, src, {})
            self.built[key] = work / "out" / "gen"
        return self.built[key]

    @staticmethod
    def _run(command: str, mapping: dict[str, str], cwd: Path, arguments: dict[str, str]) -> None:
        for image_path, local in mapping.items():
            command = command.replace(image_path, local)
        env = {**os.environ, **arguments}
        result = subprocess.run(
            ["bash", "-eu", "-o", "pipefail", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"


@pytest.fixture(scope="module")
def build_stages(codegen_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildStages:
    return BuildStages(codegen_venv, tmp_path_factory.mktemp("stages"))


class ImageDir:
    """The final stage's files under `root`, the image's absolute paths mapped into it."""

    def __init__(self, dockerfile: Dockerfile, root: Path, venv: Path, stages: BuildStages) -> None:
        self.dockerfile = dockerfile
        self.root = root
        self.venv = venv
        for copy in dockerfile.final.copies():
            if copy.from_stage is None:
                for source in copy.sources:
                    target = self.local(copy.dest if len(copy.sources) == 1 else f"{copy.dest}/{Path(source).name}")
                    shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif copy.dest == IMAGE_VENV:
                continue  # the fixture's virtualenv, installed from the same lock
            elif copy.from_stage == "build" and copy.sources == ("/out/gen",):
                shutil.copytree(stages.generated(dockerfile), self.local(copy.dest))
            else:
                raise AssertionError(f"{dockerfile.path}: no stand-in for COPY --from={copy.from_stage} {copy.dest}")

    def local(self, image_path: str) -> Path:
        if image_path == IMAGE_VENV or image_path.startswith(f"{IMAGE_VENV}/"):
            return self.venv / image_path.removeprefix(IMAGE_VENV).lstrip("/")
        assert image_path.startswith(f"{IMAGE_APP}/") or image_path == IMAGE_APP, image_path
        return self.root / image_path.lstrip("/")

    def env(self, **overrides: str) -> dict[str, str]:
        """The final stage's ENV with image paths mapped here; nothing else of this process's environment."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.root), "LANG": "C.UTF-8"}
        for name, value in self.dockerfile.final.env().items():
            mapped = value.replace("$PATH", env["PATH"])
            env[name] = mapped.replace(IMAGE_VENV, str(self.venv)).replace(IMAGE_APP, str(self.root / "app"))
        env.update(overrides)
        return env

    def command(self, argv: list[str], env: Mapping[str, str]) -> list[str]:
        executable = shutil.which(argv[0], path=env["PATH"])
        assert executable is not None, argv[0]
        assert Path(executable).is_relative_to(self.venv), (argv[0], executable)
        return [executable, *argv[1:]]

    def run(self, argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        workdir = self.local(self.dockerfile.final.last("WORKDIR") or IMAGE_APP)
        return subprocess.run(
            self.command(argv, env), cwd=workdir, env=env, capture_output=True, text=True, check=False, timeout=120
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def etl_catalogue(runtime_venv: Path, build_stages: BuildStages, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ETL image's entrypoint loads the demo catalogue into a tantivy directory (a volume, in a pod)."""
    work = tmp_path_factory.mktemp("etl-image")
    image = ImageDir(parse(ETL_DOCKERFILE), work / "root", runtime_venv, build_stages)
    env = image.env()
    entrypoint = image.dockerfile.final.exec_form("ENTRYPOINT")
    assert image.run([*entrypoint, *image.dockerfile.final.exec_form("CMD")], env).returncode == 0
    demo = image.run([*entrypoint, "demo", str(work / "demo.sqlite")], env)
    assert demo.returncode == 0, demo.stderr
    catalogue = work / "catalogue"
    load = image.run(
        [*entrypoint, "load", str(work / "demo.sqlite"), "--engine", "tantivy", "--tantivy-dir", str(catalogue)], env
    )
    assert load.returncode == 0, load.stderr
    return catalogue


@pytest.fixture
def started(
    request: pytest.FixtureRequest, runtime_venv: Path, build_stages: BuildStages, tmp_path: Path
) -> Iterator[tuple[ServiceSpec, ImageDir, dict[str, str], subprocess.Popen[bytes], Path]]:
    spec: ServiceSpec = request.param
    image = ImageDir(parse(SERVICE_DOCKERFILES[spec.name]), tmp_path / "root", runtime_venv, build_stages)
    volume = tmp_path / "volume"
    volume.mkdir()
    overrides = {
        spec.env_var("grpc_port"): str(_free_port()),
        spec.env_var("metrics_port"): str(_free_port()),
    }
    # The embedded profile's files live on a volume in a pod (the image's own files are read-only to its user).
    if spec.name == "search":
        overrides[spec.env_var("tantivy_dir")] = str(request.getfixturevalue("etl_catalogue"))
    if spec.name == "ugc":
        overrides[spec.env_var("event_log_path")] = str(volume / "events.sqlite3")
        overrides[spec.env_var("sqlite_path")] = str(volume / "documents.sqlite3")
    env = image.env(**overrides)
    log_path = tmp_path / "service.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        image.command(image.dockerfile.final.exec_form("ENTRYPOINT"), env),
        cwd=image.local(image.dockerfile.final.last("WORKDIR") or IMAGE_APP),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield spec, image, env, process, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        log.close()


def _healthy(image: ImageDir, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    healthcheck = image.dockerfile.final.healthcheck()
    assert healthcheck is not None
    return image.run(healthcheck, env)


@pytest.mark.parametrize("started", SERVICES, ids=lambda spec: spec.name, indirect=True)
def test_a_service_image_starts_from_its_files_and_its_healthcheck_sees_it_serving(
    started: tuple[ServiceSpec, ImageDir, dict[str, str], subprocess.Popen[bytes], Path],
) -> None:
    spec, image, env, process, log = started
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    result = _healthy(image, env)
    while result.returncode != 0 and time.monotonic() < deadline:
        assert process.poll() is None, f"{spec.name} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        time.sleep(0.5)
        result = _healthy(image, env)
    assert result.returncode == 0, f"{spec.name} never reported SERVING: {result.stderr}"


def test_the_search_image_serves_the_catalogue_the_etl_image_loaded(
    runtime_venv: Path, build_stages: BuildStages, etl_catalogue: Path, tmp_path: Path
) -> None:
    spec = by_name("search")
    image = ImageDir(parse(SERVICE_DOCKERFILES["search"]), tmp_path / "root", runtime_venv, build_stages)
    port = _free_port()
    env = image.env(
        **{
            spec.env_var("grpc_port"): str(port),
            spec.env_var("metrics_port"): str(_free_port()),
            spec.env_var("tantivy_dir"): str(etl_catalogue),
        }
    )
    process = subprocess.Popen(
        image.command(image.dockerfile.final.exec_form("ENTRYPOINT"), env),
        cwd=image.local(IMAGE_APP),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=STARTUP_LIMIT_SECONDS)
            answer = search_pb2_grpc.SearchServiceStub(channel).ListVideos(
                search_pb2.ListVideosRequest(limit=1), timeout=30
            )
        assert answer.total > 0
        assert len(answer.items) == 1
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    # Stopped, the same health check reports it: it can fail.
    assert _healthy(image, env).returncode != 0


def _named_files(config: object) -> Iterator[str]:
    """Every file an Envoy config names: `filename` values and the transcoder's descriptor."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key in {"filename", "proto_descriptor"} and isinstance(value, str):
                yield value
            else:
                yield from _named_files(value)
    elif isinstance(config, list):
        for item in config:
            yield from _named_files(item)


def test_the_gateway_image_holds_every_file_its_rendered_config_names(tmp_path: Path) -> None:
    dockerfile = parse(GATEWAY_DOCKERFILE)
    build = next(stage for stage in dockerfile.stages if stage.name == "build")
    build_env = build.env()
    upstreams = {
        line.split("=", 1)[0].removesuffix("_UPSTREAM").lower(): line.split("=", 1)[1] for line in build.all("ARG")
    }
    assert sorted(upstreams) == sorted(spec.name for spec in SERVICES if spec.behind_gateway)
    # The JWKS is mounted in a pod; here a real one stands at a path of the test's own.
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(identity.jwks(identity.dev_signing_key(tmp_path / "key.pem"))))
    env = {**os.environ, **build_env, "GATEWAY_JWKS_PATH": str(jwks)}
    config = tmp_path / "gateway.yaml"
    options = [f"--{name}={upstream}" for name, upstream in upstreams.items()]
    rendered = subprocess.run(
        [sys.executable, "-m", "devstack", "gateway-config", *options, "-o", config],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    loaded = yaml.safe_load(config.read_text())
    assert loaded["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == "0.0.0.0"
    site_packages = Path(yaml.__file__).resolve().parents[1]
    image_site_packages = "/opt/codegen/lib/python3.11/site-packages"
    destinations = [copy.dest for copy in dockerfile.final.copies()]
    named = set(_named_files(loaded)) - {str(jwks)}
    assert named, "the rendered config names no file"
    for path in named:
        in_image = path.replace(str(site_packages), image_site_packages).replace(str(REPO), IMAGE_APP)
        assert any(in_image == dest or in_image.startswith(f"{dest}/") for dest in destinations), path
    validated = subprocess.run(
        [Path(sys.executable).parent / "envoy", "--mode", "validate", "-c", config, "--disable-hot-restart"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
