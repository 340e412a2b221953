"""`monitor init [DIR]`: write the commented default config.toml and a .env.example into DIR, to start from.

The default config is the repository's top-level config.toml, shipped inside the package (`monitor/config.toml`
is that file: a link in the source tree, a copy in the wheel), so there is one default, not two. Its relative
paths are relative to the file, so the store and the exports land in DIR. `.env.example` names every
environment variable a config can read (the secrets the sources declare and those the receivers name), never a
value.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli.app import app
from monitor.errors import MonitorError

CONFIG_NAME, ENV_NAME = "config.toml", ".env.example"


def default_config_text() -> str:
    """The default config.toml as shipped in the package."""
    return resources.files("monitor").joinpath(CONFIG_NAME).read_text(encoding="utf-8")


def _users(raw: dict[str, Any]) -> dict[str, list[str]]:
    """Source name -> the ids of the series in `raw` that read it (as primary or fallback)."""
    users: dict[str, list[str]] = {}
    for series in raw.get("series", []):
        for ref in [series, *series.get("fallback", [])]:
            users.setdefault(str(ref.get("source", "")), []).append(str(series.get("id", "?")))
    return users


def env_template(config_text: str) -> str:
    """The .env.example for a config: every variable it can read, with what reads it, and no value."""
    from series import sources

    raw = tomllib.loads(config_text)
    users = _users(raw)
    lines = [
        "# Environment variables the monitor reads: secrets, so they never go into config.toml.",
        "# Copy to .env, fill in the ones you need and load it into the environment",
        "# (`set -a; . ./.env; set +a`, or `docker run --env-file .env`). A series whose source lacks its key",
        "# uses its fallback, or fails alone with a message naming the variable.",
    ]
    for name in sources.names():
        source = sources.get(name)
        if not source.env_keys:
            continue
        used = users.get(name)
        where = f"used by {', '.join(dict.fromkeys(used))}" if used else "not used by config.toml"
        lines += ["", f"# {name}: {source.description} ({where})"]
        lines += [f"{key}=" for key in source.env_keys]
    named = [
        (str(receiver.get("name", "?")), key, value)
        for receiver in raw.get("receivers", [])
        for key, value in receiver.items()
        if key.endswith("_env") and isinstance(value, str) and value
    ]
    for receiver, key, value in named:
        lines += ["", f"# receiver {receiver}: its {key}", f"{value}="]
    lines += ["", "# Each receiver setting ending in _env (e.g. password_env) names one more variable: add it here."]
    return "\n".join(lines) + "\n"


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write into (created if missing).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a commented config.toml and a .env.example (the environment variables it reads) into DIR.
    Exit 2 if either file exists (unless --force)."""
    config_text = default_config_text()
    files = {directory / CONFIG_NAME: config_text, directory / ENV_NAME: env_template(config_text)}
    if not force:
        for path in files:
            if path.exists():
                raise MonitorError(f"{path} already exists; pass --force to overwrite it, or choose another folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise MonitorError(f"cannot write into {directory}: {e.strerror}; choose a folder you can write to") from None
    config = directory / CONFIG_NAME
    typer.echo(
        f"wrote {config} and {directory / ENV_NAME}; next: put your keys into the environment (see {ENV_NAME}), "
        f"then `monitor check-config --config {config}`"
    )
