"""divergence: one series hiking while another cuts, both within `within_months`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from monitor.alerts.rules.base import RuleBase, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class DivergenceRule(RuleBase):
    """Policy divergence: `hiking` rose while `cutting` fell, both within the trailing `within_months`.

    On each date t (the union of both series' dates): hikes = the sum of the increases of `hiking` between
    consecutive observations dated in (t - within_months, t]; cuts = the sum of the decreases of `cutting` in the
    same window, as a positive number. condition: hikes >= min_move and cuts >= min_move; value = min(hikes, cuts)
    (the smaller of the two moves); threshold = min_move. E.g. BOJ +0.25 pp in January and Fed -0.25 pp in
    March: on any date from the March cut until three months after the January hike the rule holds."""

    kind: Literal["divergence"]
    hiking: str
    cutting: str
    within_months: int = Field(ge=1, le=36)
    min_move: float = Field(0.01, gt=0)  # in the series' units (pp for policy rates)
    extras: ClassVar[tuple[str, ...]] = ("hikes", "cuts")
    series_keys: ClassVar[tuple[str, ...]] = ("hiking", "cutting")
    firing: ClassVar[str] = (
        "{self.hiking} up {hikes:num} while {self.cutting} down {cuts:num} within {self.within_months} months"
    )
    cleared: ClassVar[str] = (
        "no longer both within {self.within_months} months: {self.hiking} up {hikes:num}, "
        "{self.cutting} down {cuts:num}"
    )

    def frame(self, data: RuleData) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        up = frames.series_of(data, self.hiking, self.name)
        down = frames.series_of(data, self.cutting, self.name)
        if up.empty or down.empty:
            none = pd.DatetimeIndex([], name="date")  # dated even when empty: the engine filters by date
            return frames.frame(
                pd.Series(index=none, dtype="float64"),
                self.min_move,
                pd.Series(index=none, dtype=bool),
                hikes=[],
                cuts=[],
            )
        start = max(up.index[0], down.index[0])
        legs_ids = {"up": self.hiking, "down": self.cutting}
        index = frames.leg_dates(data, legs_ids, {"up": up, "down": down})
        index = index[index >= start]
        hikes = stats.trailing_window_sum(up.diff().clip(lower=0), index, self.within_months)
        cuts = stats.trailing_window_sum((-down.diff()).clip(lower=0), index, self.within_months)
        # A stale leg is not "no move": the rule says nothing on a date either series is older than its limit.
        legs = frames.legs(data, legs_ids, self.name, on=index)
        known = legs.notna().all(axis=1)
        h = pd.Series(hikes, index=index).where(known)
        c = pd.Series(cuts, index=index).where(known)
        value = np.minimum(h, c)
        cond = (h >= self.min_move - 1e-12) & (c >= self.min_move - 1e-12)
        return frames.frame(value, self.min_move, cond, hikes=h, cuts=c)

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.hiking).name} vs {data.info_of(self.cutting).name}"
