"""`monitor alerts test`: rule unit tests in the style of `promtool test rules`: inputs, rules, expected alerts.

A test file (TOML):

    description = "SYNTHETIC: KRW/USD level rule"
    repeat_interval_days = 0                 # of the implicit receiver that takes every severity

    [series.krw_usd]                          # an input series
    label = "KRW per USD"
    freq = "B"                                # B: weekdays, D: every day, M: month starts; or calendar = "XKRX"
    start = "2026-01-05"
    values = "1400 1460x3 1440 _ 1470"        # or an array; VxN = V N times; A+BxN = A, A+B, ... (N values);
                                              # _ = no observation that day (a holiday: not counted)
    stale_after_days = 5
    down_from = "2026-01-20"                  # the source fails from this day: no new values, status failed

    [results.market_daily]                    # rolling spillover results of a model
    variables = ["krw_usd", "kospi"]
    freq = "B"
    start = "2025-01-01"
    TCI = "10+0.1x300"
    NET_krw_usd = [...]

    [[rules]]                                 # exactly as in config.toml
    ...
    [[silences]]                              # optional, as in config.toml

    [[expect]]
    at = "2026-01-08"
    firing = ["krw_usd_warning"]              # each key given is compared as a set; leave a key out to skip it
    pending = []
    resolved = []                             # resolved on this evaluation
    inhibited = []
    silenced = []
    notified = ["krw_usd_warning:firing"]     # what the receiver's message that day reports
    subject = "[KR monitor] 1 firing: KRW/USD 1,460 >= 1,450"   # "" = no message that day
    summaries = { krw_usd_warning = "KRW/USD 1,460 >= 1,450" }

The runner replays the file day by day through the real engine (a throwaway store: state, dedup log, outbox),
one evaluation per date on which any input has an observation or an expectation is set.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.alerts import engine
from monitor.alerts.data import Provenance, RuleData, SeriesHealth, SeriesInfo, health_of
from monitor.alerts.engine import Alert
from monitor.alerts.run import run_rules
from monitor.config import SilenceBlock, describe_error, rule_references, validate_rules
from monitor.errors import MonitorError
from monitor.notify.dispatch import queue
from monitor.notify.file import FileReceiver
from monitor.notify.message import NoticeItem, Notification
from series.store import Store

_TOKEN = re.compile(r"^(?P<a>[-+]?[0-9.eE]+|nan)(?:(?P<b>[-+][0-9.eE]+)?x(?P<n>[0-9]+))?$")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSeries(_Block):
    label: str = ""
    units: str = ""
    freq: Literal["D", "B", "W", "M", "Q"] = "B"
    calendar: Literal["XKRX", "XNYS", "XTKS"] | None = None
    start: date | None = None
    dates: list[date] | None = None
    values: str | list[float]
    stale_after_days: int = Field(5, gt=0)
    down_from: date | None = None


class InputResults(_Block):
    model_config = ConfigDict(extra="allow", frozen=True)
    variables: list[str] = Field(min_length=1)
    freq: Literal["D", "B", "M"] = "B"
    start: date | None = None
    dates: list[date] | None = None


class Expect(_Block):
    at: date
    firing: list[str] | None = None
    pending: list[str] | None = None
    resolved: list[str] | None = None
    inhibited: list[str] | None = None
    silenced: list[str] | None = None
    notified: list[str] | None = None
    subject: str | None = None
    summaries: dict[str, str] | None = None


class TestFile(_Block):
    description: str = ""
    repeat_interval_days: int = Field(0, ge=0)
    series: dict[str, InputSeries] = Field(min_length=1)
    results: dict[str, InputResults] = {}
    rules: list[dict[str, Any]] = Field(min_length=1)
    silences: list[SilenceBlock] = []
    expect: list[Expect] = Field(min_length=1)


@dataclass(frozen=True)
class Snapshot:
    """What the engine showed on one evaluation day."""

    firing: list[str]
    pending: list[str]
    resolved: list[str]
    inhibited: list[str]
    silenced: list[str]
    notified: list[str]
    subject: str
    summaries: dict[str, str]


@dataclass
class Outcome:
    path: Path
    evaluations: int = 0
    checks: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


# ------------------------------------------------------------------------------------------------------------
def parse_values(spec: str | list[float], where: str) -> list[float | None]:
    """An array, or tokens: V, VxN (V N times), A+BxN (A, A+B, ..., N values), _ (no observation)."""
    if isinstance(spec, list):
        return [float(v) for v in spec]
    out: list[float | None] = []
    for token in spec.split():
        if token == "_":
            out.append(None)
            continue
        m = _TOKEN.match(token)
        if m is None:
            raise MonitorError(f"{where}: cannot read {token!r}; write a number, VxN, A+BxN or _")
        a = float(m["a"])
        n = int(m["n"]) if m["n"] else 1
        b = float(m["b"]) if m["b"] else 0.0
        out += [a + i * b for i in range(n)]
    return out


def _dates(
    freq: str, calendar: str | None, start: date | None, dates: list[date] | None, n: int, where: str
) -> pd.DatetimeIndex:
    if dates is not None:
        if len(dates) != n:
            raise MonitorError(f"{where}.dates: {len(dates)} dates for {n} values")
        return pd.DatetimeIndex(pd.to_datetime(dates))
    if start is None:
        raise MonitorError(f"{where}: give start (or dates)")
    if calendar:
        from series.calendars import sessions

        s = sessions(calendar)
        s = s[s >= pd.Timestamp(start)]
        if len(s) < n:
            raise MonitorError(f"{where}: the {calendar} calendar has only {len(s)} sessions from {start}")
        return pd.DatetimeIndex(s[:n])
    rule = {"B": "B", "D": "D", "W": "W-FRI", "M": "MS", "Q": "QS"}[freq]
    return pd.date_range(start, periods=n, freq=rule)


def _series(sid: str, spec: InputSeries) -> pd.Series:
    where = f"series.{sid}"
    values = parse_values(spec.values, f"{where}.values")
    index = _dates(spec.freq, spec.calendar, spec.start, spec.dates, len(values), where)
    s = pd.Series([np.nan if v is None else v for v in values], index=index, name=sid, dtype="float64")
    keep = [v is not None for v in values]
    return s[keep]


def _results(name: str, spec: InputResults) -> pd.DataFrame:
    where = f"results.{name}"
    cols = {k: v for k, v in (spec.model_extra or {}).items()}
    if not cols:
        raise MonitorError(f"{where}: give at least one column, e.g. TCI = [...]")
    parsed = {k: parse_values(v, f"{where}.{k}") for k, v in cols.items()}
    lengths = {len(v) for v in parsed.values()}
    if len(lengths) != 1:
        raise MonitorError(f"{where}: every column needs the same number of values (got {sorted(lengths)})")
    n = lengths.pop()
    index = _dates(spec.freq, None, spec.start, spec.dates, n, where)
    return pd.DataFrame({k: [np.nan if x is None else x for x in v] for k, v in parsed.items()}, index=index)


def load(path: Path) -> TestFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MonitorError(f"{path}: no such rule test file") from None
    except tomllib.TOMLDecodeError as e:
        raise MonitorError(f"{path}: not valid TOML: {e}") from None
    try:
        return TestFile.model_validate(raw)
    except ValidationError as e:
        problems = [describe_error(err, TestFile) for err in e.errors()]
        raise MonitorError(f"{path}: " + "; ".join(problems)) from None


# ------------------------------------------------------------------------------------------------------------
def run_file(path: Path, subject: Callable[[Sequence[Alert]], str]) -> Outcome:
    """Replay a test file through the engine; `subject` renders a message's subject line (reports.mail)."""
    spec = load(path)
    rules, problems = validate_rules(spec.rules)
    raw_refs = {
        "series": [{"id": sid} for sid in spec.series],
        "models": [{"name": m, "variables": [{"series": v} for v in r.variables]} for m, r in spec.results.items()],
        "rules": spec.rules,
    }
    problems += rule_references(raw_refs)
    if problems:
        raise MonitorError(f"{path}: " + "; ".join(problems))
    series = {sid: _series(sid, s) for sid, s in spec.series.items()}
    results = {m: _results(m, r) for m, r in spec.results.items()}
    infos = {
        sid: SeriesInfo(sid, s.label, s.units, s.freq, s.stale_after_days, "synthetic")
        for sid, s in spec.series.items()
    }
    days = sorted(
        set().union(*(set(s.index) for s in series.values()), *(set(r.index) for r in results.values()))
        | {pd.Timestamp(e.at) for e in spec.expect}
    )
    receiver = FileReceiver(
        name="test",
        severities=["info", "warning", "critical"],
        repeat_interval_days=spec.repeat_interval_days,
    )

    outcome = Outcome(path)
    expectations = {pd.Timestamp(e.at): e for e in spec.expect}
    with (
        tempfile.TemporaryDirectory(prefix="alerts-test-") as tmp,
        Store.open(Path(tmp) / "t.sqlite", writer="alerts test") as store,
    ):
        for day in days:
            data = _data_on(day, series, results, infos, spec.series)
            result = run_rules(store, rules, spec.silences, data)
            if result.errors:
                raise MonitorError(f"{path}: " + "; ".join(f"rule {k}: {v}" for k, v in result.errors.items()))
            alerts = result.alerts
            groups = engine.group(alerts, [receiver])
            sent = queue(store, [receiver], groups, _subject_only(subject, data.as_of), data.as_of)
            outcome.evaluations += 1
            expect = expectations.get(day)
            if expect is None:
                continue
            notified = engine.order(sent.notified.get("test", []))
            snap = _snapshot(alerts, notified, subject(notified) if notified else "", day.date())
            outcome.checks += 1
            outcome.failures += _compare(expect, snap)
    return outcome


def _subject_only(
    subject: Callable[[Sequence[Alert]], str], as_of: date
) -> Callable[[str, Sequence[Alert]], Notification]:
    """A renderer that keeps what the test compares (subject, alert states) and skips HTML and charts."""

    def render(receiver: str, alerts: Sequence[Alert]) -> Notification:
        line = subject(alerts)
        items = tuple(NoticeItem(a.fingerprint, a.episode, a.state) for a in alerts)
        return Notification(receiver, as_of, line, line, "", (), items)

    return render


def _data_on(
    day: pd.Timestamp,
    series: dict[str, pd.Series],
    results: dict[str, pd.DataFrame],
    infos: dict[str, SeriesInfo],
    specs: dict[str, InputSeries],
) -> RuleData:
    visible: dict[str, pd.Series] = {}
    health: dict[str, SeriesHealth] = {}
    provenance: dict[str, Provenance] = {}
    for sid, s in series.items():
        down = specs[sid].down_from is not None and day >= pd.Timestamp(specs[sid].down_from)  # type: ignore[arg-type]
        cutoff = pd.Timestamp(specs[sid].down_from) - pd.Timedelta(days=1) if down else day  # type: ignore[arg-type]
        v = s[s.index <= min(cutoff, day)]
        visible[sid] = v
        last = v.index[-1].date() if len(v) else None
        health[sid] = health_of(
            infos[sid],
            last,
            day.date(),
            status="failed" if down else "ok",
            message=f"down_from {specs[sid].down_from} in the test file" if down else "",
            source="synthetic",
        )
        if last:
            provenance[sid] = Provenance(sid, "synthetic", last, last, f"{last}T00:00:00Z")
    res = {m: r[r.index <= day] for m, r in results.items()}
    return RuleData(day.date(), visible, infos, res, health, provenance)


def _snapshot(alerts: Sequence[Alert], notified: Sequence[Alert], subject: str, day: date) -> Snapshot:
    def ids(pred: Callable[[Alert], bool]) -> list[str]:
        return sorted(a.display_id for a in alerts if pred(a))

    return Snapshot(
        firing=ids(lambda a: a.state == engine.FIRING),
        pending=ids(lambda a: a.state == engine.PENDING),
        resolved=ids(lambda a: a.state == engine.RESOLVED and a.since == day),
        inhibited=ids(lambda a: a.suppressed.startswith("inhibited")),
        silenced=ids(lambda a: a.suppressed.startswith("silenced")),
        notified=sorted(f"{a.display_id}:{a.state}" for a in notified),
        subject=subject,
        summaries={a.display_id: a.summary for a in alerts},
    )


def _compare(expect: Expect, got: Snapshot) -> list[str]:
    out: list[str] = []
    for key in ("firing", "pending", "resolved", "inhibited", "silenced", "notified"):
        want = getattr(expect, key)
        if want is None:
            continue
        have = getattr(got, key)
        if sorted(want) != have:
            missing = sorted(set(want) - set(have))
            extra = sorted(set(have) - set(want))
            lines = [f"at {expect.at}: {key}", f"    expected {sorted(want)}", f"    got      {have}"]
            if missing:
                lines.append(f"    missing  {missing}")
            if extra:
                lines.append(f"    extra    {extra}")
            out.append("\n".join(lines))
    if expect.subject is not None and expect.subject != got.subject:
        out.append(f"at {expect.at}: subject\n    expected {expect.subject!r}\n    got      {got.subject!r}")
    for alert_id, text in (expect.summaries or {}).items():
        have_text = got.summaries.get(alert_id)
        if have_text != text:
            out.append(
                f"at {expect.at}: summary of {alert_id}\n    expected {text!r}\n    got      "
                + (repr(have_text) if have_text is not None else "(no such alert)")
            )
    return out
