"""Ready to ship: the wheel, installed into a clean virtual environment, starts a monitor from any folder.

The wheel is built from a copy of the files a release is made of (not this checkout's editable install) and
installed by pip into a venv that sees nothing of this one but the wheel's declared dependencies: pip installing
those again (600 MB, 90 s of the suite's 10-minute budget) would only repeat what installing this venv already did
with the same requirements. So the venv gets exactly the distributions the wheel's metadata requires, transitively,
linked from this venv, and `pip check` confirms their versions satisfy what the wheel declares. A dependency the
code imports but pyproject.toml does not declare is absent there, and `monitor` fails to start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

RELEASE = ("pyproject.toml", "README.md", "LICENSE", "config.toml", "monitor", "series", "reports")


def _run(*args: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _dependency_closure(requires: list[str]) -> list[metadata.Distribution]:
    """The distributions of this venv that `requires` needs, transitively (markers evaluated, extras followed)."""
    here = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    needed: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(r), "") for r in requires]
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        assert name in here, f"{req} is required but not installed in this venv"
        dist = here[name]
        assert dist.version in req.specifier, f"{req} is required, this venv has {dist.version}"
        if name not in needed:
            needed[name] = dist
            todo += [(Requirement(r), "") for r in dist.requires or ()]
        todo += [(Requirement(r), e) for e in req.extras for r in dist.requires or ()]
    return list(needed.values())


def _link_into(site: Path, dists: list[metadata.Distribution]) -> None:
    """Make `dists` importable in a venv whose site-packages is `site`: each top-level entry of their RECORDs
    (packages, modules, .libs folders, dist-info) linked from this venv; their scripts are not needed."""
    for dist in dists:
        assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD"
        for top in {f.parts[0] for f in dist.files if f.parts[0] not in ("..", "__pycache__")}:
            if not (site / top).exists():
                (site / top).symlink_to(Path(str(dist.locate_file(top))))


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
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = (sys.executable, "-m", "pip", "--python", python)  # this venv's pip, working on the clean one
    _run(*pip, "install", "-q", "--no-deps", wheel, cwd=tmp_path)
    with zipfile.ZipFile(wheel) as whl:
        (meta,) = (n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(whl.read(meta).decode()).get_all("Requires-Dist") or []
    assert any(r.startswith("pandas") for r in requires)  # the wheel declares its dependencies
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).stdout.strip()
    )
    _link_into(site, _dependency_closure(requires))
    _run(*pip, "check", cwd=tmp_path)  # every declared requirement met, by the versions linked
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
