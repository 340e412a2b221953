"""Ready to ship: the wheel, installed into a clean virtual environment, starts a monitor from any folder.

The wheel is built from a copy of the files a release is made of (not this checkout's editable install), and
installed with its dependencies by pip as a user would (from pip's configured index and cache: in CI, and on
a machine without network, the wheels pip has seen before), into a venv that sees nothing of this one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

RELEASE = ("pyproject.toml", "README.md", "LICENSE", "config.toml", "monitor", "series", "reports")


def _run(*args: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_pip_install_then_init_and_check_config_from_another_folder(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in RELEASE:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, source / name)
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source, cwd=tmp_path)
    (wheel,) = wheels.glob("kr_macro_monitor-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    monitor = python.with_name("monitor")

    elsewhere, desk = tmp_path / "elsewhere", tmp_path / "desk"
    elsewhere.mkdir()
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _run(monitor, "--version", cwd=elsewhere).stdout.strip() == f"monitor {version}"
    _run(monitor, "init", desk, cwd=elsewhere)
    checked = _run(monitor, "check-config", "--config", desk / "config.toml", cwd=elsewhere)
    assert checked.stdout.startswith(f"{desk / 'config.toml'}: ok: ")

    # The installed default is a copy of the top-level config.toml (one fact, one place), not a link to it.
    where = "from importlib import resources; print(resources.files('monitor') / 'config.toml')"
    installed = _run(python, "-c", where, cwd=elsewhere).stdout.strip()
    assert not Path(installed).is_symlink() and Path(installed).is_relative_to(venv)
    assert Path(installed).read_bytes() == (REPO_ROOT / "config.toml").read_bytes()
    assert (desk / "config.toml").read_bytes() == (REPO_ROOT / "config.toml").read_bytes()
