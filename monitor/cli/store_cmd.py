"""`monitor store check | repair`: find, and fix explicitly, stored rows dated before the store could know them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.app import app
from monitor.cli.common import DEFAULT_CONFIG, ConfigOpt, load
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config
    from series.integrity import Violation
    from series.store import Store

store_app = typer.Typer(help="Check and repair the store's point-in-time history.", no_args_is_help=True)
app.add_typer(store_app, name="store")

SHOWN = 10  # rows listed per command; the count covers all of them


def _existing(cfg: Config) -> Path:
    """The store's path; opening it as a writer would create a missing one, and there is nothing to check."""
    path = cfg.store_path()
    if not path.exists():
        raise MonitorError(f"no store at {path} yet: run `monitor fetch` or `monitor run` first")
    return path


def _violations(cfg: Config, store: Store) -> list[Violation]:
    from series import sources
    from series.integrity import find_violations

    # Rows a source dates itself (ALFRED vintages) are exempt: the source says when each value was published.
    dated = {
        (spec.id, ref.source)
        for spec in cfg.series_specs()
        for ref in spec.refs()
        if sources.get(ref.source).gives_vintages and ref.params.get("vintages")
    }
    return find_violations(store, lambda series_id, source: (series_id, source) in dated)


def _list(violations: list[Violation]) -> None:
    for v in violations[:SHOWN]:
        typer.echo(f"  {v.text()}")
    if len(violations) > SHOWN:
        typer.echo(f"  ... and {len(violations) - SHOWN} more")


@store_app.command("check")
def check(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Rows dated before the fetch that wrote them (earlier versions wrote them); exit 1 when there are any."""
    from series.store import Store

    cfg = load(config)
    # As a writer, so that a store written by an earlier version (the stores to check) gets the current schema,
    # as with any writing command; the check itself changes no row.
    with Store.open(_existing(cfg), writer="monitor store check") as store:
        violations = _violations(cfg, store)
    if not violations:
        typer.echo(f"{cfg.store_path()}: every row is dated on or after the fetch that wrote it")
        return
    series = sorted({v.series_id for v in violations})
    typer.echo(
        f"{cfg.store_path()}: {len(violations)} rows in {len(series)} series ({', '.join(series)}) are dated before "
        "the store fetched them, so as_of() on those days returns values first known later:"
    )
    _list(violations)
    typer.echo(
        "repair: `monitor store repair` backs the store up beside it, then deletes or re-dates these rows; "
        "then re-run the affected days (`monitor backfill --from DATE --to DATE`) to recompute their alerts"
    )
    raise typer.Exit(1)


@store_app.command("repair")
def repair(
    config: ConfigOpt = DEFAULT_CONFIG,
    backup_dir: Annotated[
        Path | None, typer.Option("--backup-dir", help="Folder for the backup (default: beside the store).")
    ] = None,
) -> None:
    """Back the store up, then delete or re-date the rows `monitor store check` lists (one transaction)."""
    from series import integrity
    from series.store import Store

    cfg = load(config)
    if backup_dir is not None and not backup_dir.is_dir():
        raise MonitorError(f"--backup-dir: {backup_dir} is not a folder")
    with Store.open(_existing(cfg), writer="monitor store repair") as store:
        violations = _violations(cfg, store)
        if not violations:
            typer.echo(f"{cfg.store_path()}: nothing to repair")
            return
        backup = integrity.repair(store, violations, backup_dir)
    deleted = sum(v.fix == integrity.DELETE for v in violations)
    _list(violations)
    typer.echo(
        f"repaired {len(violations)} rows ({deleted} deleted, {len(violations) - deleted} re-dated); the store "
        f"as it was is in {backup}"
    )
