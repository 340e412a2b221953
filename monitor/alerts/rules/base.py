"""What every rule kind shares: the keys every rule has, the registry, the words, and the inputs of one series.

A kind is a pydantic model of its `[[rules]]` block, registered with `@register`. It declares
    its config keys      the model's fields (unknown keys are errors)
    the series it reads  `series_keys`: the keys naming series ("components[].series": a key of each table in a list);
                         config checks them against [[series]] and the engine inhibits the rule when one is stale
    a model it reads     `model_key` and `variable_keys` (spillover kinds)
    its wording          nothing for a comparison (a kind with `op`); else `firing` and `cleared` phrases
                         (monitor.alerts.wording.phrase), or methods when a sentence needs a choice
    its evaluation       `frame(data)` (or `evaluate` for several instances): pandas, imported when a rule is
                         evaluated, never when config is loaded (monitor.alerts.rules.frames)
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.alerts import wording
from monitor.alerts.info import SeriesInfo, fingerprint, shown
from monitor.alerts.ops import Transform

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData

SLUG = r"^[a-z][a-z0-9_]*$"
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
RESERVED_LABELS = ("rule", "severity", "series")
# Fields every summary template may use; kinds add their own (`extras`) and the rule's labels are available too.
TEMPLATE_FIELDS = ("value", "threshold", "date", "rule", "severity", "label", "units", "series")
_TEXT_FIELDS = ("date", "rule", "severity", "label", "units", "series", "problem")

KINDS: dict[str, type[RuleBase]] = {}
R = TypeVar("R", bound="RuleBase")


def register(cls: type[R]) -> type[R]:
    """Make a kind known by its `kind` literal: config validates `[[rules]]` blocks of that kind with it."""
    (name,) = cls.model_fields["kind"].annotation.__args__  # type: ignore[union-attr]
    if name in KINDS:
        raise ValueError(f"rule kind {name!r} is registered twice")
    KINDS[name] = cls
    return cls


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


class BeforeMeeting(BaseModel):
    """`before_meeting = { bank = "BOK", days = 5 }`: the rule fires only on observations at most `days` calendar
    days before the bank's next meeting (the meeting day included), per the central-bank calendar
    (monitor/data/central_banks.csv); with no meeting ahead in the calendar it does not fire."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    bank: Literal["Fed", "BOJ", "BOK"]
    days: int = Field(ge=0, le=366)


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
    before_meeting: BeforeMeeting | None = None  # fire only in the days before a central bank's meeting

    extras: ClassVar[tuple[str, ...]] = ()
    series_keys: ClassVar[tuple[str, ...]] = ()
    model_key: ClassVar[str | None] = None
    variable_keys: ClassVar[tuple[str, ...]] = ()

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
    @classmethod
    def series_refs(cls, block: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(key path inside the rule, series id) for every series a block of this kind names."""
        return series_refs(cls.series_keys, block)

    def series_ids(self) -> tuple[str, ...]:
        """The series the rule reads, in the order of `series_keys`, each once."""
        ids: list[str] = []
        for key in self.series_keys:
            table, _, inner = key.partition("[].")
            values = [getattr(item, inner) for item in getattr(self, table)] if inner else [getattr(self, key)]
            for value in values:
                ids += [value] if isinstance(value, str) else list(value or ())
        return tuple(dict.fromkeys(i for i in ids if i != "*"))

    def model_names(self) -> tuple[str, ...]:
        return (getattr(self, self.model_key),) if self.model_key else ()

    # -- evaluation -----------------------------------------------------------------------------------------
    def evaluate(self, data: RuleData) -> list[Evaluation]:
        return [Evaluation(self, self.gate(self.frame(data)), {}, self.series_ids())]

    def gate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with its condition kept only where `before_meeting` allows (unchanged without it)."""
        if self.before_meeting is None:
            return frame
        import pandas as pd

        from monitor.meetings import days_to_next

        bank, days = self.before_meeting.bank, self.before_meeting.days
        near = [(n := days_to_next(bank, d.date())) is not None and n <= days for d in frame.index]
        return frame.assign(condition=frame["condition"] & pd.Series(near, index=frame.index, dtype=bool))

    def frame(self, data: RuleData) -> pd.DataFrame:
        raise NotImplementedError

    # -- words -----------------------------------------------------------------------------------------------
    # The sentences live in monitor.alerts.wording. A comparison (a kind with `op`) needs nothing; another kind
    # gives `firing` and `cleared` phrases, and says how its value and level read (`digits`, `unit`, level_text).
    firing: ClassVar[str] = ""
    cleared: ClassVar[str] = ""
    digits: ClassVar[int | None] = None  # fixed decimals for the value (z-scores); None: fmt_number

    def display(self, data: RuleData) -> str:
        return self.label or self.subject(data)

    def peak_sign(self) -> int:
        """+1 when larger values are worse (the peak of an episode is its maximum), -1 when smaller are."""
        op = getattr(self, "op", ">=")
        return -1 if op in ("<", "<=") or getattr(self, "direction", "") == "below" else 1

    def subject(self, data: RuleData) -> str:
        """What the rule measures, in words (the `label` template field)."""
        return self.name

    def unit(self) -> str:
        return ""

    def value_text(self, ctx: Mapping[str, Any]) -> str:
        """The statistic of an observation, as messages show it."""
        return wording.summary_value(ctx, self.digits, self.unit())

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        """What the statistic is compared with on that observation."""
        return wording.summary_threshold(ctx, self.unit())

    def _phrase(self, template: str, ctx: Mapping[str, Any]) -> str:
        fields = {**ctx, "self": self, "value_text": self.value_text(ctx), "level_text": self.level_text(ctx)}
        return wording.phrase(template, fields)

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        """The comparison that holds on a firing observation ('KRW/USD 1,460 >= 1,450')."""
        op = getattr(self, "op", None)
        if self.firing or op is None:
            return self._phrase(self.firing or "{label} {value_text} vs {level_text}", ctx)
        return wording.holds(ctx["label"], self.value_text(ctx), op, self.level_text(ctx))

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        """Why the condition stopped holding, from the observation where it stopped ('KRW/USD 1,430, below
        1,450'); `stopped_text` adds the date and what the statistic is now."""
        op = getattr(self, "op", None)
        if self.cleared or op is None:
            return self._phrase(self.cleared or "{label} {value_text}: the condition no longer holds", ctx)
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
                sample: Any = "x" if name in _TEXT_FIELDS or name in self.labels else shown(1234.5, "")
                try:
                    format(sample, spec or "")
                    if conversion not in (None, "s", "r"):
                        raise ValueError(f"conversion !{conversion}")
                except ValueError as e:
                    problems.append((key, f"bad format {{{name}:{spec}}}: {e}"))
        return problems


def series_refs(keys: Iterable[str], block: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key path inside the rule, series id) for every series the `keys` of a raw block name, read from the table
    so a block with other problems still has its references checked ("*" in a list means every series)."""
    refs: list[tuple[str, str]] = []
    nested: dict[str, list[str]] = {}
    for key in keys:
        table, _, inner = key.partition("[].")
        if inner:
            nested.setdefault(table, []).append(inner)
            continue
        value = block.get(key)
        if isinstance(value, str):
            refs.append((key, value))
        elif isinstance(value, list):
            refs += [(f"{key}[{j}]", v) for j, v in enumerate(value) if isinstance(v, str) and v != "*"]
    for table, inner_keys in nested.items():
        items = block.get(table)
        for j, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                refs += [(f"{table}[{j}].{k}", item[k]) for k in inner_keys if isinstance(item.get(k), str)]
    return refs


class SeriesInput(RuleBase):
    """A rule on one series, optionally transformed before the rule's statistic."""

    series: str
    # Applied before the rule's statistic: level | diff | pct_change | log_diff | yoy | rolling_sum | rolling_mean.
    transform: Transform = "level"
    periods: int = Field(1, ge=1, le=10_000)  # the lag (diff, pct_change, log_diff) or window (rolling_*)

    series_keys: ClassVar[tuple[str, ...]] = ("series",)

    def input(self, data: RuleData) -> pd.Series:
        from monitor.alerts import stats
        from monitor.alerts.rules.frames import series_of

        freq = data.info[self.series].freq if self.series in data.info else None
        return stats.transform(series_of(data, self.series, self.name), self.transform, self.periods, freq=freq)

    def subject(self, data: RuleData) -> str:
        return describe_input(data.info_of(self.series), self.transform, self.periods)


def describe_input(info: SeriesInfo, how: str, periods: int) -> str:
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
