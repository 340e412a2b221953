"""The US-Japan yield gap and foreign flows into KOSPI: how strongly do foreigners' daily net purchases move with
changes in the gap?

The gap is the US Treasury yield minus the JGB yield of the same tenor, in percentage points (10-year: us_10y -
jgb_10y; 2-year: us_2y - jgb_2y). Both legs are placed on Seoul sessions as the model aligner places them: a US
close is known in Seoul on the next session, the JGB (Tokyo, same time zone) and the flows on the session itself.

The response is a rolling OLS over `window` sessions (250, about a year) of the day's foreign net purchases
(100 million KRW) on the day's change in the gap (pp), with an intercept:
    flows_t = a + beta * d(gap)_t + e_t
beta, its standard error and its `level` confidence band (Student t, n - 2 degrees of freedom) are stored per
window end as a `ModelResult` (name `gap_flows`, rolling columns beta, beta_lo, beta_hi, se), so the run records it
and rules read it like any model's rolling results. beta < 0: foreigners sell KOSPI when the gap widens (a wider
US-Japan gap = a weaker yen-funded carry into Asia). The sums are pandas' rolling (co)variances, not a regression
library, so the test can check each window against statsmodels' OLS independently.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from monitor.align import daily_panel
from monitor.errors import InputDataError
from monitor.models.results import ModelResult
from monitor.spec import VariableSpec

GAPS = {"10y": ("us_10y", "jgb_10y"), "2y": ("us_2y", "jgb_2y")}  # tenor -> (US series, JGB series)


@dataclass(frozen=True)
class FlowResponseSpec:
    name: str = "gap_flows"
    label: str = "Foreign net purchases of KOSPI on the US-Japan 10-year yield gap (rolling OLS)"
    us: str = "us_10y"
    japan: str = "jgb_10y"
    flows: str = "foreign_net_kospi"
    window: int = 250
    level: float = 0.9

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.us, self.japan, self.flows)


def gap_frame(data: Mapping[str, pd.Series], us: str, japan: str, flows: str, as_of: date) -> pd.DataFrame:
    """Columns gap (pp) and flows on Seoul sessions up to as_of, rows where all three inputs are known."""
    variables = (
        VariableSpec(us, timing="us", name="us"),
        VariableSpec(japan, timing="kr", name="japan"),
        VariableSpec(flows, timing="kr", name="flows"),
    )
    frame = daily_panel(data, variables, pd.Timestamp(as_of)).frame
    return pd.DataFrame({"gap": frame["us"] - frame["japan"], "flows": frame["flows"]})


def yield_gap(data: Mapping[str, pd.Series], tenor: str, as_of: date) -> pd.Series:
    """US minus JGB yield of a tenor (pp) on Seoul sessions up to as_of (the gap chart's line)."""
    us, japan = GAPS[tenor]
    variables = (VariableSpec(us, timing="us", name="us"), VariableSpec(japan, timing="kr", name="japan"))
    frame = daily_panel(data, variables, pd.Timestamp(as_of)).frame
    return (frame["us"] - frame["japan"]).rename(f"gap_{tenor}")


def rolling_response(x: pd.Series, y: pd.Series, window: int, level: float) -> pd.DataFrame:
    """Per window end: beta of y on x with an intercept over the last `window` rows, its standard error and the
    `level` two-sided t band. Windows where x does not vary are left out."""
    joined = pd.concat([x.rename("x"), y.rename("y")], axis=1).dropna()
    if len(joined) < window:
        raise InputDataError(f"{len(joined)} sessions with both the gap change and the flows; {window} needed")
    roll = joined.rolling(window)
    var_x, var_y = roll["x"].var(), roll["y"].var()
    cov = roll["x"].cov(joined["y"])
    beta = cov / var_x
    # Residual sum of squares of the window's regression: (n - 1) (var y - cov^2 / var x).
    rss = (window - 1) * (var_y - cov * beta)
    se = np.sqrt(rss.clip(lower=0) / (window - 2) / ((window - 1) * var_x))
    t = stats.t.ppf(0.5 + level / 2, window - 2)
    out = pd.DataFrame({"beta": beta, "beta_lo": beta - t * se, "beta_hi": beta + t * se, "se": se})
    return out[var_x > 0].dropna()


def estimate_flow_response(
    data: Mapping[str, pd.Series], as_of: date, spec: FlowResponseSpec | None = None
) -> ModelResult:
    """The rolling response as of a date, as a ModelResult (error set, not raised, when the data cannot carry it)."""
    spec = spec or FlowResponseSpec()
    base = functools.partial(ModelResult, name=spec.name, label=spec.label, freq="D", as_of=as_of, series=spec.series)
    try:
        frame = gap_frame(data, spec.us, spec.japan, spec.flows, as_of)
        rolling = rolling_response(frame["gap"].diff(), frame["flows"], spec.window, spec.level)
    except InputDataError as e:
        return base(error=f"not estimated: {e}")
    if rolling.empty:
        return base(error="not estimated: the gap did not change in any window")
    last = rolling.iloc[-1]
    return base(
        variables=("gap_change", "flows"),
        transforms=("diff", "level"),
        window=spec.window,
        method="rolling OLS",
        sample_start=frame.index[0].date(),
        sample_end=frame.index[-1].date(),
        nobs=len(frame) - 1,
        rolling=rolling,
        extra={
            "level": spec.level,
            "units": "100 million KRW per percentage point of the gap",
            "latest": {
                "date": rolling.index[-1].date().isoformat(),
                "beta": float(last["beta"]),
                "beta_lo": float(last["beta_lo"]),
                "beta_hi": float(last["beta_hi"]),
            },
        },
    )
