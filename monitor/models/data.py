"""Checks that a model frame can be used as given, with one clear InputDataError per kind of problem."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from monitor.errors import InputDataError


def min_observations(n_vars: int, lags: int) -> int:
    """Fewest rows a VAR(lags) in n_vars variables with a constant can be estimated on.

    The regression has T - p rows and N p + 1 regressors per equation; the residual covariance needs at least one
    degree of freedom (T - p - N p - 1 >= 1).
    """
    return lags * (n_vars + 1) + 2


def _label(index: pd.Index, pos: int) -> str:
    value = index[pos]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    return f"row {pos + 1}" if isinstance(index, pd.RangeIndex) else str(value)


def check_frame(data: Any, lags: int, *, window: int | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate a model frame and return its float values (T, N) and the variable names.

    Raises InputDataError for: not a frame, fewer than two variables, repeated or identical columns,
    non-numeric columns, unordered or repeated dates, missing or infinite values, a constant column, linearly
    dependent columns, fewer rows than the VAR needs, a window shorter than the regression needs or longer than
    the data.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputDataError(f"model data must be a pandas DataFrame (dates x variables), got {type(data).__name__}")
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or lags < 1:
        raise InputDataError(f"lags must be a positive integer, got {lags!r}")
    names: list[Hashable] = list(data.columns)
    if len(names) < 2:
        raise InputDataError(f"a VAR needs at least two variables, got {len(names)}: {', '.join(map(str, names))}")
    repeated = sorted({str(c) for c in names if names.count(c) > 1})
    if repeated:
        raise InputDataError(f"repeated column name(s): {', '.join(repeated)}; each variable needs its own name")
    bad = [str(c) for c in names if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])]
    if bad:
        raise InputDataError(f"non-numeric column(s): {', '.join(bad)}; every variable must hold numbers")
    index = data.index
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise InputDataError(f"repeated date {dup} in the data; keep one row per date")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(np.asarray(index[1:] < index[:-1]))[0]) + 1
        raise InputDataError(f"dates are not in increasing order (near {_label(index, pos)}); sort the rows by date")
    values = data.to_numpy(dtype=float, copy=True)
    t, n = values.shape
    finite = np.isfinite(values)
    if not finite.all():
        row, col = (int(v[0]) for v in np.nonzero(~finite))
        kind = "missing value" if np.isnan(values[row, col]) else "infinite value"
        count = int((~finite).sum())
        raise InputDataError(
            f"{kind} in column {names[col]} at {_label(index, row)} ({count} non-finite cell(s) in the sample); "
            "fill or drop them, or shorten the sample"
        )
    need = min_observations(n, lags)
    if t < need:
        raise InputDataError(
            f"{t} observations are too few for a VAR({lags}) in {n} variables with a constant: it needs at least {need}"
        )
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, int | np.integer):
            raise InputDataError(f"window must be a whole number of rows, got {window!r}")
        if window < need:
            raise InputDataError(
                f"window {window} is shorter than the regression needs: a VAR({lags}) in {n} variables with a "
                f"constant needs at least {need} rows per window"
            )
        if window > t:
            raise InputDataError(f"window {window} is longer than the data ({t} rows)")
    constant = [str(names[j]) for j in range(n) if np.ptp(values[:, j]) == 0.0]
    if constant:
        raise InputDataError(f"constant column(s): {', '.join(constant)}; a constant series carries no shocks, drop it")
    for j in range(n):
        for k in range(j + 1, n):
            if np.array_equal(values[:, j], values[:, k]):
                raise InputDataError(f"columns {names[j]} and {names[k]} are identical; keep one of them")
    std = values.std(axis=0)
    corr = np.corrcoef((values - values.mean(axis=0)) / std, rowvar=False)
    if np.linalg.eigvalsh(corr)[0] < 1e-12:
        raise InputDataError(
            "the columns are linearly dependent (one is an exact combination of the others); drop one of them"
        )
    return values, tuple(str(c) for c in names)
