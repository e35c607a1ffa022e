"""Small data sets: scikit-learn's packaged tables, and seeded 2-D toy generators.

Nothing here downloads. ``load_builtin`` reads the tables that ship inside scikit-learn;
the generators draw from an explicit ``numpy.random.Generator`` (scikit-learn's
``make_blobs`` / ``make_moons`` / ``make_circles`` take a legacy ``RandomState``, and the
house rule is one Generator per experiment, so the three short ones are written here).

Every function returns features ``X`` of shape (N, D) as float64 and targets ``y`` of
shape (N,): integer class labels (int64) for classification, float64 for regression.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..nn.constraints import Integer, Real, check
from ..nn.init import make_rng

__all__ = [
    "BUILTIN",
    "load_builtin",
    "builtin_class_names",
    "make_blobs",
    "make_moons",
    "make_circles",
]

# name -> (scikit-learn loader name, task)
BUILTIN: dict[str, tuple[str, str]] = {
    "digits": ("load_digits", "classification"),  # 1797 x 64, 8x8 pixels with values 0..16
    "breast_cancer": ("load_breast_cancer", "classification"),  # 569 x 30, 2 classes
    "iris": ("load_iris", "classification"),  # 150 x 4, 3 classes
    "wine": ("load_wine", "classification"),  # 178 x 13, 3 classes
    "diabetes": ("load_diabetes", "regression"),  # 442 x 10, disease progression
}


def load_builtin(name: str) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """One of scikit-learn's packaged data sets -> (X, y, feature_names, task).

    ``name``: "digits", "breast_cancer", "diabetes", "iris" or "wine".
    X (N, D) float64; y (N,) int64 labels when ``task == "classification"``, float64 values
    when ``task == "regression"``; ``feature_names`` has D entries. The rows are in the
    order scikit-learn stores them (shuffle before splitting).
    """
    if name not in BUILTIN:
        raise ValueError(f"unknown built-in data set {name!r}; choose from: {', '.join(BUILTIN)}")
    import sklearn.datasets  # imported here: only callers of this function pay for it

    loader, task = BUILTIN[name]
    bunch = getattr(sklearn.datasets, loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target)
    y = target.astype(np.int64) if task == "classification" else target.astype(np.float64)
    names = [str(n) for n in getattr(bunch, "feature_names", [f"x{j}" for j in range(X.shape[1])])]
    return X, y, names, task


def builtin_class_names(name: str) -> list[str] | None:
    """The class names of a built-in classification set, label k -> names[k]; None for
    regression ("iris" -> ['setosa', 'versicolor', 'virginica'])."""
    if name not in BUILTIN:
        raise ValueError(f"unknown built-in data set {name!r}; choose from: {', '.join(BUILTIN)}")
    loader, task = BUILTIN[name]
    if task != "classification":
        return None
    import sklearn.datasets

    return [str(c) for c in getattr(sklearn.datasets, loader)().target_names]


# --- toy generators ---------------------------------------------------------------------------


COUNT = Integer(1)
SPREAD = Real(0.0)  # a noise or a standard deviation


def make_blobs(
    n_per_class: int | Sequence[int] = 50,
    centers=((0.0, 0.0), (3.0, 3.0), (6.0, 0.0)),
    std: float = 1.0,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters: class k is ``centers[k] + std * N(0, I)``.

    ``centers`` (K, D); ``n_per_class`` one count for every class or K counts.
    Returns X (sum of counts, D) float64 and y int64, rows grouped by class (0 first).
    The defaults are chapter 7's three blobs at (0, 0), (3, 3), (6, 0) with unit spread.
    """
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[0] < 1:
        raise ValueError(f"centers must be a (K, D) array, got shape {centers.shape}")
    k = centers.shape[0]
    if isinstance(n_per_class, (Sequence, np.ndarray)):
        counts = list(n_per_class)
    else:
        counts = [n_per_class] * k
    if len(counts) != k:
        raise ValueError(f"n_per_class has {len(counts)} counts for {k} centers")
    counts = [check(c, COUNT, "n_per_class", "make_blobs") for c in counts]
    std = check(std, SPREAD, "std", "make_blobs")
    rng = make_rng(seed, rng)
    X = np.vstack(
        [c + std * rng.standard_normal((n, centers.shape[1])) for c, n in zip(centers, counts)]
    )
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    return X, y


def make_moons(
    n_samples: int = 200,
    noise: float = 0.1,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D, with Gaussian noise of std ``noise``.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t), t uniform on [0, pi].
    Returns X (n_samples, 2) float64 and y (n_samples,) int64 (class 0 gets the extra
    point when n_samples is odd).
    """
    n = check(n_samples, COUNT, "n_samples", "make_moons")
    noise = check(noise, SPREAD, "noise", "make_moons")
    rng = make_rng(seed, rng)
    n0 = n - n // 2
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    return X, y


def make_circles(
    n_samples: int = 200,
    noise: float = 0.05,
    factor: float = 0.5,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < f < 1).

    Angles uniform on [0, 2 pi), plus Gaussian noise of std ``noise`` on both coordinates.
    Returns X (n_samples, 2) float64 and y (n_samples,) int64.
    """
    n = check(n_samples, COUNT, "n_samples", "make_circles")
    noise = check(noise, SPREAD, "noise", "make_circles")
    factor = check(factor, Real(0.0, 1.0, low_open=True, high_open=True), "factor", "make_circles")
    rng = make_rng(seed, rng)
    n0 = n - n // 2
    radius = np.concatenate([np.ones(n0), np.full(n - n0, float(factor))])
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    return X, y
