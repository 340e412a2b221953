"""Rule kinds: small validated config blocks (`[[rules]]` in config.toml), each evaluated vectorised over history.

A rule turns its inputs into one DataFrame per alert instance, indexed by observation date, with columns
    value      the statistic on that date
    threshold  what the statistic is compared with on that date
    condition  True where the rule's condition holds
(plus kind-specific extras). Each row uses only observations dated on or before its date: trailing statistics
exclude the current observation, expanding percentiles use only the past, series are joined by carrying the last
known value forward while it is fresh (series.freshness: never past the series' stale limit). The daily engine,
`monitor alerts backtest` and the report's shaded firing periods all read these frames, so a rule has exactly one
definition of when it holds.

Observations are counted on each input series' own dates (its exchange calendar): "k sessions", streaks, `for`
and `keep_firing_for` skip a Korean holiday because the series has no row then.

Kinds (the `kind` key; the README's rule reference lists every key):
    level                 value op threshold
    change                change over `periods` observations, abs or pct, op threshold
    zscore                z-score (standard or robust: median/MAD) over a trailing window that excludes today
    percentile            value op its expanding q-th percentile of all earlier observations
    streak                `n` consecutive observations with value op threshold
    hysteresis            episode: enter at `enter`, leave beyond `exit`
    emp                   exchange-market-pressure index, z-scored, with hysteresis (formula in EmpRule)
    spread                series minus another series, op threshold
    divergence            one series hiking while another cuts, both within `within_months`
    reconcile             two sources of the same quantity more than `threshold` % apart on the same date
    spillover_percentile  a spillover measure (TCI, cTCI, TO/FROM/NET of a variable) op its expanding percentile
    spillover_sign        NET of a variable changing sign
    spillover_pairwise    net pairwise transmission from one variable to another op a level for `n` observations
    data_health           a series stale, missing, or its source down
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.alerts import stats, wording
from monitor.alerts.data import RuleData, SeriesInfo, fingerprint, fmt_number, health_of
from monitor.errors import InputDataError
from series.freshness import carry_forward, expiries

SLUG = r"^[a-z][a-z0-9_]*$"
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
RESERVED_LABELS = ("rule", "severity", "series")
# Fields every summary template may use; kinds add their own (`extras`) and the rule's labels are available too.
TEMPLATE_FIELDS = ("value", "threshold", "date", "rule", "severity", "label", "units", "series")
_TEXT_FIELDS = ("date", "rule", "severity", "label", "units", "series", "problem")


@dataclass(frozen=True)
class Evaluation:
    """One alert instance of a rule: its point-in-time frame (value, threshold, condition, extras)."""

    rule: RuleBase
    frame: pd.DataFrame
    instance: Mapping[str, str] = field(default_factory=dict)  # labels that tell instances apart (series)
    inputs: tuple[str, ...] = ()  # the series the instance read: a stale one inhibits it

    @property
    def labels(self) -> dict[str, str]:
        return {**self.rule.labels, "rule": self.rule.name, "severity": self.rule.severity, **self.instance}

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)


def _ordinal(q: float) -> str:
    n = int(q) if float(q).is_integer() else q
    if not isinstance(n, int):
        return f"{n}th"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _frame(value: pd.Series, threshold: pd.Series | float, condition: pd.Series, **extras: Any) -> pd.DataFrame:
    index = value.index
    thr = threshold.reindex(index) if isinstance(threshold, pd.Series) else pd.Series(float(threshold), index=index)
    out = pd.DataFrame(
        {"value": value.astype("float64"), "threshold": thr.astype("float64"), "condition": condition.astype(bool)},
        index=index,
    )
    for name, col in extras.items():
        out[name] = col
    out.index.name = "date"
    return out


class RuleBase(BaseModel):
    """Keys every rule has."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True)

    name: str = Field(pattern=SLUG)
    severity: Severity = "warning"
    # Observations the condition must hold before the alert fires: it fires on the (for + 1)-th in a row.
    for_: int = Field(0, ge=0, le=10_000, alias="for")
    # Observations an alert keeps firing after its condition stops holding (against flapping).
    keep_firing_for: int = Field(0, ge=0, le=10_000)
    label: str = ""  # what a person calls the measured thing ("KRW/USD"): the `label` field of messages
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}  # templates: summary, description, runbook ...

    extras: ClassVar[tuple[str, ...]] = ()

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if key in RESERVED_LABELS:
                raise ValueError(f"label {key!r} is set by the monitor; choose another name")
            if not re.match(SLUG, key):
                raise ValueError(f"label name {key!r} must be lowercase letters, digits and underscores")
        return v

    # -- what the rule reads -------------------------------------------------------------------------------
    def series_ids(self) -> tuple[str, ...]:
        return ()

    def model_names(self) -> tuple[str, ...]:
        return ()

    # -- evaluation -----------------------------------------------------------------------------------------
    def evaluate(self, data: RuleData) -> list[Evaluation]:
        return [Evaluation(self, self.frame(data), {}, self.series_ids())]

    def frame(self, data: RuleData) -> pd.DataFrame:
        raise NotImplementedError

    # -- words -----------------------------------------------------------------------------------------------
    def display(self, data: RuleData) -> str:
        return self.label or self.subject(data)

    def peak_sign(self) -> int:
        """+1 when larger values are worse (the peak of an episode is its maximum), -1 when smaller are."""
        op = getattr(self, "op", ">=")
        return -1 if op in ("<", "<=") or getattr(self, "direction", "") == "below" else 1

    def subject(self, data: RuleData) -> str:
        """What the rule measures, in words (the `label` template field)."""
        return self.name

    # The wording of messages lives in monitor.alerts.wording; a kind only says how its value and the level it
    # is compared with read (`value_text`, `level_text`), or overrides the sentence when it is not a comparison.
    digits: ClassVar[int | None] = None  # fixed decimals for the value (z-scores); None: fmt_number

    def unit(self) -> str:
        return ""

    def value_text(self, ctx: Mapping[str, Any]) -> str:
        """The statistic of an observation, as messages show it."""
        return wording.summary_value(ctx, self.digits, self.unit())

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        """What the statistic is compared with on that observation."""
        return wording.summary_threshold(ctx, self.unit())

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        """The comparison that holds on a firing observation ('KRW/USD 1,460 >= 1,450')."""
        op = getattr(self, "op", None)
        if op is None:
            return f"{ctx['label']} {self.value_text(ctx)} vs {self.level_text(ctx)}"
        return wording.holds(ctx["label"], self.value_text(ctx), op, self.level_text(ctx))

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        """Why the condition stopped holding, from the observation where it stopped ('KRW/USD 1,430, below
        1,450'); `stopped_text` adds the date and what the statistic is now."""
        op = getattr(self, "op", None)
        if op is None:
            return f"{ctx['label']} {self.value_text(ctx)}: the condition no longer holds"
        return wording.no_longer(ctx["label"], self.value_text(ctx), op, self.level_text(ctx))

    def stopped_text(self, at_exit: Mapping[str, Any], on: date, now: Mapping[str, Any] | None) -> str:
        """The condition stopped holding on the observation dated `on` (fields `at_exit`); `now`: the latest
        observation's fields when it came later ('KRW/USD 1,430, below 1,450 on 2026-01-14; now 1,420')."""
        return wording.stopped(self.clear_reason(at_exit), on, f"now {self.value_text(now)}" if now else None)

    def template_problems(self) -> list[tuple[str, str]]:
        """(annotation key, problem) for templates that would fail when rendered."""
        allowed = set(TEMPLATE_FIELDS) | set(self.extras) | set(self.labels)
        problems = []
        for key, template in self.annotations.items():
            try:
                parsed = list(string.Formatter().parse(template))
            except ValueError as e:
                problems.append((key, f"not a valid template ({e}); write literal braces as {{{{ and }}}}"))
                continue
            for _, name, spec, conversion in parsed:
                if name is None:
                    continue
                if name not in allowed:
                    known = ", ".join(sorted(allowed))
                    problems.append((key, f"unknown field {{{name}}} in the template; use one of {known}"))
                    continue
                sample: Any = "x" if name in _TEXT_FIELDS or name in self.labels else 1234.5
                try:
                    format(sample, spec or "")
                    if conversion not in (None, "s", "r"):
                        raise ValueError(f"conversion !{conversion}")
                except ValueError as e:
                    problems.append((key, f"bad format {{{name}:{spec}}}: {e}"))
        return problems


# ------------------------------------------------------------------------------------------------------------
# Rules on one series (optionally transformed)
# ------------------------------------------------------------------------------------------------------------
class SeriesInput(RuleBase):
    series: str
    # Applied before the rule's statistic: level | diff | pct_change | log_diff | yoy | rolling_sum | rolling_mean.
    transform: stats.Transform = "level"
    periods: int = Field(1, ge=1, le=10_000)  # the lag (diff, pct_change, log_diff) or window (rolling_*)

    def series_ids(self) -> tuple[str, ...]:
        return (self.series,)

    def input(self, data: RuleData) -> pd.Series:
        freq = data.info[self.series].freq if self.series in data.info else None
        return stats.transform(_series(data, self.series, self.name), self.transform, self.periods, freq=freq)

    def subject(self, data: RuleData) -> str:
        return _describe_input(data.info_of(self.series), self.transform, self.periods)


def _series(data: RuleData, series_id: str, rule: str) -> pd.Series:
    s = data.series.get(series_id)
    if s is None:
        raise InputDataError(f"rule {rule}: no data for series {series_id!r} (is it in [[series]] and fetched?)")
    return s.dropna().sort_index()


def _legs(data: RuleData, legs: Mapping[str, str], rule: str, on: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Several series on one index (`on`, default the union of their dates), each carrying its last value forward
    only while it is fresh (series.freshness): a leg older than its series' stale limit is NaN, so the rule does
    not hold on it (a Fed range whose data ended in 2024 says nothing about 2026)."""
    series = {name: _series(data, sid, rule) for name, sid in legs.items()}
    index = _leg_dates(data, legs, series) if on is None else on
    return pd.DataFrame(
        {name: carry_forward(s, data.info_of(legs[name]), index) for name, s in series.items()}, index=index
    )


def _leg_dates(data: RuleData, legs: Mapping[str, str], series: Mapping[str, pd.Series]) -> pd.DatetimeIndex:
    """The union of the legs' dates and of the days each leg went stale (up to the as-of date)."""
    dates = [pd.DatetimeIndex(s.index) for s in series.values()]
    dates += [expiries(data.info_of(legs[name]), s.index, data.as_of) for name, s in series.items()]
    return pd.DatetimeIndex(sorted(set().union(*dates)), name="date")


def _describe_input(info: SeriesInfo, how: str, periods: int) -> str:
    if how == "level":
        return info.name
    words = {
        "diff": f"{periods}-observation change",
        "pct_change": f"{periods}-observation % change",
        "log_diff": f"{periods}-observation log change",
        "yoy": "year-on-year % change",
        "rolling_sum": f"{periods}-observation sum",
        "rolling_mean": f"{periods}-observation mean",
    }
    return f"{info.name}, {words[how]}"


class LevelRule(SeriesInput):
    kind: Literal["level"]
    op: stats.Op
    threshold: float

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.input(data)
        return _frame(x, self.threshold, stats.compare(x, self.op, self.threshold))


class ChangeRule(RuleBase):
    """Change over `periods` observations of the series' own calendar: abs (units) or pct (percent)."""

    kind: Literal["change"]
    series: str
    periods: int = Field(ge=1, le=10_000)
    mode: Literal["abs", "pct"] = "pct"
    op: stats.Op
    threshold: float

    def series_ids(self) -> tuple[str, ...]:
        return (self.series,)

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = stats.transform(
            _series(data, self.series, self.name), "pct_change" if self.mode == "pct" else "diff", self.periods
        )
        return _frame(x, self.threshold, stats.compare(x, self.op, self.threshold))

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series).name}, change over {self.periods} observations"

    def unit(self) -> str:
        return "%" if self.mode == "pct" else ""


class ZScoreRule(SeriesInput):
    """z_t = (x_t - centre) / scale over the `window` observations before t (t excluded).
    standard: mean and standard deviation; robust: median and 1.4826 * median absolute deviation."""

    kind: Literal["zscore"]
    window: int = Field(ge=5, le=10_000)
    min_periods: int | None = Field(None, ge=3)
    method: Literal["standard", "robust"] = "standard"
    two_sided: bool = False  # compare |z| with the threshold
    op: stats.Op = ">="
    threshold: float
    extras: ClassVar[tuple[str, ...]] = ("input",)
    digits: ClassVar[int | None] = 2

    @model_validator(mode="after")
    def _periods(self) -> ZScoreRule:
        if self.min_periods is not None and self.min_periods > self.window:
            raise ValueError(f"min_periods ({self.min_periods}) must not exceed window ({self.window})")
        return self

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.input(data)
        mp = self.min_periods or self.window
        fn = stats.trailing_robust_zscore if self.method == "robust" else stats.trailing_zscore
        z = fn(x, self.window, mp)
        value = z.abs() if self.two_sided else z
        return _frame(value, self.threshold, stats.compare(value, self.op, self.threshold), input=x)

    def subject(self, data: RuleData) -> str:
        kind = "robust z-score" if self.method == "robust" else "z-score"
        return f"{super().subject(data)}, {kind} ({self.window} obs)"


class PercentileRule(SeriesInput):
    """value op its expanding q-th percentile over every earlier observation (point in time: no future data)."""

    kind: Literal["percentile"]
    q: float = Field(gt=0, lt=100)
    op: stats.Op
    min_periods: int = Field(250, ge=1)  # earlier observations needed before the percentile counts

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.input(data)
        thr = stats.expanding_quantile(x, self.q / 100.0, self.min_periods)
        return _frame(x, thr, stats.compare(x, self.op, thr))

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return f"its expanding {_ordinal(self.q)} percentile {fmt_number(ctx['threshold'])}"


class StreakRule(SeriesInput):
    """`n` consecutive observations (on the series' own calendar) with input op level.
    value = the current run length; threshold = n; extras: input (today's value), level."""

    kind: Literal["streak"]
    op: stats.Op
    level: float = Field(alias="threshold")
    n: int = Field(ge=1, le=10_000)
    extras: ClassVar[tuple[str, ...]] = ("input", "level")

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.input(data)
        run = stats.run_length(stats.compare(x, self.op, self.level)).astype("float64")
        return _frame(run, float(self.n), run >= self.n, input=x, level=self.level)

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return (
            f"{ctx['label']} {self.op} {fmt_number(self.level)} for {int(ctx['value'])} observations running "
            f"(fires at {self.n})"
        )

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return f"run of {ctx['label']} {self.op} {fmt_number(self.level)} broke"

    def stopped_text(self, at_exit: Mapping[str, Any], on: date, now: Mapping[str, Any] | None) -> str:
        # The value is the run's length: say the current one, which a broken run restarts from 0.
        current = int((now or at_exit)["value"])
        return wording.stopped(self.clear_reason(at_exit), on, f"current run {current} (fires at {self.n})")

    def peak_sign(self) -> int:
        return 1  # the value is the run's length: an episode's peak is its longest run, whatever `op` compares


class HysteresisRule(SeriesInput):
    """Episode: above: enter when value >= enter, leave when value < exit (exit <= enter);
    below: enter when value <= enter, leave when value > exit (exit >= enter).
    threshold = the level that would change the state on that date."""

    kind: Literal["hysteresis"]
    direction: Literal["above", "below"] = "above"
    enter: float
    exit: float

    @model_validator(mode="after")
    def _levels(self) -> HysteresisRule:
        _check_hysteresis(self.direction, self.enter, self.exit)
        return self

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.input(data)
        return _hysteresis_frame(x, self.enter, self.exit, self.direction)

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return _episode_summary(ctx["label"], self.value_text(ctx), self.direction, self.enter, self.exit)

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return wording.exited(ctx["label"], self.value_text(ctx), self.direction, fmt_number(self.exit))


def _episode_summary(label: str, value: str, direction: str, enter: float, exit: float) -> str:
    into, leave = (">=", "<") if direction == "above" else ("<=", ">")
    return f"{label} {value} (episode from {into} {fmt_number(enter)}, ends {leave} {fmt_number(exit)})"


def _check_hysteresis(direction: str, enter: float, exit: float) -> None:
    if direction == "above" and exit > enter:
        raise ValueError(f"direction above needs exit <= enter (got enter {enter}, exit {exit})")
    if direction == "below" and exit < enter:
        raise ValueError(f"direction below needs exit >= enter (got enter {enter}, exit {exit})")


def _hysteresis_frame(x: pd.Series, enter: float, exit: float, direction: Literal["above", "below"]) -> pd.DataFrame:
    inside = stats.hysteresis(x, enter, exit, direction)
    was_inside = inside.shift(1, fill_value=False).astype(bool)
    thr = pd.Series(np.where(was_inside, exit, enter), index=x.index)
    return _frame(x, thr, inside)


# ------------------------------------------------------------------------------------------------------------
# Rules on several series
# ------------------------------------------------------------------------------------------------------------
class SpreadRule(RuleBase):
    """series minus `minus`, each carrying its last known value forward on the union of their dates while it is
    fresh; from the day either goes stale the spread is unknown (NaN) and the condition does not hold."""

    kind: Literal["spread"]
    series: str
    minus: str
    op: stats.Op
    threshold: float
    extras: ClassVar[tuple[str, ...]] = ("a", "b")

    def series_ids(self) -> tuple[str, ...]:
        return (self.series, self.minus)

    def frame(self, data: RuleData) -> pd.DataFrame:
        joined = _legs(data, {"a": self.series, "b": self.minus}, self.name)
        joined = joined[joined.index >= joined.dropna().index.min()]  # from the first date both are known
        spread = joined["a"] - joined["b"]
        return _frame(
            spread, self.threshold, stats.compare(spread, self.op, self.threshold), a=joined["a"], b=joined["b"]
        )

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series).name} minus {data.info_of(self.minus).name}"


class DivergenceRule(RuleBase):
    """Policy divergence: `hiking` rose while `cutting` fell, both within the trailing `within_months`.

    On each date t (the union of both series' dates): hikes = the sum of the increases of `hiking` between
    consecutive observations dated in (t - within_months, t]; cuts = the sum of the decreases of `cutting` in the
    same window, as a positive number. condition: hikes >= min_move and cuts >= min_move; value = min(hikes, cuts)
    (the smaller of the two moves); threshold = min_move. E.g. BOJ +0.25 pp in January and Fed -0.25 pp in
    March: on any date from the March cut until three months after the January hike the rule holds."""

    kind: Literal["divergence"]
    hiking: str
    cutting: str
    within_months: int = Field(ge=1, le=36)
    min_move: float = Field(0.01, gt=0)  # in the series' units (pp for policy rates)
    extras: ClassVar[tuple[str, ...]] = ("hikes", "cuts")

    def series_ids(self) -> tuple[str, ...]:
        return (self.hiking, self.cutting)

    def frame(self, data: RuleData) -> pd.DataFrame:
        up = _series(data, self.hiking, self.name)
        down = _series(data, self.cutting, self.name)
        if up.empty or down.empty:
            none = pd.DatetimeIndex([], name="date")  # dated even when empty: the engine filters by date
            return _frame(
                pd.Series(index=none, dtype="float64"),
                self.min_move,
                pd.Series(index=none, dtype=bool),
                hikes=[],
                cuts=[],
            )
        start = max(up.index[0], down.index[0])
        legs_ids = {"up": self.hiking, "down": self.cutting}
        index = _leg_dates(data, legs_ids, {"up": up, "down": down})
        index = index[index >= start]
        hikes = stats.trailing_window_sum(up.diff().clip(lower=0), index, self.within_months)
        cuts = stats.trailing_window_sum((-down.diff()).clip(lower=0), index, self.within_months)
        # A stale leg is not "no move": the rule says nothing on a date either series is older than its limit.
        legs = _legs(data, legs_ids, self.name, on=index)
        known = legs.notna().all(axis=1)
        h = pd.Series(hikes, index=index).where(known)
        c = pd.Series(cuts, index=index).where(known)
        value = np.minimum(h, c)
        cond = (h >= self.min_move - 1e-12) & (c >= self.min_move - 1e-12)
        return _frame(value, self.min_move, cond, hikes=h, cuts=c)

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.hiking).name} vs {data.info_of(self.cutting).name}"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return (
            f"{self.hiking} up {fmt_number(ctx['hikes'])} while {self.cutting} down {fmt_number(ctx['cuts'])} "
            f"within {self.within_months} months"
        )

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return (
            f"no longer both within {self.within_months} months: {self.hiking} up {fmt_number(ctx['hikes'])}, "
            f"{self.cutting} down {fmt_number(ctx['cuts'])}"
        )


class ReconcileRule(RuleBase):
    """Two sources of the same quantity disagree: on each date both have an observation (never a value carried
    from another date), value = 100 * |a / b - 1| in percent, condition value > threshold. E.g. Yahoo KRW=X
    against FRED's NY noon rate: a gap above 1% on the same day is a data error or a market dislocation worth a
    look before a KRW alert is trusted."""

    kind: Literal["reconcile"]
    series: list[str] = Field(min_length=2, max_length=2)  # [a, b]: two series ids measuring the same thing
    threshold: float = Field(1.0, gt=0)  # percent
    extras: ClassVar[tuple[str, ...]] = ("a", "b")

    def series_ids(self) -> tuple[str, ...]:
        return tuple(self.series)

    def frame(self, data: RuleData) -> pd.DataFrame:
        a, b = (_series(data, sid, self.name) for sid in self.series)
        both = pd.concat({"a": a, "b": b}, axis=1, sort=True).dropna()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = 100.0 * (both["a"] / both["b"].where(both["b"] != 0) - 1.0).abs()
        return _frame(gap, self.threshold, stats.compare(gap, ">", self.threshold), a=both["a"], b=both["b"])

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series[0]).name} against {data.info_of(self.series[1]).name}"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        a, b = self.series
        return (
            f"{a} {fmt_number(ctx['a'])} and {b} {fmt_number(ctx['b'])} on {ctx['date']} differ by "
            f"{ctx['value']:.2f}% (> {fmt_number(ctx['threshold'])}%)"
        )

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        a, b = self.series
        limit = fmt_number(ctx["threshold"])
        return f"{a} and {b} agree again: {ctx['value']:.2f}% apart on {ctx['date']} (<= {limit}%)"


class EmpComponent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    series: str
    minus: str | None = None  # a differential: series minus this one (e.g. BOK rate minus the Fed's upper bound)
    transform: Literal["diff", "log_diff", "pct_change"] = "diff"
    sign: Literal[1, -1] = 1  # +1: a rise is pressure (depreciation); -1: a fall is pressure (reserve losses)

    def ids(self) -> tuple[str, ...]:
        return (self.series, self.minus) if self.minus else (self.series,)


class EmpRule(RuleBase):
    """Exchange-market-pressure index (Eichengreen, Rose and Wyplosz 1996; Girton and Roper 1977), z-scored,
    with an episode by hysteresis.

    On the dates of `base` (default: the first component's series), every other input carried forward while fresh:
        c_k,t   = transform_k(x_k) over `periods` observations (x_k = series - minus for a differential)
        s_k,t   = standard deviation of c_k over all observations before t (expanding, point in time)
        w_k,t   = (1 / s_k,t) / sum_j (1 / s_j,t)      inverse-volatility weights, summing to 1
        EMP_t   = sum_k w_k,t * sign_k * c_k,t
        z_t     = (EMP_t - mean(EMP_{t-window..t-1})) / sd(EMP_{t-window..t-1})
    A component whose s is 0 or not yet defined, or whose input is stale on that date (series.freshness), is
    left out of that date's sum. The rule holds from z >= enter
    until z < exit. Default components: KRW depreciation (log change of KRW per USD, sign +1) and the change of
    the BOK-Fed rate differential (sign +1: a policy rate raised against the Fed's absorbs pressure, ERW's
    convention; set sign = -1 to read a falling differential as outflow pressure instead). A reserves series
    enters with transform = "log_diff", sign = -1."""

    kind: Literal["emp"]
    components: list[EmpComponent] = Field(min_length=1)
    base: str | None = None
    periods: int = Field(20, ge=1, le=500)
    window: int = Field(250, ge=10, le=10_000)
    min_periods: int | None = Field(None, ge=10)
    enter: float = 2.0
    exit: float = 1.0
    extras: ClassVar[tuple[str, ...]] = ("emp",)
    digits: ClassVar[int | None] = 2

    @model_validator(mode="after")
    def _levels(self) -> EmpRule:
        _check_hysteresis("above", self.enter, self.exit)
        return self

    def series_ids(self) -> tuple[str, ...]:
        ids = [self.base] if self.base else []
        for c in self.components:
            ids += [i for i in c.ids() if i not in ids]
        return tuple(dict.fromkeys(ids))

    def index(self, data: RuleData) -> pd.Series:
        emp = self.raw_index(data)
        mp = self.min_periods or self.window
        return stats.trailing_zscore(emp, self.window, mp)

    def raw_index(self, data: RuleData) -> pd.Series:
        base_id = self.base or self.components[0].series
        base = _series(data, base_id, self.name)
        parts = []
        for c in self.components:
            # Each input carried to the base's dates only while fresh: a stale leg leaves the component out.
            legs = _legs(data, {"a": c.series, "b": c.minus} if c.minus else {"a": c.series}, self.name, base.index)
            aligned = legs["a"] - legs["b"] if c.minus else legs["a"]
            parts.append(c.sign * stats.transform(aligned, c.transform, self.periods))
        comps = pd.concat(parts, axis=1)
        sd = comps.shift(1).expanding(min_periods=max(2, self.periods)).std()
        inv = (1.0 / sd.where(sd > 0)).where(comps.notna())
        weights = inv.div(inv.sum(axis=1), axis=0)
        emp = (weights * comps).sum(axis=1, min_count=1)
        return emp.where(weights.notna().any(axis=1))

    def frame(self, data: RuleData) -> pd.DataFrame:
        emp = self.raw_index(data)
        z = stats.trailing_zscore(emp, self.window, self.min_periods or self.window)
        out = _hysteresis_frame(z, self.enter, self.exit, "above")
        out["emp"] = emp
        return out

    def subject(self, data: RuleData) -> str:
        return "Exchange-market-pressure z-score"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return _episode_summary(ctx["label"], self.value_text(ctx), "above", self.enter, self.exit)

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return wording.exited(ctx["label"], self.value_text(ctx), "above", fmt_number(self.exit))


# ------------------------------------------------------------------------------------------------------------
# Spillover rules: on a model's rolling results (columns TCI, cTCI, TO_<v>, FROM_<v>, NET_<v>, NPDC_<i>_<j>,
# NPDC_i_j > 0: i is a net transmitter to j; optional bands <col>_lo, <col>_hi)
# ------------------------------------------------------------------------------------------------------------
class SpilloverInput(RuleBase):
    model: str
    use: Literal["value", "lower_band", "upper_band"] = "value"  # the estimate or one edge of its band

    def model_names(self) -> tuple[str, ...]:
        return (self.model,)

    def variables(self) -> tuple[str, ...]:
        return ()

    def results(self, data: RuleData) -> pd.DataFrame:
        frame = data.results.get(self.model)
        if frame is None:
            raise InputDataError(
                f"rule {self.name}: no rolling results for model {self.model!r} (estimate it first: monitor run)"
            )
        return frame.sort_index()

    def column(self, data: RuleData, name: str, *, negate_from: str | None = None) -> pd.Series:
        """The column (or its band edge). With `negate_from`, read that column negated (NPDC_j_i = -NPDC_i_j):
        the lower band of -x is minus the upper band of x."""
        frame = self.results(data)
        suffix = {"value": "", "lower_band": "_lo", "upper_band": "_hi"}
        if name + suffix[self.use] in frame.columns:
            return frame[name + suffix[self.use]].astype("float64")
        if negate_from is not None:
            flipped = {"value": "", "lower_band": "_hi", "upper_band": "_lo"}[self.use]
            if negate_from + flipped in frame.columns:
                return -frame[negate_from + flipped].astype("float64")
        wanted = name + suffix[self.use]
        raise InputDataError(
            f"rule {self.name}: model {self.model} has no column {wanted!r}"
            + ("" if self.use == "value" else ' (no bands estimated: use = "value")')
            + f"; columns: {', '.join(map(str, frame.columns[:12]))}{' ...' if len(frame.columns) > 12 else ''}"
        )


class SpilloverPercentileRule(SpilloverInput):
    """A spillover measure op its expanding q-th percentile over every earlier result (point in time)."""

    kind: Literal["spillover_percentile"]
    measure: Literal["TCI", "cTCI", "TO", "FROM", "NET"] = "TCI"
    variable: str | None = None  # for TO, FROM and NET
    q: float = Field(gt=0, lt=100)
    op: stats.Op = ">="
    min_periods: int = Field(60, ge=1)

    @model_validator(mode="after")
    def _variable(self) -> SpilloverPercentileRule:
        if self.measure in ("TO", "FROM", "NET") and not self.variable:
            raise ValueError(f'measure {self.measure} needs variable = "..." (a model variable)')
        if self.measure in ("TCI", "cTCI") and self.variable:
            raise ValueError(f"measure {self.measure} is system-wide: remove variable")
        return self

    def variables(self) -> tuple[str, ...]:
        return (self.variable,) if self.variable else ()

    def _col(self) -> str:
        return f"{self.measure}_{self.variable}" if self.variable else self.measure

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.column(data, self._col())
        thr = stats.expanding_quantile(x, self.q / 100.0, self.min_periods)
        return _frame(x, thr, stats.compare(x, self.op, thr))

    def subject(self, data: RuleData) -> str:
        return f"{self._col()} of {self.model}"

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return f"its expanding {_ordinal(self.q)} percentile {fmt_number(ctx['threshold'])}"


class SpilloverSignRule(SpilloverInput):
    """NET of a variable changing sign: the condition holds on the observation where the sign flips
    (to_positive: from < 0 to > 0, the variable turns net transmitter; to_negative: the reverse; any: either).
    A zero keeps the previous sign. Use keep_firing_for to hold the alert for a while after the flip."""

    kind: Literal["spillover_sign"]
    variable: str
    direction: Literal["to_positive", "to_negative", "any"] = "any"

    def variables(self) -> tuple[str, ...]:
        return (self.variable,)

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.column(data, f"NET_{self.variable}")
        sign = pd.Series(np.sign(x.to_numpy()), index=x.index).replace(0.0, np.nan).ffill()
        prev = sign.shift(1)
        up = (prev < 0) & (sign > 0)
        down = (prev > 0) & (sign < 0)
        cond = up if self.direction == "to_positive" else down if self.direction == "to_negative" else up | down
        return _frame(x, 0.0, cond.fillna(False))

    def subject(self, data: RuleData) -> str:
        return f"NET_{self.variable} of {self.model}"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        role = "net transmitter" if ctx["value"] > 0 else "net receiver"
        return f"{ctx['label']} changed sign: now {fmt_number(ctx['value'])} ({self.variable} is a {role})"

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return f"{ctx['label']} {self.value_text(ctx)}: no new sign change"


class SpilloverPairwiseRule(SpilloverInput):
    """Net pairwise transmission from `from` to `to` (NPDC_from_to, or -NPDC_to_from) op threshold for `n`
    consecutive observations. value = the transmission; threshold = the level; extra: run (the current run)."""

    kind: Literal["spillover_pairwise"]
    from_var: str = Field(alias="from")
    to_var: str = Field(alias="to")
    op: stats.Op = ">"
    threshold: float
    n: int = Field(1, ge=1, le=10_000)
    extras: ClassVar[tuple[str, ...]] = ("run",)

    @model_validator(mode="after")
    def _distinct(self) -> SpilloverPairwiseRule:
        if self.from_var == self.to_var:
            raise ValueError("from and to must be different variables")
        return self

    def variables(self) -> tuple[str, ...]:
        return (self.from_var, self.to_var)

    def frame(self, data: RuleData) -> pd.DataFrame:
        x = self.column(data, f"NPDC_{self.from_var}_{self.to_var}", negate_from=f"NPDC_{self.to_var}_{self.from_var}")
        run = stats.run_length(stats.compare(x, self.op, self.threshold))
        return _frame(x, self.threshold, run >= self.n, run=run.astype("float64"))

    def subject(self, data: RuleData) -> str:
        return f"net transmission {self.from_var} -> {self.to_var} ({self.model})"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return f"{super().default_summary(ctx)} for {wording.plural(int(ctx['run']), 'observation')}"


# ------------------------------------------------------------------------------------------------------------
# Data health
# ------------------------------------------------------------------------------------------------------------
class DataHealthRule(RuleBase):
    """One alert instance per series (label `series`) that is stale, missing or whose source failed on the run
    date. value = age of the last observation in days (after its period ends); threshold = stale_after_days.
    The engine's inhibit stage mutes every other rule reading an unhealthy series and names them on this alert."""

    kind: Literal["data_health"]
    series: list[str] = ["*"]  # "*" = every [[series]] block
    checks: list[Literal["stale", "missing", "source_down"]] = ["stale", "missing", "source_down"]
    extras: ClassVar[tuple[str, ...]] = ("problem",)

    def series_ids(self) -> tuple[str, ...]:
        return tuple(s for s in self.series if s != "*")

    def targets(self, data: RuleData) -> list[str]:
        if "*" in self.series:
            # A preferred-sources series is stale only when the source of its latest value is, and that source
            # has its own alert: "*" means the [[series]] blocks.
            return sorted(sid for sid in set(data.info) | set(data.series) if not data.info_of(sid).prefer)
        return list(self.series)

    def evaluate(self, data: RuleData) -> list[Evaluation]:
        out = []
        day = pd.DatetimeIndex([pd.Timestamp(data.as_of)], name="date")
        for sid in self.targets(data):
            h = data.health.get(sid)
            if h is None:
                s = data.series.get(sid)
                last = s.dropna().index[-1].date() if s is not None and len(s.dropna()) else None
                h = health_of(data.info_of(sid), last, data.as_of)
            bad = (
                ("stale" in self.checks and h.stale and not h.missing)
                or ("missing" in self.checks and h.missing)
                or ("source_down" in self.checks and h.down)
            )
            value = float(h.age_days) if h.age_days is not None else np.nan
            thr = float(h.stale_after_days) if h.stale_after_days is not None else np.nan
            values, condition = pd.Series([value], index=day), pd.Series([bool(bad)], index=day)
            if "stale" in self.checks and h.ages is not None and len(h.ages):
                # Every day since the series' first value, stale or not as that day knew it, then today as the run
                # sees it (a failed fetch counts today only): the state on a day is the same whichever days
                # were evaluated before it (order of runs never changes it), as for the other rules.
                values = h.ages.rename_axis("date")
                condition = values > thr
                condition.iloc[-1] = bool(bad)
            # Each day's own problem: an earlier day's stale spell in days; today's as the run sees it.
            problem = [
                wording.stale_days(age, thr) if stale else "" for age, stale in zip(values, condition, strict=True)
            ]
            problem[-1] = wording.health_problem(h)
            frame = _frame(values, thr, condition, problem=problem)
            out.append(Evaluation(self, frame, {"series": sid}, (sid,)))
        return out

    def subject(self, data: RuleData) -> str:
        return "input data"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        if ctx.get("problem"):
            return f"{ctx['series']}: {ctx['problem']}"
        return wording.health_recovered(ctx["series"], ctx["value"], ctx["threshold"])  # healthy on that day

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_recovered(ctx["series"], ctx["value"], ctx["threshold"])

    def value_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_age(ctx["value"])

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_limit(ctx["threshold"])


Rule = Annotated[
    LevelRule
    | ChangeRule
    | ZScoreRule
    | PercentileRule
    | StreakRule
    | HysteresisRule
    | SpreadRule
    | DivergenceRule
    | ReconcileRule
    | EmpRule
    | SpilloverPercentileRule
    | SpilloverSignRule
    | SpilloverPairwiseRule
    | DataHealthRule,
    Field(discriminator="kind"),
]
KINDS: dict[str, type[RuleBase]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        LevelRule,
        ChangeRule,
        ZScoreRule,
        PercentileRule,
        StreakRule,
        HysteresisRule,
        SpreadRule,
        DivergenceRule,
        ReconcileRule,
        EmpRule,
        SpilloverPercentileRule,
        SpilloverSignRule,
        SpilloverPairwiseRule,
        DataHealthRule,
    )
}


def template_context(ev: Evaluation, data: RuleData, row: pd.Series, when: pd.Timestamp) -> dict[str, Any]:
    """The fields a summary template may use, for one observation of an evaluation."""
    rule = ev.rule
    primary = ev.inputs[0] if ev.inputs else ""
    info = data.info_of(primary) if primary else SeriesInfo("")
    ctx: dict[str, Any] = {
        "value": float(row["value"]),
        "threshold": float(row["threshold"]),
        "date": when.strftime("%Y-%m-%d"),
        "rule": rule.name,
        "severity": rule.severity,
        "label": rule.display(data),
        "units": info.units,
        "series": primary,
        **rule.labels,
        **ev.instance,
    }
    for name in ev.frame.columns:
        if name not in ("value", "threshold", "condition"):
            v = row[name]
            ctx[name] = float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v
    return ctx


class _NotAvailable:
    """A value that is not known (a stale leg, no data): 'n/a' whatever the template's format spec ('+nan' would
    read as a number)."""

    def __format__(self, spec: str) -> str:
        return "n/a"


def render(template: str, ctx: Mapping[str, Any]) -> str:
    """Fill a validated template; field names are plain identifiers (checked at config load), never attributes."""
    known = {k: _NotAvailable() if isinstance(v, float) and v != v else v for k, v in ctx.items()}
    return template.format_map(known)


def summary(ev: Evaluation, ctx: Mapping[str, Any]) -> str:
    template = ev.rule.annotations.get("summary")
    return render(template, ctx) if template else ev.rule.default_summary(ctx)
