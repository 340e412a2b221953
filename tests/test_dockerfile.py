"""The container image's essentials, read from the Dockerfile (CI also lints it with hadolint and builds it where
Docker runs): a slim Python the package supports, a user without root, the store and the exports as volumes where
the default config puts them, the daily run as its command, and no secret in the image."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

from series import secrets, sources
from tests.conftest import REPO_ROOT


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_base_is_a_slim_python_the_package_supports() -> None:
    (base,) = [args for word, args in instructions() if word == "FROM"]
    match = re.fullmatch(r"python:(3\.\d+)-slim", base)
    assert match, base
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert f"Programming Language :: Python :: {match.group(1)}" in project["classifiers"]


def test_the_run_is_the_command_of_a_user_without_root() -> None:
    steps = instructions()
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    last_user = max(i for i, (word, _) in enumerate(steps) if word == "USER")
    assert all(word != "RUN" for word, _ in steps[last_user:])  # nothing runs as root after the switch
    (cmd,) = [args for word, args in steps if word == "CMD"]
    assert cmd.startswith('["monitor", "run"')


def test_the_store_and_the_exports_are_volumes_where_the_default_config_puts_them() -> None:
    steps = instructions()
    workdir = PurePosixPath([args for word, args in steps if word == "WORKDIR"][-1])
    (volume,) = [args for word, args in steps if word == "VOLUME"]
    volumes = {PurePosixPath(v) for v in re.findall(r'"([^"]+)"', volume)}
    paths = tomllib.loads((REPO_ROOT / "config.toml").read_text())["paths"]
    assert workdir / PurePosixPath(paths["store"]).parent in volumes
    assert workdir / paths["exports"] in volumes


def test_no_secret_is_set_in_the_image() -> None:
    declared = {key for name in sources.names() for key in sources.get(name).env_keys}
    for word, args in instructions():
        if word in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            for name in names:
                assert name not in declared and not name.endswith(secrets.SECRET_SUFFIXES), (word, name)


def test_the_build_context_is_what_the_image_copies() -> None:
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*"  # everything is left out unless named: no data, .env or venv
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for word, args in instructions():
        if word == "COPY":
            copied |= {Path(src).name for src in args.split()[:-1]}
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {p.rstrip("*") for p in packages["include"]} <= copied
    assert copied == allowed
