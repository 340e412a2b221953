"""hysteresis: an episode that starts at `enter` and ends beyond `exit` (the words emp shares)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from monitor.alerts import wording
from monitor.alerts.info import fmt_number
from monitor.alerts.rules.base import RuleBase, SeriesInput, register

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.data import RuleData


class Episode(RuleBase):
    """The words of a rule that holds from `enter` until beyond `exit`, on the side `direction`."""

    enter: float
    exit: float

    def side(self) -> Literal["above", "below"]:
        return "above"

    def default_summary(self, ctx: Mapping[str, Any]) -> str:
        return wording.episode(ctx["label"], self.value_text(ctx), self.side(), self.enter, self.exit)

    def clear_reason(self, ctx: Mapping[str, Any]) -> str:
        return wording.exited(ctx["label"], self.value_text(ctx), self.side(), fmt_number(self.exit))


def check_levels(direction: str, enter: float, exit: float) -> None:
    if direction == "above" and exit > enter:
        raise ValueError(f"direction above needs exit <= enter (got enter {enter}, exit {exit})")
    if direction == "below" and exit < enter:
        raise ValueError(f"direction below needs exit >= enter (got enter {enter}, exit {exit})")


@register
class HysteresisRule(SeriesInput, Episode):
    """Episode: above: enter when value >= enter, leave when value < exit (exit <= enter);
    below: enter when value <= enter, leave when value > exit (exit >= enter).
    threshold = the level that would change the state on that date."""

    kind: Literal["hysteresis"]
    direction: Literal["above", "below"] = "above"

    @model_validator(mode="after")
    def _levels(self) -> HysteresisRule:
        check_levels(self.direction, self.enter, self.exit)
        return self

    def side(self) -> Literal["above", "below"]:
        return self.direction

    def frame(self, data: RuleData) -> pd.DataFrame:
        from monitor.alerts.rules import frames

        return frames.hysteresis_frame(self.input(data), self.enter, self.exit, self.direction)
