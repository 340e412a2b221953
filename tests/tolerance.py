"""Floating-point comparisons relative to the size of what is compared.

An absolute bound such as 1e-8 means a different number of digits for a percent table (entries up to 100), a TCI,
an FX level (~1,500) or a covariance of scale 1, and BLAS kernels (OpenBLAS picks AVX2 or AVX-512 code at run
time) sum in different orders, so a bound set on one machine's digits fails on another's. `assert_close` scales
the bound by the largest magnitude of the expected values: entries near zero inside a table are judged against the
table's size (an element-wise relative bound would ask them for digits the computation never had).
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPS = float(np.finfo(float).eps)


def scale_of(expected: Any) -> float:
    """The largest finite magnitude in `expected` (1.0 when it is all zero), the size the bounds are relative to."""
    values = np.abs(np.asarray(expected, dtype=float))
    finite = values[np.isfinite(values)]
    largest = float(finite.max()) if finite.size else 0.0
    return largest if largest > 0 else 1.0


def assert_close(actual: Any, expected: Any, rel: float, *, err_msg: str = "") -> None:
    """max |actual - expected| <= rel * max |expected| (NaNs must coincide)."""
    expected = np.asarray(expected, dtype=float)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rel * scale_of(expected), err_msg=err_msg)


def max_rel_diff(actual: Any, expected: Any) -> float:
    """max |actual - expected| / max |expected|, the quantity `assert_close` bounds."""
    return float(np.nanmax(np.abs(np.asarray(actual, dtype=float) - np.asarray(expected, dtype=float)))) / scale_of(
        expected
    )


# Results of a VAR, its decomposition and measures on well-conditioned data (regressor condition numbers below
# ~100, as in the simulated samples here): rounding leaves errors near 1e-14 of the result's size whatever the
# kernel's summation order; 1e-10 keeps four orders of margin, while any modelling error (another lag, horizon,
# ordering or window) moves a table by more than 1e-4 of its size.
WELL_CONDITIONED = 1e-10
