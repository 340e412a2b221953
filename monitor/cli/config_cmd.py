"""`monitor check-config`: validate config.toml and list every problem at once."""

from __future__ import annotations

import typer

from monitor.cli.app import app
from monitor.cli.common import DEFAULT_CONFIG, ConfigOpt, load


@app.command("check-config")
def check_config(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Validate the config file: every problem with its key path, exit 2 if any."""
    cfg = load(config)
    typer.echo(
        f"{config}: ok: {len(cfg.series)} series, {len(cfg.models)} models, {len(cfg.rules)} rules, "
        f"{len(cfg.receivers)} receivers, {len(cfg.silences)} silences; store {cfg.store_path()}"
    )
