"""Each image's contents, run without Docker: a fresh virtualenv from the runtime lock, the stubs made by the
Dockerfile's own build-stage commands, a directory holding only what its final stage copies, its ENV and commands.

The virtualenvs are built once (hash-checked wheels only, as the build stage installs them). A service then
starts from its image directory and answers gRPC health through the image's own HEALTHCHECK command; the ETL image
loads a catalogue the search image then serves; the gateway's config is rendered as its build stage renders it and
every file it names is one the final stage copies. Nothing from the repository's own virtualenv or `build/` is on
these processes' paths, so a module the image forgot fails here. As root (CI), they run as the image's USER, to
whom the image's files are read-only, as in a pod.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
import pytest
import yaml
from cinemesh.search.v1 import search_pb2, search_pb2_grpc

from devstack import identity
from devstack.services import SERVICES, ServiceSpec, by_name
from tests.dockerfiles import (
    ETL_DOCKERFILE,
    GATEWAY_DOCKERFILE,
    REPO,
    SERVICE_DOCKERFILES,
    Dockerfile,
    Stage,
    context_ignore,
    in_context,
    parse,
)

# Generous: a guard against a hang on a busy 2-core machine, never a speed target.
STARTUP_LIMIT_SECONDS = 90.0
IMAGE_APP = "/app"
IMAGE_VENV = "/opt/venv"


def _open_to_all(path: Path) -> bool:
    """Whether any user may run `path`: every folder above it lets others through."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents) and bool(
        path.stat().st_mode & stat.S_IXOTH
    )


def _base_python() -> str:
    """An interpreter of this Python version that the images' unprivileged user may run too (this one may live
    under root's home, which that user cannot enter)."""
    own = Path(os.path.realpath(sys.executable))
    if _open_to_all(own):
        return str(own)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = shutil.which(version, path="/usr/local/bin:/usr/bin")
    assert found is not None, f"no {version} outside root's home for the images' user to run"
    return found


def _fresh_venv(venv: Path, lock: Path) -> Path:
    """`lock` in a new virtualenv, wheels only, every hash checked, as the images' build stages install it."""
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "venv", "-q", "--python", _base_python(), venv], check=True)
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
def image_base() -> Iterator[Path]:
    """Where the image directories and their virtualenv live: readable by the images' unprivileged user (pytest's
    own temporary directories are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="cinemesh-images-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _private_dir(base: Path) -> Path:
    path = Path(tempfile.mkdtemp(dir=base))
    path.chmod(0o755)
    return path


def _volume(base: Path, dockerfile: Dockerfile) -> Path:
    """A directory the image's user may write, as a volume mounted in a pod."""
    path = _private_dir(base)
    if os.geteuid() == 0:
        uid, _, gid = (dockerfile.final.last("USER") or "").partition(":")
        os.chown(path, int(uid), int(gid or uid))
    return path


@pytest.fixture(scope="module")
def runtime_venv(image_base: Path) -> Path:
    """requirements-runtime.lock: the image's /opt/venv."""
    return _fresh_venv(image_base / "venv", REPO / "requirements-runtime.lock")


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
            shutil.copytree(REPO / "protos", src / "protos", ignore=context_ignore())
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
                    assert in_context(source), f"{dockerfile.path}: COPY {source}, which .dockerignore leaves out"
                    target = self.local(copy.dest if len(copy.sources) == 1 else f"{copy.dest}/{Path(source).name}")
                    shutil.copytree(REPO / source, target, ignore=context_ignore())
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
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}
        for name, value in self.dockerfile.final.env().items():
            mapped = value.replace("$PATH", env["PATH"])
            env[name] = mapped.replace(IMAGE_VENV, str(self.venv)).replace(IMAGE_APP, str(self.root / "app"))
        env.update(overrides)
        return env

    def command(self, argv: list[str], env: Mapping[str, str]) -> list[str]:
        """`argv` as the image runs it: its executable from the image's PATH, as the image's USER (when this
        process may switch users, as root in CI does): the image's files are then read-only to it."""
        executable = shutil.which(argv[0], path=env["PATH"])
        assert executable is not None, argv[0]
        assert Path(executable).is_relative_to(self.venv), (argv[0], executable)
        user = self.dockerfile.final.last("USER") or ""
        uid, _, gid = user.partition(":")
        as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid or uid}", "--clear-groups"]
        return [*(as_user if os.geteuid() == 0 else []), executable, *argv[1:]]

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
def etl_catalogue(runtime_venv: Path, build_stages: BuildStages, image_base: Path) -> Path:
    """The ETL image's entrypoint loads the demo catalogue into a tantivy directory (a volume, in a pod)."""
    dockerfile = parse(ETL_DOCKERFILE)
    work = _volume(image_base, dockerfile)
    image = ImageDir(dockerfile, _private_dir(image_base) / "root", runtime_venv, build_stages)
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
    request: pytest.FixtureRequest, runtime_venv: Path, build_stages: BuildStages, image_base: Path, tmp_path: Path
) -> Iterator[tuple[ServiceSpec, ImageDir, dict[str, str], subprocess.Popen[bytes], Path]]:
    spec: ServiceSpec = request.param
    dockerfile = parse(SERVICE_DOCKERFILES[spec.name])
    image = ImageDir(dockerfile, _private_dir(image_base) / "root", runtime_venv, build_stages)
    volume = _volume(image_base, dockerfile)
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
    if spec.name == "sink":
        overrides[spec.env_var("event_log_path")] = str(volume / "events.sqlite3")
        overrides[spec.env_var("analytics_path")] = str(volume / "analytics")
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
    runtime_venv: Path, build_stages: BuildStages, etl_catalogue: Path, image_base: Path
) -> None:
    spec = by_name("search")
    image = ImageDir(
        parse(SERVICE_DOCKERFILES["search"]), _private_dir(image_base) / "root", runtime_venv, build_stages
    )
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


class StageRunner:
    """Runs a Dockerfile's stages in order, each in a directory of its own standing for its filesystem.

    WORKDIR, COPY (from the context or an earlier stage), ARG, ENV and the RUNs of every stage but the final one
    (whose RUNs create users) are carried out with the image's
    absolute paths mapped into that directory; a RUN that installs a lock is left to the given virtualenv, which
    stands at the image's `venv_path` in the build stage.
    """

    def __init__(self, dockerfile: Dockerfile, work: Path, venv: Path, venv_path: str) -> None:
        self.dockerfile = dockerfile
        self.work = work
        self.venv = venv
        self.venv_path = venv_path
        self.venv_stage = "build"
        self.roots: dict[str, Path] = {}

    def local(self, stage: str, image_path: str) -> Path:
        # The virtualenv stands in the stage that installs it; a later stage copying from it has a path of its own.
        in_venv = image_path == self.venv_path or image_path.startswith(f"{self.venv_path}/")
        if in_venv and stage == self.venv_stage:
            return self.venv / image_path.removeprefix(self.venv_path).lstrip("/")
        return self.roots[stage] / image_path.lstrip("/")

    def _mapped(self, stage: str, command: str) -> str:
        command = command.replace(self.venv_path, str(self.venv))
        for top in ("/app", "/out", "/protodeps", "/tools", "/usr/local/bin/"):
            command = re.sub(rf"(?<![\w.$/-]){re.escape(top)}", str(self.roots[stage]) + top, command)
        return command

    def run(self) -> dict[str, str]:
        """Every stage; returns the last one's ENV (mapped)."""
        env: dict[str, str] = {}
        final = self.dockerfile.final
        for stage in self.dockerfile.stages:
            name = stage.name or "final"
            self.roots[name] = self.work / name
            cwd = self.roots[name]
            cwd.mkdir(parents=True)
            env = {key: value for key, value in self.dockerfile.args.items() if "IMAGE" not in key}
            for keyword, args in stage.instructions:
                if keyword == "WORKDIR":
                    cwd = self.local(name, args)
                    cwd.mkdir(parents=True, exist_ok=True)
                elif keyword in {"ARG", "ENV"}:
                    pairs = [args] if keyword == "ARG" else shlex.split(args)
                    env.update(dict(pair.split("=", 1) for pair in pairs))
                elif keyword == "COPY":
                    self._copy(name, cwd, args)
                elif keyword == "RUN" and stage is not final and "pip install" not in args:
                    # The final stage's RUNs change the system (users, pip's removal): never on this machine.
                    assert not re.search(r"\b(useradd|groupadd|apt-get|pip uninstall)\b", args), args
                    mapped_env = {key: self._mapped(name, value) for key, value in env.items()}
                    result = subprocess.run(
                        ["bash", "-eu", "-o", "pipefail", "-c", self._mapped(name, args)],
                        cwd=cwd,
                        env={**os.environ, **mapped_env},
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    assert result.returncode == 0, f"{name}: RUN {args}\n{result.stderr[-3000:]}"
        return env

    def _copy(self, stage: str, cwd: Path, args: str) -> None:
        (copy,) = Stage("", None, [("COPY", args)]).copies()
        for source in copy.sources:
            if copy.from_stage is None:
                assert in_context(source), f"COPY {source}, which .dockerignore leaves out of the build context"
            origin = REPO / source if copy.from_stage is None else self.local(copy.from_stage, source)
            dest = self.local(stage, copy.dest) if copy.dest.startswith("/") else cwd / copy.dest
            if origin.is_dir():
                ignore = context_ignore() if copy.from_stage is None else None
                shutil.copytree(origin, dest, dirs_exist_ok=True, ignore=ignore)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest / origin.name if copy.dest.endswith("/") else dest)


def test_the_gateway_images_stages_render_a_config_whose_every_file_the_image_holds(
    codegen_venv: Path, tmp_path: Path
) -> None:
    dockerfile = parse(GATEWAY_DOCKERFILE)
    runner = StageRunner(dockerfile, tmp_path / "stages", codegen_venv, "/opt/codegen")
    runner.run()
    final = runner.roots["final"]
    config_file = final / "app" / "build" / "gateway.yaml"
    config_text = config_file.read_text()
    loaded = yaml.safe_load(config_text)
    assert loaded["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == "0.0.0.0"
    # The config names files by the build stage's paths; the final stage must hold each at the same path.
    build_root = str(runner.roots["build"])
    jwks_path = dict(
        pair.split("=", 1)
        for pair in shlex.split(
            " ".join(args for args in next(s for s in dockerfile.stages if s.name == "build").all("ENV"))
        )
    )["GATEWAY_JWKS_PATH"]
    named = set(_named_files(loaded)) - {jwks_path}
    assert named, "the rendered config names no file"
    for path in named:
        in_image = path.replace(str(codegen_venv), "/opt/codegen").replace(build_root, "")
        assert (final / in_image.lstrip("/")).exists() or runner.local("final", in_image).exists(), in_image
    # With a JWKS where the Secret would be mounted, Envoy loads the whole config: descriptors, files, routes.
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(identity.jwks(identity.dev_signing_key(tmp_path / "key.pem"))))
    checkable = tmp_path / "gateway-check.yaml"
    checkable.write_text(config_text.replace(jwks_path, str(jwks)))
    validated = subprocess.run(
        [Path(sys.executable).parent / "envoy", "--mode", "validate", "-c", checkable, "--disable-hot-restart"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
