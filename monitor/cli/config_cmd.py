"""`monitor check-config`: validate config.toml and list every problem at once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import typer

from monitor.cli.app import app
from monitor.cli.common import DEFAULT_CONFIG, ConfigOpt, load
from monitor.meetings import calendar_gap


@app.command("check-config")
def check_config(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Validate the config file: every problem with its key path, exit 2 if any; warn when the central-bank
    calendar has no meeting ahead for a bank (the run still works; its brief cannot name that bank's next meeting)."""
    cfg = load(config)
    typer.echo(
        f"{config}: ok: {len(cfg.series)} series, {len(cfg.models)} models, {len(cfg.rules)} rules, "
        f"{len(cfg.receivers)} receivers, {len(cfg.silences)} silences; store {cfg.store_path()}"
    )
    # The calendar is data that runs out on a date, not a config error: a warning, exit 0. Checked here because
    # check-config is what a user runs after upgrading or editing, and the daily report says the same sentence.
    gap = calendar_gap(datetime.now(ZoneInfo(cfg.run.timezone)).date())
    if gap:
        typer.echo(f"warning: {gap}", err=True)
