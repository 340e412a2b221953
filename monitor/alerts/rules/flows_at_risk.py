"""flows_at_risk: the 5th percentile forecast of foreign flows (a [[flows_at_risk]] result) below a level or below
its own expanding percentile."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from monitor.alerts.rules.base import RuleBase, register
from monitor.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class FlowsAtRiskRule(RuleBase):
    """The forecast 5th percentile of the next h sessions' cumulative flows (column q05 of the model's stored
    forecasts, each made with data up to its date) < `threshold`, or < its expanding `q`-th percentile over every
    earlier forecast (point in time); with both, either fires. threshold column: the binding (higher) level.
    extra: realised (the flows that followed, NaN until known), for the backtest's coverage."""

    kind: Literal["flows_at_risk"]
    model: str
    threshold: float | None = None
    q: float | None = Field(None, gt=0, lt=100)
    min_periods: int = Field(60, ge=1)
    op: ClassVar[str] = "<"
    model_key: ClassVar[str | None] = "model"
    extras: ClassVar[tuple[str, ...]] = ("realised",)

    @model_validator(mode="after")
    def _level(self) -> FlowsAtRiskRule:
        if self.threshold is None and self.q is None:
            raise ValueError("give threshold = LEVEL, q = PERCENTILE (e.g. 5), or both")
        return self

    def frame(self, data: RuleData) -> pd.DataFrame:
        import pandas as pd

        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        results = data.results.get(self.model)
        if results is None or "q05" not in results.columns:
            raise InputDataError(
                f"rule {self.name}: no flows-at-risk forecasts for {self.model!r} (a [[flows_at_risk]] block; "
                "estimate it first: monitor run)"
            )
        results = results.sort_index()
        x = results["q05"].astype("float64")
        levels = []
        if self.threshold is not None:
            levels.append(pd.Series(self.threshold, index=x.index))
        if self.q is not None:
            levels.append(stats.expanding_quantile(x, self.q / 100.0, self.min_periods))
        thr = pd.concat(levels, axis=1).max(axis=1)  # x below either level <=> x below the higher one
        realised = results["realised"].astype("float64") if "realised" in results else pd.Series(float("nan"), x.index)
        return frames.frame(x, thr, stats.compare(x, "<", thr), realised=realised)

    def subject(self, data: RuleData) -> str:
        return f"5th percentile forecast of {self.model}"
