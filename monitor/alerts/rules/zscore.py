"""zscore: a z-score (standard, or robust: median/MAD) over a trailing window that excludes today, op threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from monitor.alerts.ops import Op
from monitor.alerts.rules.base import SeriesInput, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


@register
class ZScoreRule(SeriesInput):
    """z_t = (x_t - centre) / scale over the `window` observations before t (t excluded).
    standard: mean and standard deviation; robust: median and 1.4826 * median absolute deviation."""

    kind: Literal["zscore"]
    window: int = Field(ge=5, le=10_000)
    min_periods: int | None = Field(None, ge=3)
    method: Literal["standard", "robust"] = "standard"
    two_sided: bool = False  # compare |z| with the threshold
    op: Op = ">="
    threshold: float
    extras: ClassVar[tuple[str, ...]] = ("input",)
    digits: ClassVar[int | None] = 2

    @model_validator(mode="after")
    def _periods(self) -> ZScoreRule:
        if self.min_periods is not None and self.min_periods > self.window:
            raise ValueError(f"min_periods ({self.min_periods}) must not exceed window ({self.window})")
        return self

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts import stats
        from monitor.alerts.rules import frames

        x = self.input(data)
        mp = self.min_periods or self.window
        fn = stats.trailing_robust_zscore if self.method == "robust" else stats.trailing_zscore
        z = fn(x, self.window, mp)
        value = z.abs() if self.two_sided else z
        return frames.frame(value, self.threshold, stats.compare(value, self.op, self.threshold), input=x)

    def subject(self, data: RuleData) -> str:
        kind = "robust z-score" if self.method == "robust" else "z-score"
        return f"{super().subject(data)}, {kind} ({self.window} obs)"
