"""percentile: value op its expanding q-th percentile of all earlier observations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from monitor.alerts import wording
from monitor.alerts.ops import Op
from monitor.alerts.rules.base import SeriesInput, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class PercentileRule(SeriesInput):
    """value op its expanding q-th percentile over every earlier observation (point in time: no future data)."""

    kind: Literal["percentile"]
    q: float = Field(gt=0, lt=100)
    op: Op
    min_periods: int = Field(250, ge=1)  # earlier observations needed before the percentile counts

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.input(data)
        thr = stats.expanding_quantile(x, self.q / 100.0, self.min_periods)
        return frames.frame(x, thr, stats.compare(x, self.op, thr))

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.percentile_level(self.q, ctx["threshold"])
