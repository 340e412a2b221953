"""reconcile: two sources of the same quantity more than `threshold` % apart on the same date."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from monitor.alerts.rules.base import RuleBase, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class ReconcileRule(RuleBase):
    """Two sources of the same quantity disagree: on each date both have an observation (never a value carried
    from another date), value = 100 * |a / b - 1| in percent, condition value > threshold. E.g. Yahoo KRW=X
    against FRED's NY noon rate: a gap above 1% on the same day is a data error or a market dislocation worth a
    look before a KRW alert is trusted."""

    kind: Literal["reconcile"]
    series: list[str] = Field(min_length=2, max_length=2)  # [a, b]: two series ids measuring the same thing
    threshold: float = Field(1.0, gt=0)  # percent
    extras: ClassVar[tuple[str, ...]] = ("a", "b")
    series_keys: ClassVar[tuple[str, ...]] = ("series",)
    firing: ClassVar[str] = (
        "{self.series[0]} {a:num} and {self.series[1]} {b:num} on {date} differ by {value:.2f}% (> {threshold:num}%)"
    )
    cleared: ClassVar[str] = (
        "{self.series[0]} and {self.series[1]} agree again: {value:.2f}% apart on {date} (<= {threshold:num}%)"
    )

    def frame(self, data: RuleData) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        a, b = (frames.series_of(data, sid, self.name) for sid in self.series)
        both = pd.concat({"a": a, "b": b}, axis=1, sort=True).dropna()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = 100.0 * (both["a"] / both["b"].where(both["b"] != 0) - 1.0).abs()
        return frames.frame(gap, self.threshold, stats.compare(gap, ">", self.threshold), a=both["a"], b=both["b"])

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series[0]).name} against {data.info_of(self.series[1]).name}"
