"""The per-window work fused into compiled loops (numba, the optional `fast` extra): one pass per window or
bootstrap path from its rows to its decomposition table, with no temporaries and no per-call overhead.

The numpy kernel (monitor.models.kernel) batches each step across windows, but every step still costs a call per
stack and a pass over memory, and on 12x12 regressions that overhead is most of the time. These kernels do, per
window (rolling engine) or per bootstrap path (bands):

- the cross-products of the rows z_t = (y_{t-1}, ..., y_{t-p}, y_t): sliding rank-1 updates (rolling, restarted
  from scratch every `block` windows as the numpy engine does), or, for a simulated path, the lag products
  sum_s y_s y_{s-d}' (d = 0..p) accumulated while the path is simulated, each block of the cross-products being one
  of those minus a few edge rows;
- the slopes by a Cholesky solve of the centred normal equations (the constant absorbed by centring);
- the responses A_h B (B = S, or chol(S) for the orthogonal decomposition) by the MA recursion applied to B
  directly (A_h B = sum_l Phi_l A_{h-l} B), so no separate product with S;
- the row-normalised shares.

Results equal the numpy kernel's to rounding (tests/monitor/models/test_fused.py runs both). A window or path
whose normal equations or residual covariance are not positive definite gets status 1 (rolling) or a NaN table
(bootstrap), as the numpy path raises LinAlgError or gives NaN there.

Measured and not kept (tests/monitor/models/test_fused.py green, timed against the kept kernel in one process): four
paths per scalar accumulator group instead of lane loops (2x slower: the compiler does not vectorise it), four
terms or products per pass over the lanes (no gain), flat 1-D indexing instead of row views (2.5x slower), every
window of a batch as one lane set (10% faster, memory grows with the batch), fused multiply-add (fastmath
"contract", within the noise). The lane loops run at about the rate of a bare `acc[j] += a[j] * b[j]` loop on
this machine, so what is left is arithmetic; the bootstrap's remaining Python time is drawing the indices
(the random streams, unchanged) and the quantiles.

Selection: `enabled()` is True when numba imports and MONITOR_KERNEL is not "numpy" (MONITOR_KERNEL=numpy forces
the numpy kernel, e.g. to compare the two). The kernels compile on first use and are cached on disk (numba's
cache=True: next to monitor/models/fused_kernels.py, or in the user's cache folder when that is read-only).
"""

from __future__ import annotations

import os
from functools import lru_cache
from types import ModuleType

import numpy as np

ENV = "MONITOR_KERNEL"  # "numpy": use the numpy kernel even when numba is installed


@lru_cache(maxsize=1)
def _numba() -> ModuleType | None:
    try:
        import numba
    except ImportError:
        return None
    return numba


def enabled() -> bool:
    """Whether the compiled kernels are used: numba is installed and MONITOR_KERNEL is not "numpy"."""
    return os.environ.get(ENV, "").strip().lower() != "numpy" and _numba() is not None


def _kernels() -> ModuleType:
    if _numba() is None:  # callers check enabled() first
        raise RuntimeError("the fused kernels need numba: pip install 'kr-macro-monitor[fast]'")
    from monitor.models import fused_kernels

    return fused_kernels


def rolling_tables(
    emb: np.ndarray, length: int, n: int, lags: int, horizon: int, orthogonal: bool, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares (nw, N, N), centred variances (nw, D) (diagonal of C / L, for the constant-column check) and status
    (nw,) (0 ok, 1 not positive definite) of every window of `length` consecutive rows of emb (rows, D)."""
    nw = emb.shape[0] - length + 1
    shares = np.empty((nw, n, n))
    var = np.empty((nw, emb.shape[1]))
    status = np.zeros(nw, dtype=np.int64)
    _kernels().rolling(np.ascontiguousarray(emb), length, n, lags, horizon, orthogonal, block, shares, var, status)
    return shares, var, status


def bootstrap_shares(
    z: np.ndarray,
    resid: np.ndarray,
    slopes: np.ndarray,
    intercept: np.ndarray,
    idx: np.ndarray,
    lags: int,
    horizon: int,
    orthogonal: bool,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Shares (K, b, N, N) of the b bootstrap paths of each of K windows: path (k, j) starts from z[k, :p] and adds
    intercept[k] + resid[k, idx[k, j, t]] at step t to the VAR with slopes[k] (Np, N); NaN where degenerate.
    out: a C-contiguous (K, b, N, N) array to write them in (default: a new one)."""
    k, b, _ = idx.shape
    n = z.shape[-1]
    if out is None:
        out = np.empty((k, b, n, n))
    _kernels().bootstrap(
        np.ascontiguousarray(z),
        np.ascontiguousarray(resid),
        np.ascontiguousarray(slopes),
        np.ascontiguousarray(intercept),
        np.ascontiguousarray(idx, dtype=np.int64),
        lags,
        horizon,
        orthogonal,
        out,
    )
    return out
