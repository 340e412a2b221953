"""Capital flows at risk (Gelos, Gornicka, Koepke, Sahay & Sgherri, IMF WP 19/279; JIE 2022) for foreign
purchases of Korean stocks: quantile regressions (statsmodels `QuantReg`) of the next h sessions' cumulative
foreign net purchases on drivers known today, estimated point in time.

Target at origin t: y_t = sum of the flows of sessions t+1..t+h. Drivers X_t are built from series known at t
(`DriverSpec`; defaults: VIX, the 20-session change of the US-JP 10-year gap, KRW/USD 20-session momentum, the
BOK-Fed policy-rate gap) plus a constant. At each origin t the quantile regressions are fitted on the pairs
(X_s, y_s) whose target is already realised at t (s + h <= t), all of them (expanding) or the last `window`; the
forecast is the fitted quantile at X_t. So no forecast uses data from after its origin. `refit_every` > 1 keeps a
fit for that many origins (older fits only use older data: still point in time); the last origin is always
refitted, so the stored coefficients are those behind the latest forecast.

A past origin's forecast depends only on the model frame's rows up to that origin, so a run given the result an
earlier run stored (its forecasts and the frame they were made on) keeps the forecasts of the origins before the
first row that is new or revised since, and fits only from there (from the fit in force there, with
`refit_every` > 1); the answer is the same as a fit of every origin, whatever the order of the runs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models.incremental import revised
from monitor.models.results import ModelResult

TRANSFORMS = ("level", "diff", "log_diff")


@dataclass(frozen=True)
class DriverSpec:
    """One driver: `series` (minus `minus`, if given), then `transform` over `periods` sessions (level: as is;
    diff: change; log_diff: 100 x log change, percent)."""

    name: str
    series: str
    transform: str = "level"
    periods: int = 20
    minus: str | None = None

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise InputDataError(
                f"driver {self.name}: unknown transform {self.transform!r} (use one of {', '.join(TRANSFORMS)})"
            )
        if self.periods < 1:
            raise InputDataError(f"driver {self.name}: periods must be at least 1, got {self.periods}")

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.series,) if self.minus is None else (self.series, self.minus)

    def compute(self, panel: pd.DataFrame) -> pd.Series:
        missing = [s for s in self.inputs if s not in panel.columns]
        if missing:
            raise InputDataError(f"driver {self.name} needs series {', '.join(missing)}, which the data lack")
        x = panel[self.series].astype(float)
        if self.minus is not None:
            x = x - panel[self.minus].astype(float)
        if self.transform == "diff":
            x = x.diff(self.periods)
        elif self.transform == "log_diff":
            x = 100.0 * np.log(x).diff(self.periods)
        return x.rename(self.name)


DEFAULT_DRIVERS = (
    DriverSpec("vix", "vix"),
    DriverSpec("us_jp_10y_change", "us_10y", "diff", 20, minus="jgb_10y"),
    DriverSpec("krw_momentum", "krw_usd_best", "log_diff", 20),
    DriverSpec("bok_fed_gap", "bok_rate", minus="fed_upper"),
)
FLOWS = "foreign_net_kospi"
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class FarSettings:
    """horizon: sessions summed in the target; window: fitting pairs (None: expanding); min_obs: fewest pairs
    before a first forecast; refit_every: origins between refits."""

    horizon: int = 20
    quantiles: tuple[float, ...] = QUANTILES
    window: int | None = None
    min_obs: int = 120
    refit_every: int = 1
    drivers: tuple[DriverSpec, ...] = DEFAULT_DRIVERS
    flows: str = FLOWS

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise InputDataError(f"flows-at-risk horizon must be at least 1 session, got {self.horizon}")
        if not self.quantiles or not all(0.0 < q < 1.0 for q in self.quantiles):
            raise InputDataError(f"flows-at-risk quantiles must be between 0 and 1, got {list(self.quantiles)}")
        if self.min_obs < len(self.drivers) + 2:
            raise InputDataError(
                f"flows-at-risk min_obs must be at least {len(self.drivers) + 2} (drivers + constant + 1), "
                f"got {self.min_obs}"
            )
        if self.window is not None and self.window < self.min_obs:
            raise InputDataError(f"flows-at-risk window ({self.window}) must be at least min_obs ({self.min_obs})")
        if self.refit_every < 1:
            raise InputDataError(f"flows-at-risk refit_every must be at least 1, got {self.refit_every}")


def design(panel: pd.DataFrame, settings: FarSettings) -> tuple[pd.Series, pd.DataFrame]:
    """The target y_t (sum of flows t+1..t+h; NaN where not yet realised) and drivers X_t with a constant."""
    if settings.flows not in panel.columns:
        raise InputDataError(f"flows-at-risk needs the series {settings.flows}, which the data lack")
    flows = panel[settings.flows].astype(float)
    h = settings.horizon
    target = flows.rolling(h, min_periods=h).sum().shift(-h).rename("target")
    x = pd.concat([d.compute(panel) for d in settings.drivers], axis=1)
    x.insert(0, "const", 1.0)
    return target, x


def target_scale(y: np.ndarray) -> float:
    """The power of ten near the target's spread. QuantReg stops when no coefficient moves by more than an
    absolute 1e-6, which targets in millions (KRW flows) never reach: it then runs its 1,000 iterations and may
    stop far from the optimum. Fitting y / scale and multiplying the coefficients back avoids that."""
    spread = float(np.std(y))
    return 10.0 ** round(np.log10(spread)) if spread > 0 else 1.0


def fit_quantiles(y: np.ndarray, x: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Coefficients (quantiles, regressors) of statsmodels' QuantReg of y on x (x holds the constant), fitted on
    y / `target_scale(y)` and scaled back."""
    from statsmodels.regression.quantile_regression import QuantReg

    scale = target_scale(y)
    model = QuantReg(y / scale, x)
    out = np.empty((len(quantiles), x.shape[1]))
    with warnings.catch_warnings():
        # QuantReg warns about its iteration limit and near-singular designs; a forecast is still usable and
        # the coverage in the backtest judges it.
        warnings.simplefilter("ignore")
        for k, q in enumerate(quantiles):
            out[k] = np.asarray(model.fit(q=q).params, dtype=float)
    return scale * out


@dataclass(frozen=True, eq=False)
class FarResult:
    """Per origin date: the forecast quantiles (columns q05, q50, q95 ...), the realised target (NaN until all
    h sessions are in), and the pairs the fit used; params: the latest fit's coefficients (quantile x
    regressor)."""

    forecasts: pd.DataFrame
    params: pd.DataFrame
    settings: FarSettings = field(default_factory=FarSettings)
    panel: pd.DataFrame | None = None  # the model frame the forecasts were made on (what a later run compares)
    computed: pd.DatetimeIndex | None = None  # the origins forecast in this call (the others were kept)

    def coverage(self, quantile: float = 0.05) -> tuple[float, int]:
        """Share of realised targets below the forecast `quantile`, and how many forecasts were realised."""
        col = quantile_column(quantile)
        done = self.forecasts.dropna(subset=["realised", col])
        if done.empty:
            return float("nan"), 0
        return float((done["realised"] < done[col]).mean()), len(done)


def quantile_column(q: float) -> str:
    return f"q{round(100 * q):02d}"


def flows_at_risk(
    panel: pd.DataFrame, settings: FarSettings | None = None, stored: FarResult | None = None
) -> FarResult:
    """Point-in-time flows-at-risk forecasts for every origin with at least `min_obs` realised pairs.

    stored: an earlier result with the same settings and its `panel`; the forecasts of origins before the first
    row of `panel` that differs from the stored frame are kept from it (see the module's docstring)."""
    settings = settings or FarSettings()
    target, x = design(panel, settings)
    h = settings.horizon
    complete = x.notna().all(axis=1).to_numpy()
    y_all = target.to_numpy()
    x_all = x.to_numpy()
    origins, fits = _schedule(complete, settings)
    if not origins:
        raise InputDataError(
            f"flows-at-risk needs at least {settings.min_obs} realised {h}-session targets with every driver "
            f"present; the data have fewer (lengthen the history or lower min_obs)"
        )
    order = np.argsort(settings.quantiles)
    columns = [quantile_column(settings.quantiles[k]) for k in order]
    dates = panel.index[origins]
    keep = _kept(stored, panel, origins, fits, settings)
    forecasts = np.empty((len(origins), len(columns)))
    used = np.empty(len(origins), dtype=np.int64)
    if keep:
        assert stored is not None
        kept = stored.forecasts.loc[dates[:keep]]
        forecasts[:keep] = kept[columns].to_numpy(dtype=float)
        used[:keep] = kept["nobs"].to_numpy(dtype=np.int64)
    params, nobs = np.empty(0), 0
    for k in range(keep, len(origins)):
        i = origins[k]
        if fits[k]:
            # Pairs realised by origin i: s + h <= i, with complete drivers.
            usable = np.flatnonzero(complete[: max(i - h + 1, 0)])
            if settings.window is not None:
                usable = usable[-settings.window :]
            params = fit_quantiles(y_all[usable], x_all[usable], settings.quantiles)
            nobs = len(usable)
        # Sorted: separately fitted quantiles can cross; rearranging them is the usual fix (Chernozhukov,
        # Fernandez-Val & Galichon 2010) and keeps the 5th percentile the lowest forecast.
        forecasts[k] = np.sort(params @ x_all[i])
        used[k] = nobs
    frame = pd.DataFrame(forecasts, index=dates, columns=columns)
    frame["realised"] = y_all[origins]  # known only later: never kept from a stored result
    frame["nobs"] = used
    frame.index.name = "date"
    table = pd.DataFrame(params, index=[quantile_column(q) for q in settings.quantiles], columns=x.columns)
    return FarResult(frame, table, settings, panel=panel, computed=pd.DatetimeIndex(dates[keep:]))


def _schedule(complete: np.ndarray, settings: FarSettings) -> tuple[list[int], list[bool]]:
    """The origins (rows with complete drivers and at least min_obs realised pairs) and, for each, whether its
    forecast comes from a fit of its own (every `refit_every` rows, and always at the last complete row) or
    from the last fit before it. Depends only on which rows are complete, so it costs no fitting."""
    h = settings.horizon
    last = int(np.flatnonzero(complete)[-1]) if complete.any() else -1  # always refitted: `params` is current
    realised = np.concatenate([[0], np.cumsum(complete)])  # realised[j]: complete rows before row j
    origins: list[int] = []
    fits: list[bool] = []
    fitted_at: int | None = None
    for i in map(int, np.flatnonzero(complete)):
        n = int(realised[max(i - h + 1, 0)])
        if settings.window is not None:
            n = min(n, settings.window)
        if n < settings.min_obs:
            continue
        fit = fitted_at is None or i - fitted_at >= settings.refit_every or i == last
        if fit:
            fitted_at = i
        origins.append(i)
        fits.append(fit)
    return origins, fits


def _kept(
    stored: FarResult | None, panel: pd.DataFrame, origins: list[int], fits: list[bool], settings: FarSettings
) -> int:
    """How many of the first origins keep their stored forecasts: those before the first row that is new or
    revised, before the stored result's last origin (refitted then whatever the schedule, so perhaps not as a
    fit of today's would have it) and before the fit in force there."""
    if stored is None or stored.panel is None or stored.settings != settings or not len(stored.forecasts):
        return 0
    changed = first_change(stored.panel, panel)
    stored_last = stored.panel.index.get_indexer([stored.forecasts.index[-1]])[0]
    if stored_last < 0:
        return 0
    boundary = min(changed, int(stored_last))
    k = int(np.searchsorted(origins, boundary))  # the first origin to forecast again
    if k == len(origins):
        return 0  # nothing to keep; cannot happen with the last origin always refitted, but stay safe
    while not fits[k]:  # its forecast comes from an earlier fit: start from that fit
        k -= 1
    if not panel.index[origins[:k]].isin(stored.forecasts.index).all():
        return 0  # the stored forecasts do not cover what they should: fit everything
    return k


def first_change(old: pd.DataFrame, new: pd.DataFrame) -> int:
    """The first row of `new` that differs from `old`: another date, a value revised (`incremental.revised`),
    appearing or gone, or the first row past `old`'s end."""
    if list(old.columns) != list(new.columns):
        return 0
    n = min(len(old), len(new))
    same_dates = np.asarray(old.index[:n] == new.index[:n])
    same = same_dates & ~revised(old.to_numpy(dtype=float)[:n], new.to_numpy(dtype=float)[:n])
    return n if same.all() else int(np.argmin(same))


def far_panel(data: Mapping[str, pd.Series], settings: FarSettings) -> pd.DataFrame:
    """The model frame on the flow series' dates: each driver series (as known at the run's date) taken at its
    last value on or before each date (a US close dated t is known before Seoul's next session)."""
    flows = data.get(settings.flows)
    if flows is None or flows.dropna().empty:
        raise InputDataError(f"flows-at-risk: no data for the series {settings.flows}")
    flows = flows.dropna().astype(float).sort_index()
    index = pd.DatetimeIndex(flows.index)
    inputs = {s for d in settings.drivers for s in d.inputs}
    missing = sorted(s for s in inputs if data.get(s) is None or data[s].dropna().empty)
    if missing:
        raise InputDataError(f"flows-at-risk: no data for the driver series {', '.join(missing)}")
    columns = {settings.flows: flows}
    for sid in sorted(inputs):
        s = data[sid].dropna().astype(float).sort_index()
        columns[sid] = s.reindex(index.union(s.index)).ffill().reindex(index)
    return pd.DataFrame(columns, index=index)


def far_result(
    name: str,
    label: str,
    data: Mapping[str, pd.Series],
    settings: FarSettings,
    as_of: date,
    previous: ModelResult | None = None,
) -> ModelResult:
    """The forecasts as a stored model result: `rolling` holds q05, q50, q95, realised and nobs per origin date,
    `extra["flows_at_risk"]` the latest coefficients and the settings (what the rule, chart and backtest read),
    `inputs` the model frame. previous: a result stored by an earlier run, whose forecasts are kept where the data
    they were made on are unchanged."""
    panel = far_panel(data, settings)
    result = flows_at_risk(panel, settings, stored_far(previous, settings))
    share, count = result.coverage(0.05)
    extra = {
        "flows_at_risk": {
            "params": {q: dict(row) for q, row in result.params.to_dict(orient="index").items()},
            "horizon": settings.horizon,
            "window": settings.window,
            "quantiles": list(settings.quantiles),
            "drivers": [d.name for d in settings.drivers],
            "coverage_q05": None if count == 0 else share,
            "realised_forecasts": count,
            "settings": settings_dict(settings),
        }
    }
    note = (
        f"flows at risk: {len(result.forecasts)} point-in-time forecasts of the next {settings.horizon} sessions; "
        + (f"{share:.1%} of the {count} realised fell below the 5th percentile" if count else "none realised yet")
    )
    return ModelResult(
        name=name,
        label=label,
        freq="D",
        as_of=as_of,
        variables=(settings.flows, *(d.name for d in settings.drivers)),
        series=(settings.flows, *sorted({s for d in settings.drivers for s in d.inputs})),
        horizon=settings.horizon,
        window=settings.window,
        method="flows at risk",
        sample_start=panel.index[0].date(),
        sample_end=panel.index[-1].date(),
        nobs=len(panel),
        rolling=result.forecasts,
        inputs=panel,
        notes=(note,),
        extra=extra,
    )


def settings_dict(settings: FarSettings) -> dict[str, Any]:
    """The settings as stored with a result (JSON: lists for tuples)."""
    return json.loads(json.dumps(asdict(settings)))


def stored_far(previous: ModelResult | None, settings: FarSettings) -> FarResult | None:
    """A stored flows-at-risk result as `flows_at_risk` can keep forecasts from: None unless it was made with the
    same settings and stored its model frame (a result of an earlier version did not)."""
    if previous is None or previous.error or previous.rolling is None or previous.inputs is None:
        return None
    if previous.extra.get("flows_at_risk", {}).get("settings") != settings_dict(settings):
        return None
    return FarResult(previous.rolling, pd.DataFrame(), settings, panel=previous.inputs)
