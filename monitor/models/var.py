"""VAR estimation with statsmodels: lag choice, stability, Granger causality, IRF with error bands, orthogonal FEVD.

Numerical trouble never crashes a run: it becomes a warning in `VarFit.warnings` that says what to do. Input that
cannot be modelled at all (missing values, too short, constant or duplicated columns) raises InputDataError.
"""

from __future__ import annotations

import warnings as pywarnings
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import InputDataError
from monitor.models.data import check_frame
from monitor.spec import CRITERIA

# Condition number of the residual correlation matrix above which the fit is called nearly singular.
SINGULAR_COND = 1e10


@dataclass(frozen=True, eq=False)
class VarFit:
    """A fitted VAR(p) with a constant and its diagnostics.

    coefs (p, N, N), intercept (N,), sigma_u (N, N) (degrees-of-freedom adjusted, as statsmodels).
    lag_table: information criteria by order (None when the order was fixed). max_root: largest modulus of the
    companion matrix's eigenvalues (stable when < 1). granger: one row per (caused, causing) pair, F-test.
    irf/irf_lower/irf_upper: orthogonalised impulse responses (H + 1, N, N) [step, response, shock] with
    asymptotic (1 - alpha) bands. fevd: orthogonal FEVD in percent at horizon H (MA terms 0..H-1), rows =
    variables explained, columns = shocks (statsmodels' `fevd(H).decomp[:, H - 1, :]`).
    """

    variables: tuple[str, ...]
    lags: int
    criterion: str | None
    lag_table: pd.DataFrame | None
    nobs: int
    coefs: np.ndarray
    intercept: np.ndarray
    sigma_u: np.ndarray
    max_root: float
    granger: pd.DataFrame
    horizon: int
    alpha: float
    irf: np.ndarray
    irf_lower: np.ndarray
    irf_upper: np.ndarray
    fevd: np.ndarray
    warnings: tuple[str, ...]
    results: Any = field(default=None, repr=False)

    @property
    def stable(self) -> bool:
        return self.max_root < 1.0


def max_feasible_lags(nobs: int, n_vars: int) -> int:
    """Largest order whose VAR with a constant leaves the residual covariance at least one spare degree of
    freedom on the common sample used to compare orders (T - p rows, N p + 1 regressors)."""
    return max(0, (nobs - n_vars - 2) // (n_vars + 1))


def _companion_max_root(coefs: np.ndarray) -> float:
    p, n, _ = coefs.shape
    comp = np.zeros((n * p, n * p))
    comp[:n, :] = np.concatenate(list(coefs), axis=1)
    if p > 1:
        comp[n:, :-n] = np.eye(n * (p - 1))
    return float(np.max(np.abs(np.linalg.eigvals(comp))))


def _select_lags(model: Any, criterion: str, max_lags: int, notes: list[str]) -> tuple[int, pd.DataFrame]:
    table = model.select_order(maxlags=max_lags, trend="c")
    ics = pd.DataFrame(table.ics).rename_axis("lags")
    chosen = int(table.selected_orders[criterion])
    if chosen < 1:
        notes.append(
            f"{criterion.upper()} prefers no lags (the variables look like white noise); using 1 lag, "
            "the least a spillover table needs"
        )
        chosen = 1
    return chosen, ics


def _granger(results: Any, names: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for caused in names:
        for causing in names:
            if causing == caused:
                continue
            test = results.test_causality(caused, [causing], kind="f")
            rows.append(
                {
                    "caused": caused,
                    "causing": causing,
                    "f_stat": float(test.test_statistic),
                    "p_value": float(test.pvalue),
                    "df_num": int(test.df[0]),
                    "df_den": int(test.df[1]),
                }
            )
    return pd.DataFrame(rows, columns=["caused", "causing", "f_stat", "p_value", "df_num", "df_den"])


def fit_var(
    data: pd.DataFrame,
    lags: int | str = "aic",
    *,
    max_lags: int | None = None,
    horizon: int = 10,
    alpha: float = 0.05,
) -> VarFit:
    """Fit a VAR with a constant by OLS (statsmodels) and collect its diagnostics.

    lags: a fixed order or "aic" / "bic" / "hqic" searched over 1..max_lags (default: statsmodels' rule
    12 (T/100)^(1/4)); the maximum is capped by what the sample can estimate, with a warning. horizon: H, the
    number of MA terms in the FEVD (h = 0..H-1) and the IRF steps (0..H).
    """
    notes: list[str] = []
    if isinstance(lags, str):
        if lags not in CRITERIA:
            raise InputDataError(f"lags must be a positive integer or one of {', '.join(CRITERIA)}, got {lags!r}")
        values, names = check_frame(data, 1)
    else:
        values, names = check_frame(data, lags)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise InputDataError(f"horizon must be a positive integer, got {horizon!r}")
    t, n = values.shape
    from statsmodels.tsa.vector_ar.var_model import VAR

    frame = pd.DataFrame(values, columns=list(names))
    model = VAR(frame)
    criterion: str | None = None
    lag_table: pd.DataFrame | None = None
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        if isinstance(lags, str):
            criterion = lags
            cap = max_feasible_lags(t, n)
            wanted = max_lags if max_lags is not None else round(12 * (t / 100.0) ** 0.25)
            if wanted < 1:
                raise InputDataError(f"max_lags must be at least 1, got {wanted}")
            if cap < 1:
                raise InputDataError(
                    f"{t} observations are too few to choose a lag order for {n} variables: "
                    f"it needs at least {2 * n + 3}"
                )
            if wanted > cap:
                notes.append(
                    f"max_lags {wanted} is more than {t} observations of {n} variables can estimate; "
                    f"searched up to {cap} lags instead (lengthen the sample or use fewer variables)"
                )
                wanted = cap
            try:
                p, lag_table = _select_lags(model, criterion, wanted, notes)
            except (np.linalg.LinAlgError, ValueError) as e:
                p = min(wanted, 1)
                notes.append(f"lag selection failed ({e}); using {p} lag: check the variables for collinearity")
        else:
            p = int(lags)
        try:
            results = model.fit(p, trend="c")
        except np.linalg.LinAlgError as e:
            raise InputDataError(
                f"the VAR({p}) cannot be estimated ({e}): some variables are (nearly) exact combinations of "
                "others; drop one of them"
            ) from e
        sigma = np.asarray(results.sigma_u, dtype=float)
        coefs = np.asarray(results.coefs, dtype=float)
        sd = np.sqrt(np.diag(sigma))
        cond = np.linalg.cond(sigma / np.outer(sd, sd)) if np.all(sd > 0) else np.inf
        if not np.isfinite(cond) or cond > SINGULAR_COND:
            notes.append(
                f"the residual covariance is nearly singular (condition number {cond:.3g}): two or more "
                "variables move almost together; drop or combine them"
            )
        scale = np.maximum(np.abs(values).max(axis=0), 1e-300)
        flat = [names[j] for j in range(n) if values[:, j].std() < 1e-8 * scale[j]]
        if flat:
            notes.append(
                f"column(s) {', '.join(flat)} barely move relative to their level; "
                "difference or rescale them, or drop them"
            )
        max_root = _companion_max_root(coefs)
        if max_root >= 1.0:
            notes.append(
                f"the VAR is not stable (largest root modulus {max_root:.4f} >= 1): its IRFs and FEVDs do not "
                "settle; difference or log-difference the trending variables (see the stationarity table)"
            )
        granger = _granger(results, names)
        irf_obj = results.irf(periods=horizon)
        irf = np.asarray(irf_obj.orth_irfs, dtype=float)
        z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
        try:
            with np.errstate(invalid="ignore"):
                se = np.asarray(irf_obj.stderr(orth=True), dtype=float)
        except (np.linalg.LinAlgError, ValueError) as e:
            se = np.full_like(irf, np.nan)
            notes.append(f"IRF error bands could not be computed ({e}); the responses are shown without bands")
        if not np.isfinite(se).all():
            notes.append(
                "some IRF error bands are undefined (negative variance estimates, usually from nearly collinear "
                "variables); drop or combine those variables for usable bands"
            )
        fevd = 100.0 * np.asarray(results.fevd(horizon).decomp, dtype=float)[:, horizon - 1, :]
    for w in caught:
        msg = f"statsmodels: {w.message}"
        if msg not in notes:
            notes.append(msg)
    return VarFit(
        variables=names,
        lags=p,
        criterion=criterion,
        lag_table=lag_table,
        nobs=int(results.nobs),
        coefs=coefs,
        intercept=np.asarray(results.intercept, dtype=float),
        sigma_u=sigma,
        max_root=max_root,
        granger=granger,
        horizon=horizon,
        alpha=alpha,
        irf=irf,
        irf_lower=irf - z * se,
        irf_upper=irf + z * se,
        fevd=fevd,
        warnings=tuple(notes),
        results=results,
    )
