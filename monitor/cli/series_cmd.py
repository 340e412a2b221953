"""`monitor series list | show | export`: what the store holds, per series."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.app import app
from monitor.cli.common import DEFAULT_CONFIG, AsOfOpt, ConfigOpt, load, parse_date, today
from monitor.errors import MonitorError

series_app = typer.Typer(help="Inspect and export stored series.", no_args_is_help=True)
app.add_typer(series_app, name="series")


def _spec_or_fail(cfg, series_id: str):  # type: ignore[no-untyped-def]
    import difflib

    specs = {s.id: s for s in cfg.series_specs()}
    if series_id not in specs:
        close = difflib.get_close_matches(series_id, list(specs), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(specs)}"
        raise MonitorError(f"unknown series {series_id!r}{hint}")
    return specs[series_id]


@series_app.command("list")
def list_series(config: ConfigOpt = DEFAULT_CONFIG, as_of: AsOfOpt = None) -> None:
    """Every configured series: source, frequency, first and last date, last value, staleness."""
    from rich.console import Console
    from rich.table import Table

    from series.freshness import freshness
    from series.store import Store

    cfg = load(config)
    when = parse_date(as_of)
    path = cfg.store_path()
    summaries = {}
    if path.exists():
        with Store.open(path) as store:
            summaries = store.summaries(when)
    table = Table(title=f"series in {path}", title_justify="left")
    for col in ("id", "label", "source", "freq", "first", "last", "last value", "units", "staleness"):
        table.add_column(col, justify="right" if col == "last value" else "left", no_wrap=col != "label")
    for spec in cfg.series_specs():
        s = summaries.get(spec.id)
        if s is None or s.last is None:
            table.add_row(spec.id, spec.label, spec.source, spec.freq, "", "", "", spec.units, "no data")
            continue
        fresh = freshness(spec, s.last, when)
        age = fresh.age_days or 0
        staleness = f"stale ({age}d > {spec.stale_days}d)" if fresh.stale else f"fresh ({max(age, 0)}d)"
        table.add_row(
            spec.id,
            spec.label,
            s.source or spec.source,
            spec.freq,
            str(s.first),
            str(s.last),
            f"{s.last_value:,.2f}" if s.last_value is not None else "",
            spec.units,
            staleness,
        )
    Console(width=200).print(table)


@series_app.command("show")
def show(
    series_id: Annotated[str, typer.Argument(help="Series id from config.toml.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = None,
    vintages: Annotated[bool, typer.Option("--vintages", help="Every stored vintage, not only the latest.")] = False,
    tail: Annotated[int, typer.Option("--tail", min=0, help="Show the last N dates (0 = all).")] = 20,
) -> None:
    """The values of one series (as of a date), or every stored vintage."""
    from rich.console import Console
    from rich.table import Table

    from series.store import Store

    cfg = load(config)
    spec = _spec_or_fail(cfg, series_id)
    with Store.open(cfg.store_path()) as store:
        if vintages:
            frame = store.vintages(spec.id)
            if as_of:
                frame = frame[frame["realtime_start"] <= parse_date(as_of).isoformat()]
        else:
            values = store.as_of(spec.id, parse_date(as_of)) if as_of else store.latest(spec.id)
            frame = values.rename("value").reset_index()
    if frame.empty:
        raise MonitorError(f"no stored values for {spec.id}{' as of ' + as_of if as_of else ''}: run `monitor fetch`")
    shown = frame.tail(tail) if tail else frame
    table = Table(title=f"{spec.id}: {spec.label} ({spec.units})", title_justify="left")
    for col in shown.columns:
        table.add_column(str(col), justify="right" if col == "value" else "left")
    for row in shown.itertuples(index=False):
        table.add_row(*[v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else f"{v}" for v in row])
    Console(width=200).print(table)
    if tail and len(frame) > tail:
        typer.echo(f"({len(frame) - tail} earlier rows not shown; --tail 0 shows all)")


@series_app.command("export")
def export(
    series_id: Annotated[str, typer.Argument(help="Series id from config.toml.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    as_of: AsOfOpt = None,
    vintages: Annotated[bool, typer.Option("--vintages", help="Every stored vintage.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Export one series as CSV (date,value) or JSON."""
    from series.store import Store

    if fmt not in ("csv", "json"):
        raise MonitorError(f"--format: {fmt!r} is not one of csv, json")
    cfg = load(config)
    spec = _spec_or_fail(cfg, series_id)
    if out is not None and not out.parent.is_dir():
        raise MonitorError(f"--out: folder {out.parent} does not exist; create it or choose another path")
    with Store.open(cfg.store_path()) as store:
        if vintages:
            frame = store.vintages(spec.id)
        else:
            values = store.as_of(spec.id, parse_date(as_of)) if as_of else store.latest(spec.id)
            frame = values.rename("value").reset_index()
    for col in ("date", "realtime_start"):
        if col in frame:
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    text = frame.to_csv(index=False) if fmt == "csv" else frame.to_json(orient="records", indent=1) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text)
        except OSError as e:
            raise MonitorError(f"--out: cannot write {out}: {e.strerror or e}") from None
        typer.echo(f"wrote {len(frame)} rows of {spec.id} to {out}", err=True)


@series_app.command("info")
def info(
    series_id: Annotated[str, typer.Argument(help="Series id from config.toml.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    replay: Annotated[Path | None, typer.Option("--replay", help="Serve a recorded answer from DIR.")] = None,
) -> None:
    """What the source itself says about a series: title, units, frequency, last observation, last update.

    Worth a look before relying on a series code: a discontinued series keeps answering with old data."""
    import os

    from series import sources
    from series.http import build_transport

    cfg = load(config)
    spec = _spec_or_fail(cfg, series_id)
    env = dict(os.environ)
    transport = build_transport(
        timeout=cfg.fetch.timeout_seconds,
        retries=cfg.fetch.retries,
        endpoints=cfg.fetch.endpoints,
        limits=sources.limits(),
        max_response_mb=cfg.fetch.max_response_mb,
        replay=replay,
    )
    needs: list[str] = []
    for ref in spec.refs():
        src = sources.get(ref.source)
        if src.info_query(ref, env) is None:
            continue
        missing = src.missing_keys(env)
        if missing and replay is None:
            needs.append(f"{ref.source} needs {', '.join(missing)} for its metadata")
            continue
        # A replay sends no key; the URL only needs something in its place.
        details = src.describe(ref, spec, transport, {**env, **dict.fromkeys(missing, "REPLAY")})
        typer.echo(f"{spec.id} at {ref.source} ({ref.key}):")
        for key in (
            "title",
            "units",
            "frequency",
            "seasonal_adjustment",
            "observation_start",
            "observation_end",
            "last_updated",
        ):
            if key in details:
                typer.echo(f"  {key}: {details[key]}")
        end = details.get("observation_end")
        if end:
            age = (today(cfg.run.timezone) - date.fromisoformat(end)).days
            if age > spec.stale_days:
                typer.echo(
                    f"  note: the source's last observation is {age} days old (stale after "
                    f"{spec.stale_days}): the series may be discontinued or lagging"
                )
        return
    if needs:
        raise MonitorError(f"{spec.id}: {'; '.join(needs)} (set it in the environment)")
    raise MonitorError(
        f"none of the sources of {spec.id} ({', '.join(r.source for r in spec.refs())}) publishes series metadata"
    )
