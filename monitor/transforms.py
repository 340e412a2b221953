"""Per-variable transforms for models and reports, and stationarity tests reported (never silently "fixed").

Units: diff in the series' units; log and log_diff in natural-log units (log_diff of a price is a log return);
pct_change and yoy in percent. yoy compares with the same period one year earlier (`yoy`): the same month for
monthly data, quarter for quarterly, week (52 weeks back) for weekly, year for annual, NaN when that period has
no observation (never an older one: with a month missing, 12 rows back is 13 months back); for daily and
business-day data the value as of the same calendar day a year before (the last on or before it, at most a week
older). Models and rules (monitor.alerts.stats) both use this one definition.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.spec import TRANSFORMS

# yoy: the pandas period of each frequency and how many of them make a year.
YOY_PERIODS = {"W": ("W-SUN", 52), "M": ("M", 12), "Q": ("Q-DEC", 4), "A": ("Y-DEC", 1)}
DAILY = ("D", "B")
# A daily value "as of" a day a year before is at most a week older than that day (a long holiday), never more.
_DAILY_YOY_TOLERANCE = pd.Timedelta(days=7)


def infer_freq(index: pd.Index) -> str:
    """D, W, M, Q or A from the median spacing of a date index (D also covers business-day data)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise InputDataError("cannot tell the frequency of a series with fewer than two dated observations")
    days = float(np.median(np.diff(index.as_unit("s").asi8)) / 86_400)
    for limit, freq in ((4.0, "D"), (10.0, "W"), (45.0, "M"), (135.0, "Q")):
        if days <= limit:
            return freq
    return "A"


def _positive(series: pd.Series, how: str) -> pd.Series:
    bad = series[series <= 0]
    if len(bad):
        raise InputDataError(
            f"{how} of series {series.name} needs positive values; {len(bad)} are zero or negative "
            f"(first at {bad.index[0]}: {bad.iloc[0]}); use diff or pct_change instead"
        )
    return series


def transform(series: pd.Series, how: str, *, freq: str | None = None) -> pd.Series:
    """Apply one transform (see TRANSFORMS) to a dated series; the first values become NaN where a transform
    needs history. freq (D, B, W, M, Q, A) matters only for yoy and is inferred from the index when omitted."""
    if how not in TRANSFORMS:
        raise InputDataError(f"unknown transform {how!r} for series {series.name}; use one of {', '.join(TRANSFORMS)}")
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise InputDataError(f"series {series.name} is not numeric; transforms need numbers")
    s = series.astype(float)
    if how == "level":
        return s
    if how == "diff":
        return s.diff()
    if how == "log":
        return np.log(_positive(s, how))
    if how == "log_diff":
        return np.log(_positive(s, how)).diff()
    if how == "pct_change":
        return 100.0 * (s / s.shift(1) - 1.0)
    if how == "zscore":
        return (s - s.mean()) / s.std()
    return yoy(s, freq)


def yoy(series: pd.Series, freq: str | None = None) -> pd.Series:
    """Percent change on the same period a year before (see the module docstring); NaN where that is missing.
    freq (D, B, W, M, Q, A) is inferred from the index when omitted."""
    if not isinstance(series.index, pd.DatetimeIndex):
        raise InputDataError(f"yoy of series {series.name} needs a date index")
    s = series.astype(float)
    clean = s.dropna()
    if len(clean) < 2 and freq is None:  # no frequency to tell, and nothing a year before anyway
        return s * np.nan
    f = freq or infer_freq(clean.index)
    if f in YOY_PERIODS:
        period, lag = YOY_PERIODS[f]
        by_period = pd.Series(clean.to_numpy(), index=clean.index.to_period(period))
        by_period = by_period[~by_period.index.duplicated(keep="last")]
        year_ago = by_period.reindex(s.index.to_period(period) - lag).to_numpy()
    elif f in DAILY:
        year_ago = clean.reindex(
            s.index - pd.DateOffset(years=1), method="ffill", tolerance=_DAILY_YOY_TOLERANCE
        ).to_numpy()
    else:
        raise InputDataError(f"unknown frequency {f!r} for yoy of series {series.name}; use D, B, W, M, Q or A")
    return pd.Series(100.0 * (s.to_numpy() / year_ago - 1.0), index=s.index, name=s.name)


def transform_frame(frame: pd.DataFrame, how: str | Mapping[str, str], *, freq: str | None = None) -> pd.DataFrame:
    """Transform every column (one transform for all, or a mapping column -> transform; unlisted: level)."""
    out = {}
    for col in frame.columns:
        name = how if isinstance(how, str) else how.get(col, "level")
        out[col] = transform(frame[col], name, freq=freq)
    return pd.DataFrame(out, index=frame.index)


def _kpss(x: np.ndarray, regression: str) -> tuple[float, float, str]:
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = kpss(x, regression=regression, nlags="auto", result_object=True)
    bound = ""
    for w in caught:
        if issubclass(w.category, InterpolationWarning):
            # The statistic is outside the tabulated range: the p-value is only a bound.
            bound = "<" if "smaller" in str(w.message) else ">"
    return float(res.statistic), float(res.pvalue), bound


def stationarity_table(frame: pd.DataFrame, *, alpha: float = 0.05, regression: str = "c") -> pd.DataFrame:
    """ADF (null: unit root) and KPSS (null: stationary) per column, with a plain-words verdict.

    Columns: n, adf_stat, adf_pvalue, adf_lags, kpss_stat, kpss_pvalue, kpss_bound ("<" or ">" when the p-value
    is the edge of the KPSS table), verdict: stationary, unit root, conflicting, inconclusive, too short,
    constant. regression: "c" (level) or "ct" (trend) stationarity.
    """
    from statsmodels.tsa.stattools import adfuller

    rows = []
    for col in frame.columns:
        x = frame[col].dropna().to_numpy(dtype=float)
        row: dict[str, object] = {"variable": str(col), "n": len(x)}
        if len(x) < 20:
            row["verdict"] = "too short"
        elif np.ptp(x) == 0:
            row["verdict"] = "constant"
        else:
            adf = adfuller(x, regression=regression, autolag="AIC", result_object=True)
            adf_p = float(adf.pvalue)
            kpss_stat, kpss_p, bound = _kpss(x, regression)
            unit_root = adf_p >= alpha
            not_stationary = kpss_p < alpha
            if not unit_root and not not_stationary:
                verdict = "stationary"
            elif unit_root and not_stationary:
                verdict = "unit root"
            elif not unit_root and not_stationary:
                verdict = "conflicting"
            else:
                verdict = "inconclusive"
            row.update(
                adf_stat=float(adf.statistic),
                adf_pvalue=adf_p,
                adf_lags=int(adf.lags),
                kpss_stat=kpss_stat,
                kpss_pvalue=kpss_p,
                kpss_bound=bound,
                verdict=verdict,
            )
        rows.append(row)
    cols = ["variable", "n", "adf_stat", "adf_pvalue", "adf_lags", "kpss_stat", "kpss_pvalue", "kpss_bound", "verdict"]
    return pd.DataFrame(rows, columns=cols).set_index("variable")
