"""The daily run of the shipped config on the replay of the real history as of 2026-03-27, made once per test
session (most of a minute) and shared by the tests that only read what it wrote; a test that writes works on a
copy (`copy_run`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from monitor.cli import run

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-03-27"


def shipped_run_config(folder: Path) -> Path:
    """The shipped config.toml with its store, exports and file receiver's mail moved under `folder`."""
    text = (REPO / "config.toml").read_text()
    for old, new in (
        ('store = "data/monitor.sqlite"', f'store = "{folder / "data" / "monitor.sqlite"}"'),
        ('exports = "exports"', f'exports = "{folder / "exports"}"'),
        ('directory = "exports/mail"', f'directory = "{folder / "mail"}"'),
    ):
        assert old in text, f"config.toml no longer has {old}"
        text = text.replace(old, new)
    path = folder / "config.toml"
    path.write_text(text)
    return path


def run_replay(folder: Path, replay: Path) -> int:
    """`monitor run --as-of 2026-03-27 --replay` with the shipped config under `folder`; its exit code."""
    return run(["run", "--config", str(shipped_run_config(folder)), "--as-of", AS_OF, "--replay", str(replay)])


def copy_run(folder: Path, dest: Path) -> Path:
    """A copy of a run's folder whose config points into the copy; the copy's config.toml."""
    shutil.copytree(folder, dest, symlinks=True)
    config = dest / "config.toml"
    config.write_text(config.read_text().replace(f'"{folder}/', f'"{dest}/'))
    return config
