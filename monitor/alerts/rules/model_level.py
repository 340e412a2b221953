"""model_level: a column of a model's per-date results op threshold, e.g. the flows' response to the US-Japan
yield gap (model `gap_flows`, column `beta`, 100 million KRW per pp; `use = "upper_band"` with `op = "<"` holds
only when the whole band is below the level)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from monitor.alerts.ops import Op
from monitor.alerts.rules.base import register
from monitor.alerts.rules.spillover import SpilloverInput

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class ModelLevelRule(SpilloverInput):
    kind: Literal["model_level"]
    column_name: str = Field(alias="column", min_length=1)
    op: Op
    threshold: float

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.column(data, self.column_name)
        return frames.frame(x, self.threshold, stats.compare(x, self.op, self.threshold))

    def subject(self, data: RuleData) -> str:
        return f"{self.column_name} of {self.model}"
