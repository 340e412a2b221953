"""`monitor init`: the packaged default config (the repository's config.toml, one file), the .env template, no
overwriting; and what an installed `monitor check-config` says where there is no config.toml."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from monitor.cli import run
from monitor.cli.init_cmd import env_template
from series import sources
from tests.conftest import REPO_ROOT


def test_the_packaged_default_is_the_top_level_config_toml() -> None:
    # One fact, one place: what `monitor init` ships is the file the README and the design describe.
    packaged = resources.files("monitor").joinpath("config.toml").read_bytes()
    assert packaged == (REPO_ROOT / "config.toml").read_bytes()


def test_init_writes_a_config_that_checks_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    target = tmp_path / "new" / "desk"  # created, parents too
    assert run(["init", str(target)]) == 0
    assert (target / "config.toml").read_bytes() == (REPO_ROOT / "config.toml").read_bytes()
    assert (target / ".env.example").is_file()
    capsys.readouterr()
    assert run(["check-config", "--config", str(target / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert f"store {target / 'data' / 'monitor.sqlite'}" in out  # relative paths land in DIR, not in the cwd
    assert not (elsewhere / "data").exists()


def test_init_without_a_folder_writes_into_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init"]) == 0
    assert run(["check-config"]) == 0


def test_env_example_names_every_declared_variable_and_no_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    declared = {key for name in sources.names() for key in sources.get(name).env_keys}
    assert declared  # the sources do declare keys: an empty template would pass the checks below
    for i, key in enumerate(sorted(declared)):
        monkeypatch.setenv(key, f"value-of-a-secret-{i}")
    assert run(["init", str(tmp_path)]) == 0
    text = (tmp_path / ".env.example").read_text()
    assignments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert sorted(line.removesuffix("=") for line in assignments) == sorted(declared)
    assert all(line.endswith("=") for line in assignments)
    assert "value-of-a-secret" not in text


def test_env_example_names_the_variables_receivers_name() -> None:
    config = """
[[receivers]]
name = "desk"
kind = "email"
password_env = "DESK_SMTP_PASSWORD"
"""
    assert "\nDESK_SMTP_PASSWORD=\n" in env_template(config)


def test_init_refuses_to_overwrite_and_names_force(tmp_path: Path, capsys) -> None:
    (tmp_path / ".env.example").write_text("mine\n")
    assert run(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--force" in err and ".env.example" in err
    assert (tmp_path / ".env.example").read_text() == "mine\n"
    assert not (tmp_path / "config.toml").exists()  # nothing written when anything would be overwritten
    assert run(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / ".env.example").read_text() != "mine\n"
    assert (tmp_path / "config.toml").is_file()


def test_init_into_a_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    assert run(["init", str(tmp_path / "afile")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write into" in err


def test_check_config_without_a_config_says_to_run_init(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "monitor init" in err and "--config" in err
