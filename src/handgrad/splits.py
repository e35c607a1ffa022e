"""One way to split rows in two: a held-out part (test or validation) and the rest.

Every split in handgrad goes through here: ``data.train_test_split`` (and so ``handgrad
train``'s train / validation / test), ``fit(validation_fraction=...)``, the estimators'
early-stopping split and the playground's train / test split. The rules are scikit-learn's
(``train_test_split`` and ``StratifiedShuffleSplit``):

- the held-out part has ``ceil(fraction * n)`` rows (``held_out_count``), computed in
  floating point as scikit-learn does, so 0.28 of 25 rows is 8 (0.28 * 25 is
  7.000000000000001);
- stratified, class c (of n_c rows) gets the floor of ``n_held * n_c / n`` held-out rows,
  and the rows still to give go one each to the classes with the largest remainders
  (ties broken at random); each class's rows are drawn by a permutation of its members.

All randomness comes from the Generator the caller passes, in a fixed order: the tie-break
draws (stratified only), one permutation (of all rows, or of each class's rows in sorted
label order), then, when ``shuffle``, a permutation of the kept part and one of the held part
(stratified only; unstratified rows come out of the first permutation already shuffled).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .nn.constraints import Real, check

Rows = NDArray[np.intp]

__all__ = ["held_out_count", "split_rows"]


def held_out_count(n: int, fraction: float) -> int:
    """How many of n rows a held-out ``fraction`` in (0, 1) takes: ceil(fraction * n)."""
    share: float = check(fraction, Real(0.0, 1.0, low_open=True, high_open=True), "fraction")
    return math.ceil(share * n)


def split_rows(
    n: int,
    n_held: int,
    rng: np.random.Generator,
    *,
    labels: ArrayLike | None = None,
    shuffle: bool = True,
) -> tuple[Rows, Rows]:
    """Row indices (kept, held) of n rows, ``n_held`` of them held out (``held_out_count``).

    ``labels`` (n,): stratify, so each class keeps its share in both parts. ``shuffle``: both
    parts come in random order; otherwise in increasing order. Shapes: (n - n_held,) and
    (n_held,), together a permutation of range(n).
    """
    if not 1 <= n_held <= n - 1:
        raise ValueError(
            f"holding out {n_held} of {n} rows leaves a part empty; each part needs a row"
        )
    if labels is None:
        order = rng.permutation(n)
        kept, held = order[n_held:], order[:n_held]
        return (kept, held) if shuffle else (np.sort(kept), np.sort(held))
    held = _stratified_held(np.asarray(labels), n, n_held, rng)
    mask = np.ones(n, dtype=bool)
    mask[held] = False
    kept = np.flatnonzero(mask)
    if shuffle:
        return rng.permutation(kept), rng.permutation(held)
    return kept, held


def _stratified_held(labels: np.ndarray, n: int, n_held: int, rng: np.random.Generator) -> Rows:
    """The held-out rows (sorted), each class's quota by largest remainder."""
    if labels.shape != (n,):
        raise ValueError(f"stratify labels have shape {labels.shape}, expected ({n},)")
    classes, counts = np.unique(labels, return_counts=True)
    exact = n_held * counts / n
    quota = np.floor(exact).astype(np.intp)
    spare = n_held - int(quota.sum())
    largest_remainder_first = np.lexsort((rng.random(classes.size), -(exact - quota)))
    quota[largest_remainder_first[:spare]] += 1
    held = [
        rng.permutation(np.flatnonzero(labels == c))[:k]
        for c, k in zip(classes, quota, strict=True)
    ]
    result: Rows = np.sort(np.concatenate(held))
    return result
