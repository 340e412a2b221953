"""`monitor fetch` and `monitor sources`: fill the store from the sources (live, recording or replaying)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.app import app
from monitor.cli.common import (
    DEFAULT_CONFIG,
    AsOfOpt,
    ConfigOpt,
    Interrupted,
    is_tty,
    known_date,
    load,
    parse_date,
    stop_on_signals,
    today,
)
from monitor.errors import MonitorError


@app.command("fetch")
def fetch(
    config: ConfigOpt = DEFAULT_CONFIG,
    series: Annotated[list[str] | None, typer.Option("--series", "-s", help="Only these series (repeatable).")] = None,
    record: Annotated[Path | None, typer.Option("--record", help="Save every raw response under DIR.")] = None,
    replay: Annotated[Path | None, typer.Option("--replay", help="Serve recorded responses from DIR.")] = None,
    as_of: AsOfOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-fetch from each series' start.")] = False,
) -> None:
    """Fetch series into the store (incremental; exit 1 if any series failed)."""
    from series import sources
    from series.fetch import fetch_all, keys_note
    from series.http import build_transport
    from series.store import Store

    if record and replay:
        raise MonitorError("--record and --replay exclude each other: record a live fetch, or replay a recording")
    if replay is not None and not replay.is_dir():
        raise MonitorError(f"--replay: {replay} is not a directory of recorded responses")
    cfg = load(config)
    specs = cfg.series_specs()
    if series:
        known = {s.id for s in specs}
        unknown = [s for s in series if s not in known]
        if unknown:
            raise MonitorError(f"--series: unknown series {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [s for s in specs if s.id in series]
    when = known_date(cfg, parse_date(as_of))
    if record is not None:
        try:
            record.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MonitorError(f"--record: cannot create {record}: {e.strerror}") from None
    transport = build_transport(
        timeout=cfg.fetch.timeout_seconds,
        retries=cfg.fetch.retries,
        endpoints=cfg.fetch.endpoints,
        limits=sources.limits(),
        max_response_mb=cfg.fetch.max_response_mb,
        record=record,
        replay=replay,
    )
    env = dict(os.environ)
    with stop_on_signals(), Store.open(cfg.store_path(), writer="monitor fetch") as store:
        run_id = store.begin_run("fetch", when, command="fetch" + (" --replay" if replay else ""))
        try:
            outcomes = _with_progress(
                len(specs),
                lambda done: fetch_all(
                    specs,
                    store=store,
                    transport=transport,
                    env=env,
                    as_of=when,
                    run_id=run_id,
                    point_in_time=when < today(cfg.run.timezone),
                    full=full,
                    on_done=done,
                ),
            )
        except Interrupted as e:
            # Each series is stored in its own transaction: what was fetched before the signal stays, whole.
            store.finish_run(run_id, "interrupted")
            typer.echo(
                f"error: fetch (run {run_id}) stopped by {e.signal}: recorded as interrupted; the series fetched "
                "before it are stored, the next fetch goes on from there",
                err=True,
            )
            raise typer.Exit(e.exit_code) from None
        failed = [o for o in outcomes if o.failed]
        store.finish_run(run_id, "errors" if failed else "ok", {o.series_id: o.as_dict() for o in outcomes})
    added = sum(o.added for o in outcomes)
    revised = sum(o.revised for o in outcomes)
    typer.echo(
        f"fetched {len(outcomes) - len(failed)}/{len(outcomes)} series: {added} new observations, "
        f"{revised} revisions (run {run_id})"
    )
    note = keys_note(specs, env) if replay is None else ""
    if note:
        typer.echo(note)
    for o in failed:
        typer.echo(f"  {o.series_id}: {o.status}: {o.message}", err=True)
    if failed:
        raise typer.Exit(1)


def _with_progress(total: int, work):  # type: ignore[no-untyped-def]
    """A progress bar per series on a terminal; one plain log line per series otherwise (cron, CI)."""
    if not is_tty():

        def log(o) -> None:  # type: ignore[no-untyped-def]
            extra = f" {o.message}" if o.message else ""
            typer.echo(
                f"fetch {o.series_id}: {o.status} via {o.source or '-'}: +{o.added} new, {o.revised} revised{extra}",
                err=True,
            )

        return work(log)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task("fetching", total=total)

        def advance(o) -> None:  # type: ignore[no-untyped-def]
            progress.update(task, advance=1, description=f"{o.series_id}: {o.status}")
            progress.console.print(
                f"{o.series_id}: {o.status} via {o.source or '-'} +{o.added} new, {o.revised} revised {o.message}"
            )

        return work(advance)


@app.command("sources")
def list_sources(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Registered sources, the keys they need, whether those are set, and which series use them."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from series import sources

    cfg = load(config)
    users: dict[str, list[str]] = {}
    for spec in cfg.series_specs():
        for i, ref in enumerate(spec.refs()):
            users.setdefault(ref.source, []).append(spec.id + ("" if i == 0 else " (fallback)"))
    env = dict(os.environ)
    table = Table(title="sources", title_justify="left")
    for col in ("source", "what", "needs", "status", "used by"):
        table.add_column(col)
    for name in sources.names():
        src = sources.get(name)
        missing = src.missing_keys(env)
        status = f"missing {', '.join(missing)}" if missing else ("ready" if src.env_keys else "ready (keyless)")
        if src.status_note():
            status += f"; {src.status_note()}"
        cells = (name, src.description, ", ".join(src.env_keys) or "-", status, ", ".join(users.get(name, [])))
        table.add_row(*map(escape, cells))
    Console(width=200).print(table)
