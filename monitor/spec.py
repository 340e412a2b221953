"""What a model is: the variables (with their transform, aggregation and timing) and the estimation settings.

The config loader builds these from `[[models]]` blocks; the aligner, the VAR and the spillover engine read them
(so they sit below all three, in `monitor`, not in `monitor.models`).
They validate themselves so that a bad combination fails with one clear line wherever the spec comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor.errors import MonitorError

# The transforms a variable may name (monitor.transforms applies them); here, so a spec is checked without pandas.
TRANSFORMS = ("level", "diff", "log", "log_diff", "pct_change", "yoy", "zscore")
AGGREGATIONS = ("last", "mean", "sum")
TIMINGS = ("us", "kr", "none")
FREQS = ("D", "M")
CRITERIA = ("aic", "bic", "hqic")
INTERVALS = ("percentile", "bias_corrected")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise MonitorError(message)


@dataclass(frozen=True)
class VariableSpec:
    """One model variable.

    series_id: the stored series; name: the column name in panels and tables (defaults to series_id);
    transform: one of TRANSFORMS, applied after alignment; aggregation: how a daily series becomes monthly
    (last, mean or sum; ignored in daily models); timing: "us" for series set by a US close (known in Seoul on
    the next KRX session), "kr" for Seoul-timed series, "none" for series without intraday timing (policy rates,
    monthly statistics).
    """

    series_id: str
    transform: str = "level"
    aggregation: str = "last"
    timing: str = "none"
    name: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.series_id), "a model variable needs a series id")
        _check(
            self.transform in TRANSFORMS,
            f"variable {self.series_id}: unknown transform {self.transform!r} (use one of {', '.join(TRANSFORMS)})",
        )
        _check(
            self.aggregation in AGGREGATIONS,
            f"variable {self.series_id}: unknown aggregation {self.aggregation!r} "
            f"(use one of {', '.join(AGGREGATIONS)})",
        )
        _check(
            self.timing in TIMINGS,
            f"variable {self.series_id}: unknown timing {self.timing!r} (use one of {', '.join(TIMINGS)})",
        )
        if not self.name:
            object.__setattr__(self, "name", self.series_id)


@dataclass(frozen=True)
class TvpSettings:
    """TVP-VAR settings (Antonakakis, Chatziantoniou & Gabauer 2020; defaults of R's ConnectednessApproach).

    prior_window: observations used for the constant-coefficient VAR that sets the prior; None = the first
    200 - p (clamped to what the VAR needs and the rows there are), as ConnectednessApproach's documentation runs
    it (`window.size = 200`). Dates inside the prior window are a burn-in; later dates never see later data.
    """

    kappa1: float = 0.99
    kappa2: float = 0.99
    prior_window: int | None = None

    def __post_init__(self) -> None:
        for label, k in (("kappa1", self.kappa1), ("kappa2", self.kappa2)):
            _check(0.0 < k <= 1.0, f"TVP-VAR {label} must be in (0, 1], got {k}")
        _check(
            self.prior_window is None or self.prior_window > 0,
            f"TVP-VAR prior_window must be a positive number of observations, got {self.prior_window}",
        )


@dataclass(frozen=True)
class BandSpec:
    """Bootstrap confidence bands for the connectedness measures (see `monitor.models.bands`).

    level: coverage of the percentile interval (0.9: the 5th and 95th percentiles of the bootstrap draws);
    draws: bootstrap re-estimations per window; block_length: mean block length of the Politis-Romano stationary
    bootstrap of the residuals (None: iid resampling); seed: the root of every random stream, so that a rerun
    gives the same bands; interval: "percentile" (the quantiles of the draws) or "bias_corrected" (that interval
    shifted by twice the bootstrap estimate of the bias, for weakly connected systems, where the estimates and
    the plain percentile bands sit above the truth).
    """

    level: float = 0.9
    draws: int = 500
    block_length: float | None = None
    seed: int = 0
    interval: str = "percentile"

    def __post_init__(self) -> None:
        _check(
            not isinstance(self.level, bool) and 0.0 < self.level < 1.0,
            f"bands level must be between 0 and 1 (0.9 = the 5th to 95th percentiles), got {self.level!r}",
        )
        _check(
            not isinstance(self.draws, bool) and isinstance(self.draws, int) and self.draws >= 1,
            f"bootstrap draws must be a whole number of at least 1, got {self.draws!r}",
        )
        _check(
            self.block_length is None or (not isinstance(self.block_length, bool) and self.block_length >= 1),
            f"block length must be at least 1 observation (or none for iid resampling), got {self.block_length!r}",
        )
        _check(
            not isinstance(self.seed, bool) and isinstance(self.seed, int) and self.seed >= 0,
            f"seed must be a non-negative whole number, got {self.seed!r}",
        )
        _check(
            self.interval in INTERVALS,
            f"band interval must be one of {', '.join(INTERVALS)}, got {self.interval!r}",
        )

    def settings(self) -> dict[str, float | int | str | None]:
        """What the bands depend on besides the data (stored with a result, compared before reusing it)."""
        return {
            "level": self.level,
            "draws": self.draws,
            "block_length": self.block_length,
            "seed": self.seed,
            "interval": self.interval,
        }


@dataclass(frozen=True)
class ModelSpec:
    """A VAR / spillover model.

    lags: a fixed order, or an information criterion ("aic", "bic", "hqic") searched up to max_lags.
    horizon: H, the number of MA terms h = 0..H-1 in the forecast-error variance decomposition.
    window: rolling window in raw observations (W rows of data), or None; tvp: TVP-VAR settings, or None.
    orthogonal: Cholesky (ordering-dependent) FEVD instead of the generalized one.
    start: first date of the estimation sample (None: all the data).
    bands: bootstrap bands for the full-sample and rolling measures, or None.
    """

    name: str
    freq: str
    variables: tuple[VariableSpec, ...]
    lags: int | str = "bic"
    max_lags: int = 8
    horizon: int = 10
    window: int | None = None
    tvp: TvpSettings | None = None
    orthogonal: bool = False
    start: date | None = None
    label: str = ""
    bands: BandSpec | None = None

    def __post_init__(self) -> None:
        _check(bool(self.name), "a model needs a name")
        where = f"model {self.name}"
        _check(self.freq in FREQS, f"{where}: frequency must be one of {', '.join(FREQS)}, got {self.freq!r}")
        _check(len(self.variables) >= 2, f"{where}: needs at least two variables, got {len(self.variables)}")
        names = [v.name for v in self.variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        _check(not dupes, f"{where}: variable names must be unique, repeated: {', '.join(dupes)}")
        if isinstance(self.lags, str):
            _check(
                self.lags in CRITERIA,
                f"{where}: lags must be a positive integer or one of {', '.join(CRITERIA)}, got {self.lags!r}",
            )
            _check(self.max_lags >= 1, f"{where}: max_lags must be at least 1, got {self.max_lags}")
        else:
            _check(
                not isinstance(self.lags, bool) and self.lags >= 1,
                f"{where}: lags must be a positive integer, got {self.lags}",
            )
        _check(self.horizon >= 1, f"{where}: horizon must be at least 1, got {self.horizon}")
        _check(self.window is None or self.window > 0, f"{where}: window must be positive, got {self.window}")
        _check(
            self.window is None or self.tvp is None,
            f"{where}: choose either a rolling window or a TVP-VAR, not both",
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


@dataclass(frozen=True)
class MarketModel:
    """One market of a model group: its name (KR, JP ...), label and the model the group's template makes of it."""

    market: str
    label: str
    spec: ModelSpec


@dataclass(frozen=True)
class GroupSpec:
    """A model template applied to many markets (config `[[model_groups]]`); each market's model is named
    `<group>.<market>`."""

    name: str
    label: str
    markets: tuple[MarketModel, ...]

    def __post_init__(self) -> None:
        _check(bool(self.name), "a model group needs a name")
        _check(bool(self.markets), f"model group {self.name}: needs at least one market")
        names = [m.market for m in self.markets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        _check(not dupes, f"model group {self.name}: market names must be unique, repeated: {', '.join(dupes)}")
