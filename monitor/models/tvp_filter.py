"""The TVP-VAR's Kalman filter with forgetting factors (monitor.models.tvp states the model), written for speed.

At the sizes the monitor runs (N = 6, p = 2: a state of 72 coefficients, 6 observations a step) every array
operation costs more in call overhead than in arithmetic, so a step is a dozen calls:

- The state is ordered by equation (beta[i k + a] = coefficient of regressor a in equation i, k = N p), so the
  measurement matrix is F_t = I_N (x) z_t' with z_t = (y_{t-1}', ..., y_{t-p}')' and the coefficients of a step
  are the top block row of the VAR's companion matrix as they lie in memory.
- The coefficient covariance P is kept in the upper triangle of a column-major array and updated by BLAS's
  symmetric kernels: R = P F' by dsymm, the update P / kappa1 - W'W by one dsyrk (the inflation by 1 / kappa1 is
  its beta). P is therefore symmetric by construction. That matters: with an update written as P - (P F') S^-1
  (P F')' an antisymmetric rounding error in P is carried forward times 1 / kappa1 at every step and never
  damped (1.01^1300 = 4e5 over the benchmark's sample), which is what made an earlier version differ from the
  pseudo-inverse filter by 7e-10; the pseudo-inverse form P - (P F') S^-1 (F P) damps it like any other error.
- The innovation covariance S = Q + F P F' is factored by LAPACK's dpotrf, S = C C'; W = C^-1 F P and the
  innovation's C^-1 v come from one dtrsm and one dtrsv. A step whose S is singular or nearly so (LAPACK's
  condition estimate) takes the package's own update with the pseudo-inverse of S instead, which drops the
  directions a Cholesky solve would amplify (series equal over the prior window make Q_0 singular).
- The stability check (keep the previous coefficients when the VAR is explosive) is deferred: a run of steps is
  filtered as if every step were stable, then their companion matrices are checked together, by a norm bound
  and by eigenvalues only where the bound cannot decide. If a step is explosive, the run is filtered again from
  its start up to that step, which is rejected as the sequential filter would, and filtering goes on after it.
  The result is the sequential filter's, step for step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.linalg import blas, lapack

SHRINK = 0.99  # an explosive step shrinks the state to this multiple of the previous one (the package's choice)
# Below this reciprocal condition number (LAPACK's 1-norm estimate, with the trace for the norm) S takes the
# pseudo-inverse update. numpy's pinv drops singular values under 1e-15 of the largest, so it departs from a
# plain inverse only at a 2-norm condition number above 1e15, where this estimate is below N^(1/2) 1e-15 times
# the estimator's error (rarely above 10): 1e-9 leaves a margin of 1e4 or more. Only series whose variances differ
# by about 1e9 reach it without being degenerate, and they get the same result by the slower route.
NEAR_SINGULAR = 1e-9
LONGEST_RUN = 64  # steps filtered before their stability is checked together (doubles up to this after a rejection)


def kalman_forgetting(
    x: np.ndarray,
    lags: int,
    beta0: np.ndarray,
    v0: np.ndarray,
    q0: np.ndarray,
    kappa1: float,
    kappa2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (T, N, N p), row i = equation i with the lags side by side ([Phi_1, ..., Phi_p]), and error
    covariances (T, N, N) for the centred data x (T, N).

    beta0 (N N p,) and v0 (N N p, N N p) are the prior in the equation-major order above; q0 the initial error
    covariance.
    """
    run = _Run(x, lags, beta0, v0, q0, kappa1, kappa2)
    t_all = x.shape[0]
    start, length = 0, LONGEST_RUN
    while start < t_all:
        saved = run.save()
        end = run.speculate(start, min(start + length, t_all))
        explosive = np.flatnonzero(_explosive(run.coefs[max(start, 1) : end])) + max(start, 1)
        if explosive.size == 0:
            if run.error is not None:  # not the consequence of an unchecked explosive step
                raise run.error
            start, length = end, min(2 * length, LONGEST_RUN)
            continue
        bad = int(explosive[0])
        run.restore(saved)
        for t in range(start, bad):
            run.step(t, reject=False)
        run.step(bad, reject=True)
        start, length = bad + 1, 1
    return run.coefs, run.qs


@dataclass(frozen=True)
class _State:
    """What a step reads from the steps before it (the arrays are never modified in place, except cov: a copy)."""

    q: np.ndarray
    beta: np.ndarray
    cov: np.ndarray
    last: np.ndarray
    accepted: bool
    q_floor: float


class _Run:
    """The filter's state between steps and one step of it."""

    def __init__(
        self,
        x: np.ndarray,
        lags: int,
        beta0: np.ndarray,
        v0: np.ndarray,
        q0: np.ndarray,
        kappa1: float,
        kappa2: float,
    ) -> None:
        t_all, n = x.shape
        k = n * lags
        m = n * k
        self.x, self.lags, self.kappa1, self.kappa2 = x, lags, kappa1, kappa2
        self.beta0 = beta0
        # z_t for every t >= p, the regressors of step t: y_{t-1}, ..., y_{t-p} side by side.
        self.z = np.zeros((t_all, k))
        for lag in range(1, lags + 1):
            self.z[lags:, (lag - 1) * n : lag * n] = x[lags - lag : t_all - lag]
        # F_t' (m, N), column-major: column i holds z_t at rows i k, ..., i k + k - 1; `diag` is a view of those
        # blocks, so one assignment sets F_t'.
        self.design_t = np.zeros((m, n), order="F")
        item = self.design_t.itemsize
        self.diag = as_strided(self.design_t, shape=(n, k), strides=((k + m) * item, item))
        self.coefs = np.empty((t_all, n, k))
        self.qs = np.empty((t_all, n, n))
        self.q = q0
        self.beta = beta0
        self.cov = np.array(v0, order="F")  # only the upper triangle is kept up to date
        self.last = beta0.reshape(n, k)  # coefficients behind the next step's error (before the stability check)
        self.accepted = True  # whether the last step kept its coefficients (then they are `last`)
        self.q_floor = 0.0  # a lower bound of Q's smallest eigenvalue
        self.error: np.linalg.LinAlgError | None = None

    def save(self) -> _State:
        return _State(self.q, self.beta, self.cov.copy(order="F"), self.last, self.accepted, self.q_floor)

    def restore(self, saved: _State) -> None:
        self.q, self.beta, self.last, self.accepted, self.q_floor = (
            saved.q,
            saved.beta,
            saved.last,
            saved.accepted,
            saved.q_floor,
        )
        self.cov = saved.cov.copy(order="F")
        self.error = None

    def speculate(self, start: int, end: int) -> int:
        """Filter steps start..end-1 taking each as stable; returns where it stopped: end, or the first step whose
        pseudo-inverse failed (non-finite numbers), which may be the doing of an earlier explosive step."""
        for t in range(start, end):
            try:
                self.step(t, reject=False)
            except np.linalg.LinAlgError as e:
                self.error = e
                return t
        return end

    def step(self, t: int, *, reject: bool) -> None:
        lags, x = self.lags, self.x
        if t > 0:
            if t <= lags:
                err = x[t]
                shock = 0.1 * (err[:, None] * err)
            else:
                err = x[t] - self.last @ self.z[t]
                shock = err[:, None] * err
            self.q = self.kappa2 * self.q + (1.0 - self.kappa2) * shock
            self.q_floor *= self.kappa2  # Q_t >= kappa2 Q_{t-1}: the shock adds a positive semi-definite term
        if t < lags:
            new_beta = self.beta0
        else:
            first = t == lags  # the prior is the predicted state; afterwards the last state, P inflated
            pred = self.beta0 if first else self.beta
            inflate = 1.0 if first else 1.0 / self.kappa1
            z = self.z[t]
            self.diag[...] = z
            r = blas.dsymm(inflate, self.cov, self.design_t)  # P F', P = the predicted covariance
            s = self.q + self.design_t.T @ r
            # After an accepted step the predicted coefficients are the ones behind err: the same product.
            innovation = err if t > lags and self.accepted else x[t] - pred.reshape(self.last.shape) @ z
            chol, info = lapack.dpotrf(s, lower=1, clean=1)
            if info != 0 or not self._well_conditioned(chol):
                new_beta = self._generalized(pred, inflate, r, s, innovation)
            else:
                w_t = blas.dtrsm(1.0, chol, r, side=1, lower=1, trans_a=1, overwrite_b=1)  # (C^-1 F P)'
                new_beta = pred + w_t @ blas.dtrsv(chol, innovation, lower=1)
                self.cov = blas.dsyrk(-1.0, w_t, beta=inflate, c=self.cov, overwrite_c=1)
        new = new_beta.reshape(self.last.shape)
        self.accepted = not reject
        if reject:
            self.coefs[t] = self.coefs[t - 1]
            self.beta = SHRINK * self.beta
        else:
            self.coefs[t] = new
            self.beta = new_beta
        self.qs[t] = self.q
        self.last = new

    def _well_conditioned(self, chol: np.ndarray) -> bool:
        """Whether S = C C' is far from where the pseudo-inverse would drop a direction: its condition number is
        at most trace(S) / lambda_min(Q) (S = Q + F P F'), the trace is the sum of C's squares, and q_floor is a
        lower bound of lambda_min(Q) kept up to date for free, its eigenvalues taken again only when the bound
        cannot decide; LAPACK's condition estimate decides the rest."""
        trace = float(np.vdot(chol, chol))
        if trace < self.q_floor / NEAR_SINGULAR:
            return True
        self.q_floor = max(self.q_floor, float(np.linalg.eigvalsh(self.q)[0]))
        if trace < self.q_floor / NEAR_SINGULAR:
            return True
        rcond, info = lapack.dpocon(chol, trace, uplo="L")
        return info == 0 and rcond >= NEAR_SINGULAR

    def _generalized(
        self, pred: np.ndarray, inflate: float, r: np.ndarray, s: np.ndarray, innovation: np.ndarray
    ) -> np.ndarray:
        """The update with the pseudo-inverse of S, as the package writes it, for an S that is singular or
        nearly so (its generalized inverse drops directions a Cholesky solve would amplify)."""
        upper = np.triu(self.cov)
        prior_cov = inflate * (upper + np.triu(upper, 1).T)
        gain = r @ np.linalg.pinv(s)
        self.cov = np.asfortranarray(prior_cov - gain @ r.T)
        return pred + gain @ innovation


def _explosive(tops: np.ndarray) -> np.ndarray:
    """For coefficient blocks (L, N, N p), whether each VAR's companion matrix has a root above 1 in modulus.

    The eigenvalues are computed only where a bound cannot decide: the spectral radius is at most ||C^k||^(1/k)
    for every k and induced norm, so ||C^k||_inf <= 1 for k = 1, 2, 4, 8 or 16 (repeated squaring) means no root
    above 1, without an eigenvalue problem. An explosive VAR never passes the bound (||C^k|| >= rho^k > 1), so it
    always reaches the eigenvalues: the bound changes the cost, never the answer."""
    count, n, k = tops.shape
    companion = np.zeros((count, k, k))
    companion[:, :n] = tops
    companion[:, n:, :-n] = np.eye(k - n)
    undecided = np.arange(count)
    power = companion
    for _ in range(5):
        if undecided.size == 0:
            break
        keep = np.abs(power).sum(axis=2).max(axis=1) > 1.0
        undecided, power = undecided[keep], power[keep]
        power = power @ power
    explosive = np.zeros(count, dtype=bool)
    if undecided.size:
        explosive[undecided] = np.abs(np.linalg.eigvals(companion[undecided])).max(axis=1) > 1.0
    return explosive
