"""Forecast-error variance decompositions and Diebold-Yilmaz measures, batched over any leading axes.

Conventions (DESIGN.md section 7), for VAR coefficients Phi_1..Phi_p (array shape (..., p, N, N), as statsmodels'
`coefs`) and residual covariance S (..., N, N):

- MA matrices A_0 = I, A_h = sum_{l=1..min(h,p)} Phi_l A_{h-l}; the horizon H uses the terms h = 0..H-1
  (ConnectednessApproach's `nfore = H`; frequencyConnectedness' `n.ahead = H - 1`).
- Generalized (Pesaran-Shin, Diebold-Yilmaz 2012):
  theta_ij = S_jj^-1 sum_h (e_i' A_h S e_j)^2 / sum_h (e_i' A_h S A_h' e_i), each row then normalised to 1.
- Orthogonal (Diebold-Yilmaz 2009): P = chol(S) lower, theta_ij = sum_h (e_i' A_h P e_j)^2 / sum_h (A_h S A_h')_ii;
  rows sum to 1 by construction. Depends on the variable order.
- Table C = 100 theta: row i receives, column j transmits. FROM_i = sum_{j!=i} C_ij, TO_j = sum_{i!=j} C_ij,
  NET = TO - FROM, TCI = sum of off-diagonals / N, cTCI = TCI N/(N-1) (Chatziantoniou & Gabauer 2021),
  NPDC_ij = C_ji - C_ij (positive: i is a net transmitter to j), NPT_i = #{j : NPDC_ij > 0}.

Both decompositions are invariant to the scale of S (and so to the degrees-of-freedom convention of the residual
covariance) and to rescaling any variable.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from monitor.models.kernel import fevd_shares, ma_matrices

__all__ = ["Measures", "fevd_shares", "ma_matrices", "measures"]  # the decomposition itself: monitor.models.kernel


class Measures(NamedTuple):
    """Diebold-Yilmaz measures of percent tables C (..., N, N)."""

    table: np.ndarray
    from_: np.ndarray
    to: np.ndarray
    net: np.ndarray
    tci: np.ndarray
    ctci: np.ndarray
    npdc: np.ndarray
    npt: np.ndarray


def measures(table: np.ndarray) -> Measures:
    """FROM, TO, NET, TCI, cTCI, NPDC and NPT of percent tables (..., N, N); see the module docstring."""
    n = table.shape[-1]
    diag = np.diagonal(table, axis1=-2, axis2=-1)
    from_ = table.sum(axis=-1) - diag
    to = table.sum(axis=-2) - diag
    tci = from_.sum(axis=-1) / n
    npdc = np.swapaxes(table, -1, -2) - table
    npt = (npdc > 0).sum(axis=-1)
    return Measures(table, from_, to, to - from_, tci, tci * n / (n - 1), npdc, npt)
