"""data_health: a series stale, missing, or its source down (one alert instance per series)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from monitor.alerts import wording
from monitor.alerts.rules.base import Evaluation, RuleBase, register

if TYPE_CHECKING:
    from monitor.alerts.data import RuleData


@register
class DataHealthRule(RuleBase):
    """One alert instance per series (label `series`) that is stale, missing or whose source failed on the run
    date. value = age of the last observation in days (after its period ends); threshold = stale_after_days.
    The engine's inhibit stage mutes every other rule reading an unhealthy series and names them on this alert."""

    kind: Literal["data_health"]
    series: list[str] = ["*"]  # "*" = every [[series]] block
    checks: list[Literal["stale", "missing", "source_down"]] = ["stale", "missing", "source_down"]
    extras: ClassVar[tuple[str, ...]] = ("problem",)
    series_keys: ClassVar[tuple[str, ...]] = ("series",)

    def targets(self, data: RuleData) -> list[str]:
        if "*" in self.series:
            # A preferred-sources series is stale only when the source of its latest value is, and that source
            # has its own alert: "*" means the [[series]] blocks.
            return sorted(sid for sid in set(data.info) | set(data.series) if not data.info_of(sid).prefer)
        return list(self.series)

    def evaluate(self, data: RuleData) -> list[Evaluation]:
        import numpy as np
        import pandas as pd

        from monitor.alerts.data import health_of
        from monitor.alerts.rules import frames

        out = []
        day = pd.DatetimeIndex([pd.Timestamp(data.as_of)], name="date")
        for sid in self.targets(data):
            h = data.health.get(sid)
            if h is None:
                s = data.series.get(sid)
                last = s.dropna().index[-1].date() if s is not None and len(s.dropna()) else None
                h = health_of(data.info_of(sid), last, data.as_of)
            bad = (
                ("stale" in self.checks and h.stale and not h.missing)
                or ("missing" in self.checks and h.missing)
                or ("source_down" in self.checks and h.down)
            )
            value = float(h.age_days) if h.age_days is not None else np.nan
            thr = float(h.stale_after_days) if h.stale_after_days is not None else np.nan
            values, condition = pd.Series([value], index=day), pd.Series([bool(bad)], index=day)
            if "stale" in self.checks and h.ages is not None and len(h.ages):
                # Every day since the series' first value, stale or not as that day knew it, then today as the run
                # sees it (a failed fetch counts today only): the state on a day is the same whichever days
                # were evaluated before it (order of runs never changes it), as for the other rules.
                values = h.ages.rename_axis("date")
                condition = values > thr
                condition.iloc[-1] = bool(bad)
            # Each day's own problem: an earlier day's stale spell in days; today's as the run sees it.
            problem = [
                wording.stale_days(age, thr) if stale else "" for age, stale in zip(values, condition, strict=True)
            ]
            problem[-1] = wording.health_problem(h)
            frame = frames.frame(values, thr, condition, problem=problem)
            out.append(Evaluation(self, frame, {"series": sid}, (sid,)))
        return out

    def subject(self, data: RuleData) -> str:
        return "input data"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        if ctx.get("problem"):
            return f"{ctx['series']}: {ctx['problem']}"
        return wording.health_recovered(ctx["series"], ctx["value"], ctx["threshold"])  # healthy on that day

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_recovered(ctx["series"], ctx["value"], ctx["threshold"])

    def value_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_age(ctx["value"])

    def level_text(self, ctx: Mapping[str, Any]) -> str:
        return wording.health_limit(ctx["threshold"])
