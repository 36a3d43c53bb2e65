"""Reads the images' Dockerfiles as the tests need them: stages, what the final stage copies, its ENV and commands.

No Docker runs here, so the tests check an image through what its Dockerfile says: this parser covers the
instructions our Dockerfiles use (continuation lines, `FROM … AS`, `COPY [--from=…]`, `ENV k=v …`, exec-form
`ENTRYPOINT`, `CMD` and `HEALTHCHECK … CMD`), and refuses what it does not know rather than guess.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICE_DOCKERFILES = {
    "search": REPO / "search_svc" / "Dockerfile",
    "ugc": REPO / "ugc_svc" / "Dockerfile",
    "sink": REPO / "sink_svc" / "Dockerfile",
}
ETL_DOCKERFILE = REPO / "etl" / "Dockerfile"
GATEWAY_DOCKERFILE = REPO / "envoy" / "Dockerfile"
ALL_DOCKERFILES = (*SERVICE_DOCKERFILES.values(), ETL_DOCKERFILE, GATEWAY_DOCKERFILE)
_KNOWN = {"ARG", "FROM", "RUN", "COPY", "ENV", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "SHELL"}


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    dest: str
    from_stage: str | None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def last(self, keyword: str) -> str | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def copies(self) -> list[Copy]:
        result = []
        for args in self.all("COPY"):
            words = shlex.split(args)
            flags = [word for word in words if word.startswith("--")]
            paths = [word for word in words if not word.startswith("--")]
            from_stage = next((flag.split("=", 1)[1] for flag in flags if flag.startswith("--from=")), None)
            result.append(Copy(tuple(paths[:-1]), paths[-1], from_stage))
        return result

    def env(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                name, sep, value = word.partition("=")
                if not sep:
                    raise ValueError(f"ENV {args!r}: only the name=value form is read here")
                result[name] = value
        return result

    def exec_form(self, keyword: str) -> list[str]:
        args = self.last(keyword)
        if args is None:
            return []
        command = json.loads(args)
        if not isinstance(command, list) or not all(isinstance(word, str) for word in command):
            raise ValueError(f"{keyword} must be in exec form (a JSON list of strings), got {args!r}")
        return command

    def healthcheck(self) -> list[str] | None:
        """The HEALTHCHECK command, or None for `HEALTHCHECK NONE`."""
        args = self.last("HEALTHCHECK")
        if args is None or args.strip() == "NONE":
            return None
        _, _, command = args.partition(" CMD ")
        parsed = json.loads(command)
        if not isinstance(parsed, list):
            raise ValueError(f"HEALTHCHECK must use the exec form, got {args!r}")
        return [str(word) for word in parsed]


@dataclass
class Dockerfile:
    path: Path
    args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def base_image(self, stage: Stage) -> str:
        """The stage's base with `${ARG}` defaults filled in."""
        base = stage.base
        for name, value in self.args.items():
            base = base.replace(f"${{{name}}}", value)
        return base


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def parse(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword not in _KNOWN:
            raise ValueError(f"{path}: {keyword} is not an instruction these tests read")
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return Dockerfile(path, args, stages)


def context_ignore(root: Path = REPO) -> Callable[[str, list[str]], set[str]]:
    """A `shutil.copytree` ignore that leaves out what .dockerignore keeps from the build context.

    Reads the patterns our .dockerignore uses: a path from the context root, or `**/` and a name pattern.
    """
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(directory: str, names: list[str]) -> set[str]:
        result = set()
        for name in names:
            relative = (Path(directory) / name).resolve().relative_to(root.resolve()).as_posix()
            for pattern in patterns:
                anywhere = pattern.startswith("**/") and fnmatch.fnmatch(name, pattern[3:])
                if anywhere or fnmatch.fnmatch(relative, pattern):
                    result.add(name)
        return result

    return ignored


def in_context(source: str, root: Path = REPO) -> bool:
    """Whether a COPY source from the context survives .dockerignore."""
    path = root / source
    return not context_ignore(root)(str(path.parent), [path.name])
