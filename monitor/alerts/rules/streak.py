"""streak: `n` consecutive observations with value op threshold."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from monitor.alerts import wording
from monitor.alerts.ops import Op
from monitor.alerts.rules.base import SeriesInput, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class StreakRule(SeriesInput):
    """`n` consecutive observations (on the series' own calendar) with input op level.
    value = the current run length; threshold = n; extras: input (today's value), level."""

    kind: Literal["streak"]
    op: Op
    level: float = Field(alias="threshold")
    n: int = Field(ge=1, le=10_000)
    extras: ClassVar[tuple[str, ...]] = ("input", "level")
    firing: ClassVar[str] = (
        "{label} {self.op} {self.level:num} for {value:.0f} observations running (fires at {self.n})"
    )
    cleared: ClassVar[str] = "run of {label} {self.op} {self.level:num} broke"

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.input(data)
        run = stats.run_length(stats.compare(x, self.op, self.level)).astype("float64")
        return frames.frame(run, float(self.n), run >= self.n, input=x, level=self.level)

    def stopped_text(self, at_exit: Mapping[str, Any], on: date, now: Mapping[str, Any] | None) -> str:
        # The value is the run's length: say the current one, which a broken run restarts from 0.
        current = int((now or at_exit)["value"])
        return wording.stopped(self.clear_reason(at_exit), on, f"current run {current} (fires at {self.n})")

    def peak_sign(self) -> int:
        return 1  # the value is the run's length: an episode's peak is its longest run, whatever `op` compares
