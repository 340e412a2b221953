"""Rule kinds: small validated config blocks (`[[rules]]` in config.toml), each evaluated vectorised over history.

A rule turns its inputs into one DataFrame per alert instance (monitor.alerts.rules.frames). Each row uses only
observations dated on or before its date: trailing statistics exclude the current observation, expanding
percentiles use only the past, series are joined by carrying the last known value forward while it is fresh
(series.freshness: never past the series' stale limit). The daily engine, `monitor alerts backtest` and the
report's shaded firing periods all read these frames, so a rule has exactly one definition of when it holds.

Observations are counted on each input series' own dates (its exchange calendar): "k sessions", streaks, `for`
and `keep_firing_for` skip a Korean holiday because the series has no row then.

One module per kind (or small family), each registered with `@register` (base.py says what a kind declares)
and imported below; its docstring says what it computes, and the README's rule table lists every kind's keys.
A new kind is its module, its import line below, a rule test file in tests/monitor/alerts/rules/ (its wording and
its point in time are checked on it) and its README row. Importing this package loads no pandas: config validates
rules without it.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from monitor.alerts.rules.base import KINDS, SEVERITY_RANK, Evaluation, RuleBase, SeriesInput

# isort: off
# The registrations: importing a kind's module registers it, in this order (the order config messages list kinds).
from monitor.alerts.rules.level import LevelRule
from monitor.alerts.rules.change import ChangeRule
from monitor.alerts.rules.zscore import ZScoreRule
from monitor.alerts.rules.percentile import PercentileRule
from monitor.alerts.rules.streak import StreakRule
from monitor.alerts.rules.hysteresis import HysteresisRule
from monitor.alerts.rules.spread import SpreadRule
from monitor.alerts.rules.divergence import DivergenceRule
from monitor.alerts.rules.reconcile import ReconcileRule
from monitor.alerts.rules.emp import EmpComponent, EmpRule
from monitor.alerts.rules.spillover import SpilloverPairwiseRule, SpilloverPercentileRule, SpilloverSignRule
from monitor.alerts.rules.data_health import DataHealthRule

# isort: on
from monitor.alerts.rules.templates import render, summary, template_context

if TYPE_CHECKING:
    Rule = RuleBase
else:
    # A `[[rules]]` block as one of the registered kinds, chosen by its `kind` key.
    Rule = Annotated[functools.reduce(operator.or_, KINDS.values()), Field(discriminator="kind")]

__all__ = [
    "KINDS",
    "SEVERITY_RANK",
    "ChangeRule",
    "DataHealthRule",
    "DivergenceRule",
    "EmpComponent",
    "EmpRule",
    "Evaluation",
    "HysteresisRule",
    "LevelRule",
    "PercentileRule",
    "ReconcileRule",
    "Rule",
    "RuleBase",
    "SeriesInput",
    "SpilloverPairwiseRule",
    "SpilloverPercentileRule",
    "SpilloverSignRule",
    "SpreadRule",
    "StreakRule",
    "ZScoreRule",
    "render",
    "summary",
    "template_context",
]
