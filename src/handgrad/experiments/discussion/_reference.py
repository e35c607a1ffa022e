"""The high-precision reference and the grid helpers of the stability and precision parts."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...nn import functional as F
from ..base import fmt

try:  # high-precision references; optional (part of the test extras)
    import mpmath
except ImportError:  # pragma: no cover - exercised only where mpmath is absent
    mpmath = None


def first_bad_on_grid(z: np.ndarray, values: np.ndarray, err: np.ndarray, positive: bool):
    """Smallest |z| on one side of the grid where the value is non-finite or has err >= 0.5."""
    bad = ~np.isfinite(values) | (np.nan_to_num(err, nan=0.0) >= 0.5)
    side = (z > 0) if positive else (z < 0)
    hits = np.abs(z[side & bad])
    return float(hits.min()) if hits.size else None


def first_z(z: np.ndarray, mask: np.ndarray):
    return float(z[np.argmax(mask)]) if np.any(mask) else None


TINY = float(np.finfo(np.float64).tiny)  # smallest normal float64, 2.2e-308

EPS = float(np.finfo(np.float64).eps)


class Reference:
    """Exact values of the quantities compared, and relative errors against them.

    An exact value is a pair of float64 arrays (hi, lo) with hi + lo equal to it to about
    32 digits, so errors are computed with NumPy, not in multiple precision. With mpmath the
    pairs come from 50-digit arithmetic; without it from NumPy's ``logaddexp`` (an
    independent float64 implementation, lo = 0: good to a few ulps, enough to see every
    failure measured here, which are all above 1e-14).
    """

    def __init__(self):
        self.name = "mpmath (50 digits)" if mpmath is not None else "NumPy logaddexp (float64)"

    @staticmethod
    def _pairs(values) -> tuple[np.ndarray, np.ndarray]:
        """mpmath numbers -> (hi, lo) float64 arrays."""
        hi = np.array([float(v) for v in values])
        lo = np.array([float(v - h) if math.isfinite(h) else 0.0 for v, h in zip(values, hi)])
        return hi, lo

    def softplus(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log(1 + exp(z)) for each z."""
        if mpmath is None:
            return np.logaddexp(0.0, z), np.zeros_like(z)
        with mpmath.workdps(50):
            return self._pairs([mpmath.log1p(mpmath.exp(mpmath.mpf(float(v)))) for v in z])

    def complement(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """1 - sigmoid(z) = 1 / (1 + exp(z)) for each z."""
        if mpmath is None:
            return np.exp(-np.logaddexp(0.0, z)), np.zeros_like(z)
        with mpmath.workdps(50):
            return self._pairs([1 / (1 + mpmath.exp(mpmath.mpf(float(v)))) for v in z])

    def softmax_shifted(self) -> tuple[np.ndarray, np.ndarray]:
        """softmax([0, -1, -2]): the exact softmax of [s, s-1, s-2] for every s."""
        if mpmath is None:
            return F.softmax(np.array([0.0, -1.0, -2.0])), np.zeros(3)
        with mpmath.workdps(50):
            e = [mpmath.exp(-k) for k in range(3)]
            return self._pairs([v / sum(e) for v in e])

    def lse_shifted(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """logsumexp([s, s-1, s-2]) = s + log(1 + e^-1 + e^-2) for each s."""
        if mpmath is None:
            return s + float(F.logsumexp(np.array([0.0, -1.0, -2.0]))), np.zeros_like(s)
        with mpmath.workdps(50):
            offset = mpmath.log(1 + mpmath.exp(-1) + mpmath.exp(-2))
            return self._pairs([mpmath.mpf(float(v)) + offset for v in s])

    @staticmethod
    def rel_err(values: np.ndarray, exact: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """|value - exact| / max(|exact|, TINY); NaN where the value is not finite.

        Below the normal range the denominator is TINY: a correctly rounded subnormal (or 0
        for an exact value under 5e-324) then counts as exact to within eps.
        """
        hi, lo = exact
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs((values - hi) - lo) / np.maximum(np.abs(hi), TINY)
        return np.where(np.isfinite(values), err, np.nan)


def first_failure(bad: Callable[[float], bool], good: float, failing: float) -> float:
    """Bisect between a logit that works and one that fails; returns the first failing one.

    ``bad(z)`` must switch once between ``good`` and ``failing``; 200 halvings pin the
    boundary to adjacent float64 numbers.
    """
    with np.errstate(all="ignore"):  # the failures being located raise FP warnings
        for _ in range(200):
            mid = 0.5 * (good + failing)
            if mid in (good, failing):
                break
            if bad(mid):
                failing = mid
            else:
                good = mid
    return failing


def ulp_words(n: float) -> str:
    return f"{fmt(n)} ulp" + ("" if n == 1 else "s")
