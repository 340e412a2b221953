"""Spillover kinds, on a model's rolling results (columns TCI, cTCI, TO_<v>, FROM_<v>, NET_<v>, NPDC_<i>_<j>;
NPDC_i_j > 0: i is a net transmitter to j; optional bands <col>_lo, <col>_hi):

    spillover_percentile  a spillover measure (TCI, cTCI, TO/FROM/NET of a variable) op its expanding percentile
    spillover_sign        NET of a variable changing sign
    spillover_pairwise    net pairwise transmission from one variable to another op a level for `n` observations
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from monitor.alerts import wording
from monitor.alerts.info import fmt_number
from monitor.alerts.ops import Op
from monitor.alerts.rules.base import RuleBase, register
from monitor.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


class SpilloverInput(RuleBase):
    model: str
    use: Literal["value", "lower_band", "upper_band"] = "value"  # the estimate or one edge of its band

    model_key: ClassVar[str | None] = "model"

    def variables(self) -> tuple[str, ...]:
        """The model variables the rule names (its `variable_keys`, config checks them against the model)."""
        attrs = {f.alias or name: name for name, f in type(self).model_fields.items()}
        return tuple(v for v in (getattr(self, attrs[key]) for key in self.variable_keys) if v)

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


@register
class SpilloverPercentileRule(SpilloverInput):
    """A spillover measure op its expanding q-th percentile over every earlier result (point in time)."""

    kind: Literal["spillover_percentile"]
    measure: Literal["TCI", "cTCI", "TO", "FROM", "NET"] = "TCI"
    variable: str | None = None  # for TO, FROM and NET
    q: float = Field(gt=0, lt=100)
    op: Op = ">="
    min_periods: int = Field(60, ge=1)
    variable_keys: ClassVar[tuple[str, ...]] = ("variable",)

    @model_validator(mode="after")
    def _variable(self) -> SpilloverPercentileRule:
        if self.measure in ("TO", "FROM", "NET") and not self.variable:
            raise ValueError(f'measure {self.measure} needs variable = "..." (a model variable)')
        if self.measure in ("TCI", "cTCI") and self.variable:
            raise ValueError(f"measure {self.measure} is system-wide: remove variable")
        return self

    def _col(self) -> str:
        return f"{self.measure}_{self.variable}" if self.variable else self.measure

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.column(data, self._col())
        thr = stats.expanding_quantile(x, self.q / 100.0, self.min_periods)
        return frames.frame(x, thr, stats.compare(x, self.op, thr))

    def subject(self, data: RuleData) -> str:
        return f"{self._col()} of {self.model}"

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.percentile_level(self.q, ctx["threshold"])


@register
class SpilloverSignRule(SpilloverInput):
    """NET of a variable changing sign: the condition holds on the observation where the sign flips
    (to_positive: from < 0 to > 0, the variable turns net transmitter; to_negative: the reverse; any: either).
    A zero keeps the previous sign. Use keep_firing_for to hold the alert for a while after the flip."""

    kind: Literal["spillover_sign"]
    variable: str
    direction: Literal["to_positive", "to_negative", "any"] = "any"
    variable_keys: ClassVar[tuple[str, ...]] = ("variable",)
    cleared: ClassVar[str] = "{label} {value_text}: no new sign change"

    def frame(self, data: RuleData) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        from monitor.alerts.rules import frames

        x = self.column(data, f"NET_{self.variable}")
        sign = pd.Series(np.sign(x.to_numpy()), index=x.index).replace(0.0, np.nan).ffill()
        prev = sign.shift(1)
        up = (prev < 0) & (sign > 0)
        down = (prev > 0) & (sign < 0)
        cond = up if self.direction == "to_positive" else down if self.direction == "to_negative" else up | down
        return frames.frame(x, 0.0, cond.fillna(False))

    def subject(self, data: RuleData) -> str:
        return f"NET_{self.variable} of {self.model}"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        role = "net transmitter" if ctx["value"] > 0 else "net receiver"
        return f"{ctx['label']} changed sign: now {fmt_number(ctx['value'])} ({self.variable} is a {role})"


@register
class SpilloverPairwiseRule(SpilloverInput):
    """Net pairwise transmission from `from` to `to` (NPDC_from_to, or -NPDC_to_from) op threshold for `n`
    consecutive observations. value = the transmission; threshold = the level; extra: run (the current run)."""

    kind: Literal["spillover_pairwise"]
    from_var: str = Field(alias="from")
    to_var: str = Field(alias="to")
    op: Op = ">"
    threshold: float
    n: int = Field(1, ge=1, le=10_000)
    extras: ClassVar[tuple[str, ...]] = ("run",)
    variable_keys: ClassVar[tuple[str, ...]] = ("from", "to")

    @model_validator(mode="after")
    def _distinct(self) -> SpilloverPairwiseRule:
        if self.from_var == self.to_var:
            raise ValueError("from and to must be different variables")
        return self

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.column(data, f"NPDC_{self.from_var}_{self.to_var}", negate_from=f"NPDC_{self.to_var}_{self.from_var}")
        run = stats.run_length(stats.compare(x, self.op, self.threshold))
        return frames.frame(x, self.threshold, run >= self.n, run=run.astype("float64"))

    def subject(self, data: RuleData) -> str:
        return f"net transmission {self.from_var} -> {self.to_var} ({self.model})"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return f"{super().default_summary(ctx)} for {wording.plural(int(ctx['run']), 'observation')}"
