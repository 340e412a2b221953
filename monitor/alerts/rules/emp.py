"""emp: an exchange-market-pressure index, z-scored, with an episode by hysteresis (formula in EmpRule)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.alerts.rules.base import register
from monitor.alerts.rules.hysteresis import Episode, check_levels

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


class EmpComponent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    series: str
    minus: str | None = None  # a differential: series minus this one (e.g. BOK rate minus the Fed's upper bound)
    transform: Literal["diff", "log_diff", "pct_change"] = "diff"
    sign: Literal[1, -1] = 1  # +1: a rise is pressure (depreciation); -1: a fall is pressure (reserve losses)


@register
class EmpRule(Episode):
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
    series_keys: ClassVar[tuple[str, ...]] = ("base", "components[].series", "components[].minus")
    digits: ClassVar[int | None] = 2

    @model_validator(mode="after")
    def _levels(self) -> EmpRule:
        check_levels("above", self.enter, self.exit)
        return self

    def index(self, data: RuleData) -> pd.Series:
        from monitor.alerts import stats

        emp = self.raw_index(data)
        mp = self.min_periods or self.window
        return stats.trailing_zscore(emp, self.window, mp)

    def raw_index(self, data: RuleData) -> pd.Series:
        import pandas as pd

        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        base_id = self.base or self.components[0].series
        base = frames.series_of(data, base_id, self.name)
        parts = []
        for c in self.components:
            # Each input carried to the base's dates only while fresh: a stale leg leaves the component out.
            ids = {"a": c.series, "b": c.minus} if c.minus else {"a": c.series}
            legs = frames.legs(data, ids, self.name, base.index)
            aligned = legs["a"] - legs["b"] if c.minus else legs["a"]
            parts.append(c.sign * stats.transform(aligned, c.transform, self.periods))
        comps = pd.concat(parts, axis=1)
        sd = comps.shift(1).expanding(min_periods=max(2, self.periods)).std()
        inv = (1.0 / sd.where(sd > 0)).where(comps.notna())
        weights = inv.div(inv.sum(axis=1), axis=0)
        emp = (weights * comps).sum(axis=1, min_count=1)
        return emp.where(weights.notna().any(axis=1))

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        emp = self.raw_index(data)
        z = stats.trailing_zscore(emp, self.window, self.min_periods or self.window)
        out = frames.hysteresis_frame(z, self.enter, self.exit, "above")
        out["emp"] = emp
        return out

    def subject(self, data: RuleData) -> str:
        return "Exchange-market-pressure z-score"
