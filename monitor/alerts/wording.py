"""Alert wording: the sentences the rule kinds and the engine build their messages from, written once.

A firing summary states the comparison that holds ("KRW/USD 1,460 >= 1,450"). Once the condition stops holding,
the text says so in words, from the observation where it stopped ("KRW/USD 1,430, below 1,450 on 2026-01-14"),
and what the statistic is now when that was earlier; an alert held by keep_firing_for says for how many more
observations it stays firing. Data health is said in words with units ("last observation 2026-03-04 is 5 days
old (limit 4 days)").
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from typing import Any

from monitor.alerts.info import SeriesHealth, fmt_number
from monitor.alerts.ops import NEGATED

# An operator in words: what the value is relative to the level.
OP_WORDS = {">=": "at or above", ">": "above", "<=": "at or below", "<": "below"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def number(x: float, digits: int | None = None) -> str:
    """A value as messages show it: fixed `digits` decimals (z-scores) or fmt_number's thousands and two decimals."""
    return fmt_number(x) if digits is None else f"{x:.{digits}f}"


def holds(label: str, value: str, op: str, level: str) -> str:
    """A condition that holds, as a comparison: 'KRW/USD 1,460 >= 1,450'."""
    return f"{label} {value} {op} {level}"


def no_longer(label: str, value: str, op: str, level: str) -> str:
    """A condition that no longer holds, in words: 'KRW/USD 1,430, below 1,450' for op '>='."""
    return f"{label} {value}, {OP_WORDS[NEGATED[op]]} {level}"


def exited(label: str, value: str, direction: str, exit_level: str) -> str:
    """An episode left at its exit level: 'EMP z-score 0.80, below the exit level 1'."""
    side = "below" if direction == "above" else "above"
    return f"{label} {value}, {side} the exit level {exit_level}"


def episode(label: str, value: str, direction: str, enter: float, exit: float) -> str:
    """An episode by hysteresis, while it lasts: 'EMP z-score 2.10 (episode from >= 2, ends < 1)'."""
    into, leave = (">=", "<") if direction == "above" else ("<=", ">")
    return f"{label} {value} (episode from {into} {fmt_number(enter)}, ends {leave} {fmt_number(exit)})"


def percentile_level(q: float, threshold: float) -> str:
    """An expanding percentile as the level compared with: 'its expanding 95th percentile 1,450'."""
    return f"its expanding {ordinal(q)} percentile {fmt_number(threshold)}"


def ordinal(q: float) -> str:
    n = int(q) if float(q).is_integer() else q
    if not isinstance(n, int):
        return f"{n}th"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _Phrase(string.Formatter):
    """str.format with one more spec, `num`: a number as messages show it (fmt_number)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return fmt_number(value) if format_spec == "num" else super().format_field(value, format_spec)


def phrase(template: str, fields: Mapping[str, Any]) -> str:
    """A kind's sentence from its template: the message fields, `self` (the rule: `{self.within_months}`),
    `value_text` and `level_text`; `{x:num}` shows a number as messages do ('1,460', '0.25')."""
    return _Phrase().vformat(template, (), fields)


def summary_value(ctx: Mapping[str, Any], digits: int | None = None, unit: str = "") -> str:
    return number(float(ctx["value"]), digits) + unit


def summary_threshold(ctx: Mapping[str, Any], unit: str = "") -> str:
    return fmt_number(float(ctx["threshold"])) + unit


# -- the engine's sentences ---------------------------------------------------------------------------------
def stopped(reason: str, on: date, latest: str | None) -> str:
    """Why the condition stopped holding and on which observation; `latest`: the statistic now, when a later
    observation has come in since ('KRW/USD 1,430, below 1,450 on 2026-01-14; now 1,420')."""
    return f"{reason} on {on}" + (f"; {latest}" if latest else "")


def held(stopped_text: str, remaining: int) -> str:
    """A firing alert held by keep_firing_for: the condition no longer holds; how much longer it stays firing.
    `remaining`: observations without the condition it still stays firing through (0: the next one resolves it)."""
    if remaining > 0:
        rest = f"stays firing {plural(remaining, 'more observation')}"
    else:
        rest = "resolves at the next observation without it"
    return f"{stopped_text}: no longer holds; {rest} (keep_firing_for)"


# -- data health ----------------------------------------------------------------------------------------------
def health_problem(h: SeriesHealth) -> str:
    """What is wrong with a series, in words with units ('' when healthy)."""
    parts = []
    if h.down:
        parts.append(f"source down ({h.status}{': ' + h.message if h.message else ''})")
    if h.missing:
        parts.append("no observations stored")
    elif h.stale:
        text = f"stale: last observation {h.last_date} is {plural(int(h.age_days or 0), 'day')} old"
        if h.stale_after_days is not None:
            text += f" (limit {plural(h.stale_after_days, 'day')})"
        parts.append(text)
    return "; ".join(parts)


def stale_days(age_days: float, limit_days: float) -> str:
    """An earlier day's stale spell: 'stale: last observation 9 days old (limit 5 days)'."""
    return f"stale: last observation {health_age(age_days)} (limit {plural(int(limit_days), 'day')})"


def health_age(age_days: float) -> str:
    """The age of a series' last observation: '21 days old', or 'no observations' when there is none."""
    return "no observations" if age_days != age_days else f"{plural(int(age_days), 'day')} old"


def health_limit(limit_days: float) -> str:
    return "n/a" if limit_days != limit_days else f"stale after {plural(int(limit_days), 'day')}"


def health_recovered(series: str, age_days: float, limit_days: float) -> str:
    """A data-health alert that resolved: 'krw_usd is healthy again: last observation 1 day old (limit 4 days)'."""
    limit = "" if limit_days != limit_days else f" (limit {plural(int(limit_days), 'day')})"
    return f"{series} is healthy again: last observation {health_age(age_days)}{limit}"
