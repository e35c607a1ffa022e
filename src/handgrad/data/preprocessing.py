"""Splitting and standardizing: the preprocessing every chapter needs, done once.

A ``Standardizer`` stores the mean and standard deviation of the training columns and
round-trips through a JSON-ready dict, so a saved model can apply the same scaling at
prediction time.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import as_float_array, check_finite, check_matrix
from ..nn.constraints import Real, check
from ..nn.init import make_rng
from ..splits import held_out_count, split_rows


class Standardizer:
    """x -> (x - mean) / std per column; constant columns get std 1 (they map to 0).

    Shapes: fit on X (N, D); ``mean_`` and ``scale_`` are (D,).
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X) -> Standardizer:
        X = as_float_array(X, "X")
        check_matrix(X, "X")
        check_finite(X, "X")
        self.mean_, std = _mean_and_std(X)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.scale_ is None:
            raise RuntimeError("Standardizer is not fitted; call fit(X) first")
        return self.mean_, self.scale_

    def transform(self, X) -> np.ndarray:
        mean, scale = self._fitted()
        X = as_float_array(X, "X")
        check_matrix(X, "X", mean.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            Z = (X - mean) / scale
            if not np.isfinite(Z).all():
                # x - mean overflows only for features near the float limit; dividing first
                # keeps every z-score that is itself representable
                Z = np.where(np.isfinite(Z), Z, X / scale - mean / scale)
        return Z.astype(X.dtype, copy=False)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        mean, scale = self._fitted()
        return np.asarray(Z) * scale + mean

    def to_dict(self) -> dict:
        mean, scale = self._fitted()
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        s = cls()
        s.mean_ = np.asarray(d["mean"], dtype=np.float64)
        s.scale_ = np.asarray(d["scale"], dtype=np.float64)
        if s.mean_.shape != s.scale_.shape or s.mean_.ndim != 1:
            raise ValueError("Standardizer: mean and scale must be 1-D arrays of equal length")
        return s


def _mean_and_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and population standard deviations, exact at any finite scale.

    Each column is divided by its largest magnitude first, so squaring neither overflows
    (features near 1e160 and beyond) nor underflows to zero (features near 1e-300); the
    statistics of the scaled column are then multiplied back.
    """
    peak = np.max(np.abs(X), axis=0) if X.shape[0] else np.zeros(X.shape[1], X.dtype)
    peak = np.where(peak > 0, peak, 1.0)
    scaled = X / peak
    return scaled.mean(axis=0) * peak, scaled.std(axis=0) * peak


def train_test_split(
    X,
    y,
    test_fraction: float = 0.2,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    stratify: bool = False,
):
    """Shuffle rows with a seeded Generator and split: -> X_train, X_test, y_train, y_test.

    The test part has ceil(test_fraction * N) rows, as in scikit-learn; with ``stratify``
    each class keeps its share in both parts (classification labels). The rules and the
    order of the draws are ``handgrad.splits.split_rows``'s; both parts come shuffled.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    fraction = Real(0.0, 1.0, low_open=True, high_open=True)
    test_fraction = check(test_fraction, fraction, "test_fraction", "train_test_split")
    n = X.shape[0]
    n_test = held_out_count(n, test_fraction)
    if not 1 <= n_test < n:
        raise ValueError(f"test_fraction={test_fraction} leaves an empty split of {n} rows")
    train, test = split_rows(n, n_test, make_rng(seed, rng), labels=y if stratify else None)
    return X[train], X[test], y[train], y[test]
