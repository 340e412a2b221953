"""spread: one series minus another, op threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from monitor.alerts.ops import Op
from monitor.alerts.rules.base import RuleBase, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class SpreadRule(RuleBase):
    """series minus `minus`, each carrying its last known value forward on the union of their dates while it is
    fresh; from the day either goes stale the spread is unknown (NaN) and the condition does not hold."""

    kind: Literal["spread"]
    series: str
    minus: str
    op: Op
    threshold: float
    extras: ClassVar[tuple[str, ...]] = ("a", "b")
    series_keys: ClassVar[tuple[str, ...]] = ("series", "minus")

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        joined = frames.legs(data, {"a": self.series, "b": self.minus}, self.name)
        joined = joined[joined.index >= joined.dropna().index.min()]  # from the first date both are known
        spread = joined["a"] - joined["b"]
        return frames.frame(
            spread, self.threshold, stats.compare(spread, self.op, self.threshold), a=joined["a"], b=joined["b"]
        )

    def subject(self, data: RuleData) -> str:
        return f"{data.info_of(self.series).name} minus {data.info_of(self.minus).name}"
