"""The compiled kernels of monitor.models.fused (numba; imported only when the `fast` extra is installed and
selected): see that module for what they compute.

Every array of the solve is lanes-last: lane q is one window (rolling) or one path (bootstrap), and each step of
the algebra is a loop over the lanes, contiguous and independent, which the compiler vectorises. The functions
are module-level so that numba's on-disk cache (cache=True) finds them again in the next process.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")

LANES = 32  # windows solved together by the rolling kernel


@_jit
def cholesky_lanes(a, out, size, nl, bad):  # type: ignore[no-untyped-def]
    """Lower Cholesky factor of the leading (size, size) block of `a` (lanes last) into `out`'s lower triangle,
    lanes 0..nl-1; `out` may be `a` (in place: only the lower triangle is read and written). bad[q] = 1 where lane
    q is not positive definite."""
    for j in range(size):
        ojj = out[j, j]
        for q in range(nl):
            ojj[q] = a[j, j, q]
        for m in range(j):
            ojm = out[j, m]
            for q in range(nl):
                ojj[q] -= ojm[q] * ojm[q]
        for q in range(nl):
            if not ojj[q] > 0.0:
                bad[q] = 1
            ojj[q] = np.sqrt(ojj[q])
        for i in range(j + 1, size):
            oij = out[i, j]
            for q in range(nl):
                oij[q] = a[i, j, q]
            for m in range(j):
                oim, ojm = out[i, m], out[j, m]
                for q in range(nl):
                    oij[q] -= oim[q] * ojm[q]
            for q in range(nl):
                oij[q] /= ojj[q]


@_jit
def solve_lanes(c, nl, length, n, p, horizon, orthogonal, chol, slopes, resp, wts, tmp, bad, table):  # type: ignore[no-untyped-def]
    """Shares table (N, N, lanes) of lanes 0..nl-1 from their centred cross-products c (D, D, lanes) over `length`
    rows; bad[q] = 1 where the normal equations (or S, orthogonal) are not positive definite (that lane's table is
    then meaningless). chol (Np, Np, lanes), slopes (Np, N, lanes), resp (H, N, N, lanes), wts (N, lanes) and tmp
    (lanes,) are scratch."""
    kx = n * p
    bad[:nl] = 0
    cholesky_lanes(c, chol, kx, nl, bad)  # C_xx = L L' (lower)
    # Slopes B = C_xx^-1 C_xy: forward then back substitution, column by column.
    for e in range(n):
        for i in range(kx):
            si = slopes[i, e]
            for q in range(nl):
                si[q] = c[i, kx + e, q]
            for m in range(i):
                cim, sm = chol[i, m], slopes[m, e]
                for q in range(nl):
                    si[q] -= cim[q] * sm[q]
            cii = chol[i, i]
            for q in range(nl):
                si[q] /= cii[q]
        for i in range(kx - 1, -1, -1):
            si = slopes[i, e]
            for m in range(i + 1, kx):
                cmi, sm = chol[m, i], slopes[m, e]
                for q in range(nl):
                    si[q] -= cmi[q] * sm[q]
            cii = chol[i, i]
            for q in range(nl):
                si[q] /= cii[q]
    # Residual covariance S = (C_yy - C_xy' B) / (L - Np - 1), symmetrised, into resp[0].
    dof = 2.0 * (length - kx - 1)
    for i in range(n):
        for j in range(i + 1):
            sij = resp[0, i, j]
            for q in range(nl):
                sij[q] = c[kx + i, kx + j, q] + c[kx + j, kx + i, q]
            for m in range(kx):
                ci, cj, bi, bj = c[m, kx + i], c[m, kx + j], slopes[m, i], slopes[m, j]
                for q in range(nl):
                    sij[q] -= ci[q] * bj[q] + cj[q] * bi[q]
            for q in range(nl):
                sij[q] /= dof
            resp[0, j, i, :nl] = sij[:nl]
    # Column weights: 1 / S_jj for the generalized decomposition, 1 for the orthogonal one.
    for j in range(n):
        for q in range(nl):
            wts[j, q] = 1.0 if orthogonal else 1.0 / resp[0, j, j, q]
    if orthogonal:  # B = chol(S): factor resp[0] in place (lower), zero above the diagonal
        cholesky_lanes(resp[0], resp[0], n, nl, bad)
        for j in range(n):
            for i in range(j):
                resp[0, i, j, :nl] = 0.0
    # Responses A_h B = sum_{l <= min(h, p)} Phi_l (A_{h-l} B), Phi_l[i, m] = slopes[(l - 1) N + m, i].
    for h in range(1, horizon):
        resp[h, :, :, :nl] = 0.0
        for lag in range(1, min(h, p) + 1):
            base = (lag - 1) * n
            for i in range(n):
                for m in range(n):
                    phi = slopes[base + m, i]
                    for j in range(n):
                        rij, rmj = resp[h, i, j], resp[h - lag, m, j]
                        for q in range(nl):
                            rij[q] += phi[q] * rmj[q]
    # Shares: theta_ij = w_j sum_h (A_h B)_ij^2, rows normalised.
    for i in range(n):
        tmp[:nl] = 0.0
        for j in range(n):
            tij = table[i, j]
            tij[:nl] = 0.0
            for h in range(horizon):
                rij = resp[h, i, j]
                for q in range(nl):
                    tij[q] += rij[q] * rij[q]
            wj = wts[j]
            for q in range(nl):
                tij[q] *= wj[q]
                tmp[q] += tij[q]
        for j in range(n):
            tij = table[i, j]
            for q in range(nl):
                tij[q] /= tmp[q]


@_jit
def scratch(n, p, horizon, lanes):  # type: ignore[no-untyped-def]
    kx = n * p
    d = kx + n
    return (
        np.empty((d, d, lanes)),
        np.empty((kx, kx, lanes)),
        np.empty((kx, n, lanes)),
        np.empty((horizon, n, n, lanes)),
        np.empty((n, lanes)),
        np.empty(lanes),
        np.zeros(lanes, dtype=np.int64),
        np.empty((n, n, lanes)),
    )


@_jit
def rolling(emb, length, n, p, horizon, orthogonal, block, shares, var, status):  # type: ignore[no-untyped-def]
    rows, d = emb.shape
    nw = rows - length + 1
    sums = np.zeros(d)
    cross = np.zeros((d, d))
    c, chol, slopes, resp, wts, tmp, bad, table = scratch(n, p, horizon, LANES)
    for w0 in range(0, nw, LANES):
        nl = min(LANES, nw - w0)
        for lane in range(nl):
            w = w0 + lane
            if w % block == 0:  # from scratch
                sums[:] = 0.0
                cross[:] = 0.0
                for r in range(w, w + length):
                    for i in range(d):
                        zi = emb[r, i]
                        sums[i] += zi
                        for j in range(i, d):
                            cross[i, j] += zi * emb[r, j]
            else:  # slide: row w + length - 1 in, row w - 1 out
                rin, rout = w + length - 1, w - 1
                for i in range(d):
                    a, b = emb[rin, i], emb[rout, i]
                    sums[i] += a - b
                    for j in range(i, d):
                        cross[i, j] += a * emb[rin, j] - b * emb[rout, j]
            for i in range(d):
                for j in range(i, d):
                    cij = cross[i, j] - sums[i] * sums[j] / length
                    c[i, j, lane] = cij
                    c[j, i, lane] = cij
                var[w, i] = c[i, i, lane] / length
        solve_lanes(c, nl, length, n, p, horizon, orthogonal, chol, slopes, resp, wts, tmp, bad, table)
        for lane in range(nl):
            status[w0 + lane] = bad[lane]
            for i in range(n):
                for j in range(n):
                    shares[w0 + lane, i, j] = table[i, j, lane]


@_jit
def bootstrap(z, resid, slopes_in, intercept, idx, p, horizon, orthogonal, out):  # type: ignore[no-untyped-def]
    k_all, b_all, length = idx.shape
    n = z.shape[2]
    t_all = length + p
    # Path-minor layout: every step of the simulation, the products and the solve is a loop over a window's
    # paths, contiguous and independent.
    y = np.empty((t_all, n, b_all))
    lagged = np.empty((p + 1, n, n, b_all))  # lagged[e, i, m] = sum_{s >= e} y_s[i] y_{s-e}[m], per path
    total = np.empty((n, b_all))
    sums = np.empty((n * (p + 1), b_all))
    c, chol, slopes, resp, wts, tmp, bad, table = scratch(n, p, horizon, b_all)
    steps = np.empty((length, b_all), dtype=np.int64)  # a window's residual rows, step-major
    for k in range(k_all):
        for j in range(b_all):
            for t in range(length):
                steps[t, j] = idx[k, j, t]
        # Simulate y_t = c + sum_l Phi_l y_{t-l} + u*_t from the window's first p rows, and accumulate each
        # path's sums and lag products while its rows are in cache (lag 0 is symmetric: lower triangle only).
        lagged[:] = 0.0
        total[:] = 0.0
        for t in range(t_all):
            if t < p:
                for i in range(n):
                    y[t, i, :] = z[k, t, i]
            else:
                rows = steps[t - p]
                for i in range(n):
                    yt = y[t, i]
                    ci = intercept[k, i]
                    for j in range(b_all):
                        yt[j] = resid[k, rows[j], i] + ci
                    for lag in range(1, p + 1):
                        base = (lag - 1) * n
                        for m in range(n):
                            phi = slopes_in[k, base + m, i]
                            ym = y[t - lag, m]
                            for j in range(b_all):
                                yt[j] += phi * ym[j]
            for i in range(n):
                yt = y[t, i]
                tot = total[i]
                for j in range(b_all):
                    tot[j] += yt[j]
                for e in range(min(t, p) + 1):
                    for m in range(n if e > 0 else i + 1):
                        ym = y[t - e, m]
                        acc = lagged[e, i, m]
                        for j in range(b_all):
                            acc[j] += yt[j] * ym[j]
        for i in range(n):
            for m in range(i):
                lagged[0, m, i, :] = lagged[0, i, m, :]
        # Sums and cross-products of the rows z_t, t = p..T-1. Lag a sits in block a - 1, lag 0 (y_t) in
        # block p. Block (a, bb), a <= bb, e = bb - a: sum_t y_{t-a} y_{t-bb}' = sum over s = p-a .. T-1-a
        # of y_s y_{s-e}' = lagged[e] less the rows s = e .. p-a-1 and T-a .. T-1.
        for a in range(p + 1):
            ra = (p if a == 0 else a - 1) * n
            for i in range(n):
                si = sums[ra + i]
                si[:] = total[i]
                for r in range(p - a):
                    si -= y[r, i]
                for r in range(t_all - a, t_all):
                    si -= y[r, i]
            for bb in range(a, p + 1):
                e = bb - a
                rb = (p if bb == 0 else bb - 1) * n
                for i in range(n):
                    for m in range(n):
                        cim = c[ra + i, rb + m]
                        cim[:] = lagged[e, i, m]
                        for r in range(e, p - a):
                            cim -= y[r, i] * y[r - e, m]
                        for r in range(t_all - a, t_all):
                            cim -= y[r, i] * y[r - e, m]
                        c[rb + m, ra + i, :] = cim
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                cij, si, sj = c[i, j], sums[i], sums[j]
                for q in range(b_all):
                    cij[q] -= si[q] * sj[q] / length
        solve_lanes(c, b_all, length, n, p, horizon, orthogonal, chol, slopes, resp, wts, tmp, bad, table)
        for jb in range(b_all):
            for i in range(n):
                for j in range(n):
                    out[k, jb, i, j] = np.nan if bad[jb] else table[i, j, jb]
