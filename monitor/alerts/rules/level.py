"""level: value op threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from monitor.alerts.ops import Op
from monitor.alerts.rules.base import SeriesInput, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class LevelRule(SeriesInput):
    kind: Literal["level"]
    op: Op
    threshold: float

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.input(data)
        return frames.frame(x, self.threshold, stats.compare(x, self.op, self.threshold))
