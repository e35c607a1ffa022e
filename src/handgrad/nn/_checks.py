"""Input validation shared by layers, losses and the training loop.

Checks run at the boundary, before any work, and name the problem. The finiteness test
is a single pass (no temporary the size of the input) on the fast path; the element-wise
scan runs only to explain a failure.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


class NonFiniteError(ValueError):
    """An array holds NaN or inf where only finite numbers make sense."""


def as_float_array(x: ArrayLike, name: str, dtype: DTypeLike | None = None) -> np.ndarray:
    """Return ``x`` as a floating array (of ``dtype`` if given), rejecting non-numeric input."""
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    if dtype is None and type(x) is np.ndarray and x.dtype.kind == "f":
        return x  # a floating array, as the checks below would return it (they cost ~4 us)
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if not np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float64)
    return arr


# From this size on, einsum's plain vectorized sum beats np.add.reduce's pairwise one by
# more than its call costs (115,008 float64: 11 us against 19.5; a BLAS dot product, 14.7
# at one thread, wakes every BLAS thread at the default count).
_EINSUM_MIN_SIZE = 8192


def surely_finite(x: np.ndarray) -> bool:
    """True if ``x`` holds no NaN or inf, decided by one pass and no temporary.

    A NaN or inf makes the sum non-finite (for large contiguous arrays the sum is
    ``np.einsum``'s: one pass, faster, never BLAS). False means "look closer": a
    non-finite entry, or finite entries so large that the sum overflowed. An array whose
    every stride is 0 (a broadcast scalar) holds one value: that one decides.
    """
    if x.size and not any(x.strides):
        return math.isfinite(x.flat[0])
    if x.size >= _EINSUM_MIN_SIZE and (x.flags.c_contiguous or x.flags.f_contiguous):
        # (einsum's loops raise no floating-point warnings: no errstate needed, which would
        # cost as much as the sum of a small array)
        return math.isfinite(np.einsum("i->", x.ravel(order="K")))  # a view either way
    with np.errstate(over="ignore", invalid="ignore"):  # the caller looks closer
        return math.isfinite(np.add.reduce(x, axis=None))


def all_finite(x: np.ndarray) -> bool:
    """True if ``x`` holds no NaN or inf, exactly: ``surely_finite``'s one pass, and an
    element-wise look only when that is unsure."""
    return surely_finite(x) or bool(np.isfinite(x).all())


# The longest array whose finiteness a dot product with zeros decides (0 * x is 0 for finite
# x, NaN otherwise; fastest for short arrays): OpenBLAS splits longer ones across all its
# threads, 7x the CPU time of one thread at 2 threads on a busy host.
DOT_CHECK_MAX = 8192


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise NonFiniteError if ``x`` holds NaN or inf."""
    if surely_finite(x):
        return
    bad = ~np.isfinite(x)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(x[where]) else "inf"
        raise NonFiniteError(
            f"{name} contains {kind} (first at index {where}); "
            f"{int(bad.sum())} non-finite value(s) in all"
        )
    # finite entries whose squares or sum overflowed: nothing wrong with the input


def check_nonempty(x: np.ndarray, name: str) -> None:
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")


def check_matrix(x: np.ndarray, name: str, n_features: int | None = None) -> None:
    """Require shape (N, D) with N >= 1 and, if given, D == n_features."""
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (N, D), got shape {x.shape}")
    check_nonempty(x, name)
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{name} has {x.shape[1]} features per row, expected {n_features}")
