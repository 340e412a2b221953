"""The model blocks: [[models]] and [[model_groups]] (one template, one model per market)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.base import MARKET, SLUG, Block
from monitor.limits import MAX_DRAWS, MAX_HORIZON, MAX_LAGS, MIN_WINDOW


class VariableBlock(Block):
    series: str
    transform: Literal["level", "diff", "log", "log_diff", "pct_change", "yoy"] = "level"
    agg: Literal["last", "mean", "sum"] = "last"
    timing: Literal["auto", "kr", "us", "none"] = "auto"  # auto: from the series calendar (XNYS -> us)
    name: str | None = None  # column name in the model; defaults to the series id


class BandsBlock(Block):
    """Bootstrap bands of the spillover measures (monitor/models/bands.py)."""

    level: float = Field(0.9, gt=0, lt=1)  # 0.9: the 5th to 95th percentiles of the draws
    draws: int = Field(500, ge=1, le=MAX_DRAWS)
    block_length: float | None = Field(None, ge=1)  # stationary bootstrap's mean block; absent: iid residuals
    seed: int = Field(0, ge=0)
    interval: Literal["percentile", "bias_corrected"] = "percentile"


class ModelSettings(Block):
    """What a [[models]] block and a [[model_groups]] template share: the estimation settings."""

    label: str = ""
    freq: Literal["D", "M"]
    lags: int | Literal["aic", "bic", "hqic"] = "bic"
    max_lags: int = Field(8, ge=1, le=MAX_LAGS)
    horizon: int = Field(10, ge=1, le=MAX_HORIZON)
    window: int | None = Field(None, ge=MIN_WINDOW)
    tvp: bool = False
    orthogonal: bool = False
    start: date | None = None
    bands: BandsBlock | None = None

    @field_validator("lags")
    @classmethod
    def _lags(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= MAX_LAGS:
            raise ValueError(f"lags must be from 1 to {MAX_LAGS} or one of aic, bic, hqic")
        return v


class ModelBlock(ModelSettings):
    name: str = Field(pattern=SLUG)
    variables: list[VariableBlock] = Field(min_length=2)


class MarketBlock(Block):
    name: str = Field(pattern=MARKET)
    label: str = ""
    variables: list[VariableBlock] = Field(min_length=1)


class ModelGroupBlock(ModelSettings):
    """One model template estimated for each market: the market's variables after the group's common ones.
    Each market's model is named `<group>.<market>` (rules and reports refer to it by that name)."""

    name: str = Field(pattern=SLUG)
    variables: list[VariableBlock] = []  # common to every market (e.g. the US 10-year yield)
    markets: list[MarketBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _template(self) -> ModelGroupBlock:
        if self.window is None and not self.tvp:
            raise ValueError(
                "a model group needs window = W (rolling) or tvp = true: its summary compares each market's latest "
                "measures with their own history"
            )
        return self


# A variable's timing from its series' home market: a US close is known in Seoul the next session.
TIMING = {"XNYS": "us", "XKRX": "kr"}
