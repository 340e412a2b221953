"""`monitor run`, `monitor backfill`, `monitor report` and `monitor schedule`: the daily job and its helpers."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.app import app
from monitor.cli.common import (
    DEFAULT_CONFIG,
    AsOfOpt,
    ConfigOpt,
    Interrupted,
    known_date,
    load,
    parse_date,
    stop_on_signals,
    today,
)
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.pipeline import RunOutcome, RunRequest
    from reports.drawing import Painters

LogFormatOpt = Annotated[
    str, typer.Option("--log-format", help="human (a terminal), json (one object per line) or auto.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="Chart formats, comma-separated: png,svg,pdf.")]
ReplayOpt = Annotated[Path | None, typer.Option("--replay", help="Serve recorded responses from DIR (offline).")]


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise MonitorError(f"--format: {', '.join(bad) or text!r} is not one of png, svg, pdf")
    return formats


def _log(fmt: str, config):  # type: ignore[no-untyped-def]
    from monitor.config import secret_values
    from monitor.logs import setup

    if fmt not in ("human", "json", "auto"):
        raise MonitorError(f"--log-format: {fmt!r} is not one of human, json, auto")
    return setup(fmt, secret_values(config))


def _replay_dir(replay: Path | None) -> Path | None:
    if replay is not None and not replay.is_dir():
        raise MonitorError(f"--replay: {replay} is not a directory of recorded responses")
    return replay


@app.command("run")
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = None,
    replay: ReplayOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the e-mails as files, send and store nothing.")
    ] = False,
    catch_up: Annotated[bool, typer.Option("--catch-up/--no-catch-up", help="Evaluate missed KRX sessions.")] = True,
    fmt: FormatOpt = "png,svg,pdf",
    log_format: LogFormatOpt = "auto",
) -> None:
    """The daily job: fetch, validate, store, model, evaluate rules, e-mail, export (exit 0 ok, 1 with errors)."""
    from monitor.pipeline import RunRequest, ping
    from series import calendars

    cfg = load(config)
    formats = _formats(fmt)
    log = _log(log_format, cfg)
    now = today(cfg.run.timezone)
    when = known_date(cfg, parse_date(as_of, default=now))
    request = RunRequest(
        as_of=when, today=now, replay=_replay_dir(replay), dry_run=dry_run, catch_up=catch_up, formats=formats
    )
    if as_of is None and not calendars.is_session(cfg.run.calendar, now):
        # Scheduled on weekdays; a KRX holiday is a successful day with nothing to do.
        log.info("%s is not a %s session: nothing to do", now, cfg.run.calendar)
        if cfg.run.heartbeat_url:
            ping(cfg.run.heartbeat_url, log)
        return
    env = dict(os.environ)
    if replay is None:
        from series.fetch import keys_note

        note = keys_note(cfg.series_specs(), env)
        if note:
            log.info(note)  # first, in one line: what a key would add
    outcome = _run_daily(cfg, request, env, log)
    if outcome.exit_code == 0 and cfg.run.heartbeat_url and not dry_run:
        ping(cfg.run.heartbeat_url, log)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


@app.command("backfill")
def backfill(
    start: Annotated[str, typer.Option("--from", help="First date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last date (YYYY-MM-DD).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    replay: ReplayOpt = None,
    log_format: LogFormatOpt = "auto",
) -> None:
    """Run every KRX session in a range as of its own date (models, rules, exports); sends no e-mail."""
    from monitor.pipeline import RunRequest, painters_for
    from series import calendars

    cfg = load(config)
    first, last = (
        known_date(cfg, parse_date(start, "--from"), "--from"),
        known_date(cfg, parse_date(end, "--to"), "--to"),
    )
    if first > last:
        raise MonitorError(f"--from {first} is after --to {last}")
    days = [d.date() for d in calendars.sessions_between(cfg.run.calendar, first, last)]
    if not days:
        raise MonitorError(f"no {cfg.run.calendar} session between {first} and {last}")
    log = _log(log_format, cfg)
    now = today(cfg.run.timezone)
    worst = 0
    with painters_for(cfg) as painters:  # one pool of chart-drawing processes for every date
        for day in days:
            request = RunRequest(
                as_of=day, today=now, replay=_replay_dir(replay), catch_up=False, notify=False, kind="backfill"
            )
            worst = max(worst, _run_daily(cfg, request, dict(os.environ), log, painters).exit_code)
    log.info("backfilled %d sessions from %s to %s", len(days), days[0], days[-1])
    if worst:
        raise typer.Exit(worst)


def _run_daily(
    cfg: Config, request: RunRequest, env: dict[str, str], log: logging.Logger, painters: Painters | None = None
) -> RunOutcome:
    """One run, stopped cleanly by SIGTERM or SIGINT: the pipeline records the run as interrupted and releases
    the lock on the way out; here the stop is logged and said in one line, with exit 128 + the signal."""
    from monitor.logs import event
    from monitor.pipeline import run_daily

    started: list[int] = []
    try:
        with stop_on_signals():
            return run_daily(cfg, request, env, log, started=started.append, painters=painters)
    except Interrupted as e:
        which = f"run {started[0]} as of {request.as_of}" if started else f"run as of {request.as_of} (not begun)"
        message = (
            f"{which} stopped by {e.signal}: "
            + ("recorded as interrupted; " if started else "")
            + "nothing half-stored, mail not yet delivered stays in the outbox; the next run goes on from here"
        )
        # The log has the event, the one error line says the rest (a terminal shows both: no sentence twice).
        event(log, "run.interrupted", f"{which} stopped by {e.signal}", level=logging.WARNING, signal=e.signal)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(e.exit_code) from None


@app.command("report")
def report(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "png,svg,pdf",
) -> None:
    """Render charts, tables and report.html from the store as of a date, without fetching."""
    from monitor.pipeline import report_only

    cfg = load(config)
    when = known_date(cfg, parse_date(as_of, default=today(cfg.run.timezone)))
    result = report_only(cfg, when, _formats(fmt))
    typer.echo(
        f"wrote {result.report} and {len(result.charts)} charts"
        + (f" ({len(result.skipped)} not drawn: {', '.join(sorted(result.skipped))})" if result.skipped else "")
    )
    for problem in result.problems:
        typer.echo(f"error: {problem}", err=True)
    if result.problems:
        raise typer.Exit(1)


@app.command("schedule")
def schedule(
    config: ConfigOpt = DEFAULT_CONFIG,
    cron: Annotated[bool, typer.Option("--cron", help="Print a crontab line.")] = False,
    systemd: Annotated[bool, typer.Option("--systemd", help="Print a systemd service and timer.")] = False,
) -> None:
    """Print a crontab line or a systemd service + timer that run `monitor run` at 07:30 Seoul on weekdays."""
    from zoneinfo import ZoneInfo

    from monitor.schedule import Job
    from monitor.schedule import cron as cron_text
    from monitor.schedule import systemd as systemd_units

    if cron == systemd:
        raise MonitorError("choose one of --cron or --systemd")
    cfg = load(config)
    executable = (
        Path(sys.argv[0]).resolve()
        if Path(sys.argv[0]).name == "monitor"
        else Path(sys.executable).with_name("monitor")
    )
    job = Job(
        executable=executable,
        config=config.resolve(),
        workdir=config.resolve().parent,
        log=cfg.store_path().with_name("monitor.log"),
    )
    if cron:
        typer.echo(cron_text(job, _local_zone(ZoneInfo)), nl=False)
        return
    service, timer = systemd_units(job)
    typer.echo(
        "# /etc/systemd/system/kr-monitor.service\n" + service + "\n# /etc/systemd/system/kr-monitor.timer\n" + timer,
        nl=False,
    )


def _local_zone(zone_info):  # type: ignore[no-untyped-def]
    """The machine's time zone (TZ, then /etc/localtime), UTC if it cannot be told."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        link = Path("/etc/localtime")
        name = (
            str(link.resolve()).split("zoneinfo/", 1)[1]
            if link.is_symlink() and "zoneinfo/" in str(link.resolve())
            else "UTC"
        )
    try:
        return zone_info(name)
    except Exception:
        return zone_info("UTC")
