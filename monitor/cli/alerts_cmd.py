"""`monitor alerts test | explain | backtest`: tools for tuning rules."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.app import app
from monitor.cli.common import DEFAULT_CONFIG, AsOfOpt, ConfigOpt, known_date, load, parse_date
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

    from monitor.alerts.backtest import RuleReport
    from monitor.alerts.rules import RuleBase
    from monitor.config import Config
    from series.store import Store

alerts_app = typer.Typer(help="Test, explain and backtest alert rules.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

ResultsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--results",
        help="MODEL=FILE.csv: rolling spillover results of a model (date index; TCI, NET_<var> ... columns), "
        "for spillover rules, instead of the ones the last `monitor run` stored. Repeatable.",
    ),
]


def _rule(cfg: Config, name: str) -> RuleBase:
    import difflib

    rules = {r.name: r for r in cfg.rules}
    if name not in rules:
        close = difflib.get_close_matches(name, list(rules), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(rules) or 'none'}"
        raise MonitorError(f"unknown rule {name!r}{hint}")
    return rules[name]


def _stored_results(store: Store, as_of: date) -> dict[str, pd.DataFrame]:
    """The rolling results of each model as the last run on or before `as_of` stored them."""
    from monitor.models.results import load_results
    from monitor.pipeline import rolling_results

    return rolling_results(load_results(store, as_of))


def _results(cfg: Config, specs: list[str] | None) -> dict[str, pd.DataFrame]:
    import pandas as pd

    from series.sources.base import exact_floats

    out: dict[str, pd.DataFrame] = {}
    models = set(cfg.model_names())
    for spec in specs or []:
        model, sep, path = spec.partition("=")
        if not sep or not path:
            raise MonitorError(f"--results: {spec!r} must be MODEL=FILE.csv")
        if model not in models:
            raise MonitorError(f"--results: unknown model {model!r}; known: {', '.join(sorted(models))}")
        try:
            frame = pd.read_csv(path, index_col=0, parse_dates=[0], **exact_floats())
        except (OSError, ValueError) as e:
            raise MonitorError(f"--results: cannot read {path}: {e}") from None
        out[model] = frame.sort_index()
    return out


# ------------------------------------------------------------------------------------------------------------
@alerts_app.command("test")
def test(
    files: Annotated[list[Path], typer.Argument(help="Rule test files (TOML): inputs, rules, expected alerts.")],
) -> None:
    """Run rule unit tests (promtool style): exit 1 on a mismatch, with a readable diff."""
    from monitor.rule_tests import run_file
    from reports.mail import subject_line

    failed = 0
    for path in files:
        outcome = run_file(path, subject_line)
        if outcome.ok:
            typer.echo(f"PASS {path} ({outcome.checks} expectations over {outcome.evaluations} evaluations)")
            continue
        failed += 1
        typer.echo(f"FAIL {path} ({len(outcome.failures)} of {outcome.checks} expectations differ)")
        for failure in outcome.failures:
            typer.echo("  " + failure.replace("\n", "\n  "))
    if failed:
        typer.echo(f"{failed} of {len(files)} rule test files failed", err=True)
        raise typer.Exit(1)


# ------------------------------------------------------------------------------------------------------------
@alerts_app.command("explain")
def explain(
    rule_name: Annotated[str, typer.Argument(metavar="RULE", help="Rule name from config.toml.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = None,
    results: ResultsOpt = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Observations to show.")] = 10,
) -> None:
    """A rule's inputs, computed statistic, threshold and state as of a date."""
    from dataclasses import replace

    from monitor.alerts import engine, state, wording
    from monitor.alerts.data import fmt_number, load_rule_data
    from series import numbers
    from series.store import Store

    cfg = load(config)
    rule = _rule(cfg, rule_name)
    when = known_date(cfg, parse_date(as_of))
    infos = cfg.series_infos()
    given = _results(cfg, results)
    with Store.open(cfg.store_path()) as store:
        data = load_rule_data(store, infos.values(), when, results={**_stored_results(store, when), **given})
        saved = state.load_states(store, before=when)
    spec = rule.model_dump(by_alias=True, exclude={"name", "labels", "annotations"}, exclude_defaults=True)
    typer.echo(f"rule {rule.name} ({rule.severity}): " + ", ".join(f"{k}={v!r}" for k, v in spec.items()))
    typer.echo(f"as of {when}")
    inputs = sorted({s for ev in rule.evaluate(data) for s in ev.inputs} | set(rule.series_ids()))
    for sid in inputs:
        s = data.series.get(sid)
        prov = data.provenance.get(sid)
        health = data.health.get(sid)
        if s is None or s.empty:
            typer.echo(f"  input {sid}: no observations known on {when}")
            continue
        status = "ok" if health is None or health.healthy else wording.health_problem(health)
        typer.echo(
            f"  input {sid}: {len(s)} observations to {s.index[-1].date()}, "
            f"last {numbers.with_units(float(s.iloc[-1]), data.info_of(sid).units)} "
            f"[{status}]" + (f"; {prov.text()}" if prov else "")
        )
    for ev in rule.evaluate(data):
        frame = ev.frame[ev.frame.index <= str(when)]
        label = ev.labels.get("series")
        typer.echo(f"instance {ev.fingerprint}" + (f" (series={label})" if label else "") + ":")
        if frame.empty:
            typer.echo("  no observations yet")
        for day, row in frame.tail(rows).iterrows():
            extra = "".join(
                f"  {k}={fmt_number(float(v)) if isinstance(v, (int, float)) else v}"
                for k, v in row.items()
                if k not in ("value", "threshold", "condition")
            )
            typer.echo(
                f"  {day.date()}  value={fmt_number(float(row['value']))}  threshold="
                f"{fmt_number(float(row['threshold']))}  condition={'yes' if row['condition'] else 'no'}{extra}"
            )
        old = saved.get(ev.fingerprint)
        stepped = engine.advance([ev], {ev.fingerprint: old} if old else {}, replace(data))
        now = stepped.states[ev.fingerprint]
        if old:
            typer.echo(
                f"  stored state: {old.state} (last observation {old.last_obs}, episode from {old.active_since})"
            )
        else:
            typer.echo(f"  stored state: none (the rule has not run on this store before {when})")
        since = now.firing_since if now.state == engine.FIRING else now.active_since or now.resolved_at
        typer.echo(
            f"  state as of {when}: {now.state}"
            + (f" since {since}" if since else "")
            + f" (for={rule.for_}, keep_firing_for={rule.keep_firing_for})"
        )
        for alert in stepped.alerts:
            typer.echo(f"  summary: {alert.headline}")


# ------------------------------------------------------------------------------------------------------------
@alerts_app.command("backtest")
def backtest(
    config: ConfigOpt = DEFAULT_CONFIG,
    rule_names: Annotated[
        list[str] | None, typer.Option("--rule", help="Rule name (repeatable; default: every rule).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD) to report.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD); default today.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    results: ResultsOpt = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="Sessions after a signal to score.")] = 20,
    stress_drawdown: Annotated[
        float,
        typer.Option("--stress-drawdown", min=0, help="KOSPI drawdown (%) over the horizon that counts as stress."),
    ] = 10.0,
    stress_krw: Annotated[
        float, typer.Option("--stress-krw", min=0, help="KRW/USD rise (%) over the horizon that counts as stress.")
    ] = 5.0,
    market: Annotated[str, typer.Option("--market", help="Equity index series for drawdowns.")] = "kospi",
    fx: Annotated[str, typer.Option("--fx", help="FX series for the KRW move.")] = "krw_usd",
) -> None:
    """Replay rules over the stored history, point in time: episodes, what followed, noise-to-signal. Rules that
    cannot be evaluated are listed with the reason; exit 1 when none could be."""
    import pandas as pd

    from monitor.alerts.backtest import Outcomes, stored_vintages
    from monitor.alerts.backtest import backtest as run_backtest
    from monitor.alerts.rules import DataHealthRule
    from series.store import Store

    cfg = load(config)
    chosen = [_rule(cfg, n) for n in rule_names] if rule_names else list(cfg.rules)
    if not chosen:
        raise MonitorError("no rules to backtest: add [[rules]] to the config")
    first = parse_date(start, "--from") if start else None
    last = parse_date(end, "--to")
    if first and first > last:
        raise MonitorError(f"--from {first} is after --to {last}")
    infos = cfg.series_infos()
    given = _results(cfg, results)
    needed: set[str] = {market, fx} & set(infos)
    for r in chosen:
        needed |= set(infos) if isinstance(r, DataHealthRule) and "*" in r.series else set(r.series_ids())
    with Store.open(cfg.store_path()) as store:
        vintages = stored_vintages(store, sorted(needed), infos)
        kospi = store.latest(market) if market in infos else pd.Series(dtype="float64")
        krw = store.latest(fx) if fx in infos else pd.Series(dtype="float64")
        rolling = {**_stored_results(store, last), **given}
    outcomes = Outcomes(kospi, krw, horizon, stress_drawdown, stress_krw)
    reports = run_backtest(chosen, vintages, infos, rolling, outcomes, start=first, end=last)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports], indent=1))
    else:
        _print_backtest(reports, horizon, stress_drawdown, stress_krw)
    if not any(r.evaluated and r.days for r in reports):
        typer.echo("no rule could be evaluated on the stored history: see the reasons above", err=True)
        raise typer.Exit(1)


def _print_backtest(reports: list[RuleReport], horizon: int, stress_drawdown: float, stress_krw: float) -> None:
    from monitor.alerts.engine import DATA_HEALTH

    typer.echo(
        f"stress = KOSPI drawdown >= {stress_drawdown:g}% or KRW/USD up >= {stress_krw:g}% within {horizon} sessions"
    )
    health: dict[str, list[RuleReport]] = {}
    for r in reports:
        if r.kind == DATA_HEALTH:
            health.setdefault(r.rule, []).append(r)
        else:
            _print_rule(r)
    for name, parts in health.items():
        _print_health(name, parts)


def _print_rule(r: RuleReport) -> None:
    from monitor.alerts.data import fmt_number

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:+.1f}%"

    series = r.labels.get("series")
    d = r.as_dict()
    typer.echo("")
    if not r.evaluated:
        hint = "; pass --results MODEL=FILE.csv" if "rolling results" in r.note else ""
        typer.echo(f"{r.rule}: {r.note}{hint}")
        return
    typer.echo(
        f"{r.rule}{'{series=' + series + '}' if series else ''}: {len(r.signals)} episodes, firing on "
        f"{r.firing_days} of {r.days} business days"
        + (f" ({d['firing_share']:.1%})" if d["firing_share"] is not None else "")
        + f"; noise-to-signal {fmt_number(r.nsr) if r.nsr is not None else 'n/a'}"
        + (
            f"; stress followed {r.stress_share_after_signal:.0%} of firing days (base rate {r.stress_base_rate:.0%})"
            if r.stress_share_after_signal is not None and r.stress_base_rate is not None
            else ""
        )
    )
    if r.note:
        typer.echo(f"  note: {r.note}")
    if r.realised_below is not None:
        typer.echo(
            f"  realised below the forecast: {r.realised_below:.1%} of {r.realised_count} realised forecasts "
            "(the 5th percentile: near 5% when calibrated)"
        )
    if r.signals:
        typer.echo(
            f"  {'start':10}  {'known':10}  {'end':10}  {'peak':>10}  {'peak day':10}  {'KOSPI dd':>9}  {'KRW move':>9}"
        )
    for s in r.signals:
        e = s.episode
        typer.echo(
            f"  {e.start}  {s.known}  {e.end or 'ongoing'!s:10}  {fmt_number(e.peak):>10}  {e.peak_date}  "
            f"{pct(s.kospi_drawdown):>9}  {pct(s.krw_move):>9}"
        )


def _print_health(name: str, parts: list[RuleReport]) -> None:
    """A data-health rule in one table, a row per series: how often it was stale, how old it got, and whether
    it is stale at the end of the window (its episodes are the stale spells: many, and of no market interest)."""
    scored = [r for r in parts if r.evaluated and r.labels.get("series")]
    typer.echo("")
    typer.echo(f"{name} (data health): {len(scored)} series with stored history")
    if scored:
        typer.echo(f"  {'series':20}  {'stale on (business days)':>28}  {'spells':>6}  {'oldest':>9}  now")
    for r in scored:
        share = f"{r.firing_days:,} of {r.days:,} ({r.firing_days / r.days:.0%})" if r.days else "n/a"
        ages = [s.episode.peak for s in r.signals if not math.isnan(s.episode.peak)]
        oldest = f"{max(ages):,.0f} days" if ages else "-"
        last = r.signals[-1].episode if r.signals else None
        now = f"stale since {last.start}" if last is not None and last.end is None else "fresh"
        typer.echo(f"  {r.labels['series']:20}  {share:>28}  {len(r.signals):>6}  {oldest:>9}  {now}")
    for r in parts:
        if r.note and not r.labels.get("series"):
            typer.echo(f"  {r.note}")
