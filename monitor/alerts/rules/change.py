"""change: the change over `periods` observations, abs or pct, op threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from monitor.alerts.ops import Op
from monitor.alerts.rules.base import RuleBase, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class ChangeRule(RuleBase):
    """Change over `periods` observations of the series' own calendar: abs (units) or pct (percent)."""

    kind: Literal["change"]
    series: str
    periods: int = Field(ge=1, le=10_000)
    mode: Literal["abs", "pct"] = "pct"
    op: Op
    threshold: float

    series_keys: ClassVar[tuple[str, ...]] = ("series",)

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = stats.transform(
            frames.series_of(data, self.series, self.name), "pct_change" if self.mode == "pct" else "diff", self.periods
        )
        return frames.frame(x, self.threshold, stats.compare(x, self.op, self.threshold))

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series).name}, change over {self.periods} observations"

    def unit(self) -> str:
        return "%" if self.mode == "pct" else ""
