"""Rule kinds: small validated config blocks (`[[rules]]` in config.toml), each evaluated vectorised over history.

A rule turns its inputs into one DataFrame per alert instance (monitor.alerts.rules.frames). Each row uses only
observations dated on or before its date: trailing statistics exclude the current observation, expanding
percentiles use only the past, series are joined by carrying the last known value forward while it is fresh
(series.freshness: never past the series' stale limit). The daily engine, `monitor alerts backtest` and the
report's shaded firing periods all read these frames, so a rule has exactly one definition of when it holds.

Observations are counted on each input series' own dates (its exchange calendar): "k sessions", streaks, `for`
and `keep_firing_for` skip a Korean holiday because the series has no row then.

One module per kind (or small family), each registered with `@register` (base.py says what a kind declares);
a new kind is its module plus its import line below, a rule test file in tests/monitor/alerts/rules/ and its
line in the README's rule reference. Importing this package loads no pandas: config validates rules without it.
Kinds (the `kind` key):
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
    model_level           a column of a model's per-date results (or an edge of its band) op threshold
    data_health           a series stale, missing, or its source down
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
from monitor.alerts.rules.model_level import ModelLevelRule
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
    "ModelLevelRule",
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
