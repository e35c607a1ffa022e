"""The estimators' data: X (dense or sparse), sample weights, the early-stopping split.

Sparse X (CSR or CSC, matrix or array) that would hold more than DENSE_BUDGET values dense
is never densified: training and prediction take its rows as CSR matrices (``rows``), which
the first layer multiplies as they are, as scikit-learn's MLPs do; smaller sparse X is
densified once, for the dense kernels.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..splits import held_out_count, split_rows
from ._params import jsonable

# X is predicted in chunks whose widest layer holds at most DENSE_BUDGET values (32 MB in
# float64), and at least PREDICT_CHUNK rows: one chunk for most tables (each chunk is a
# matrix product per layer; at the BLAS's default threads on a busy machine every product
# waits for its threads, so fewer products cost less).
DENSE_BUDGET = 4_000_000
PREDICT_CHUNK = 4096


def as_rows(X):
    """X ready for row batches: sparse X that fits in DENSE_BUDGET values dense is densified
    once (cheaper than densifying every batch); larger sparse X becomes CSR (rows are what
    batches take); dense X is kept."""
    if not sp.issparse(X):
        return X
    if X.shape[0] * X.shape[1] <= DENSE_BUDGET:
        return np.ascontiguousarray(X.toarray())
    return X if X.format == "csr" else X.tocsr()


def rows(X, idx, dtype):
    """The rows ``idx`` (an index array or a slice) of X in ``dtype``: C-contiguous when X is
    dense, a CSR matrix when X is sparse (never densified: the first layer multiplies it)."""
    if sp.issparse(X):
        return X[idx].astype(dtype, copy=False)
    return np.ascontiguousarray(X[idx], dtype=dtype)


def chunks(n: int, width: int) -> list[slice]:
    """Slices covering n rows in pieces of PREDICT_CHUNK rows, or more when a piece of the
    network's widest layer (``width`` values a row) still holds at most DENSE_BUDGET values."""
    size = max(PREDICT_CHUNK, DENSE_BUDGET // max(width, 1))
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def check_sample_weight(sample_weight, n: int, dtype) -> np.ndarray | None:
    """sample_weight as a (n,) array of non-negative finite numbers with a positive sum, or
    None (every row weighs 1). A scalar means that weight for every row."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numbers, got dtype {w.dtype}")
    w = w.astype(dtype)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}, expected ({n},): one weight per row")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight holds NaN or inf")
    if np.any(w < 0):
        raise ValueError("sample_weight must be >= 0, found a negative weight")
    if not w.sum() > 0:
        raise ValueError(
            "sample_weight sums to 0: Sample weights must contain at least one non-zero number"
        )
    return w


def check_validation_split(
    y_enc: np.ndarray, fraction: float, stratify: bool, classes: np.ndarray | None = None
) -> None:
    """Refuse a split the way scikit-learn's MLP refuses it, in its order: no training row
    (its ``train_test_split``), when stratified a class with a single member (the same), a
    validation set of fewer than 2 rows (the MLP). Draws nothing: fit calls it before
    touching random_state.
    """
    n = y_enc.shape[0]
    n_val = held_out_count(n, fraction)  # ceil, as scikit-learn's train_test_split rounds
    where = f"early_stopping: validation_fraction={fraction} of {n} samples"
    if n_val >= n:  # scikit-learn's words (its train_test_split's), then ours
        raise ValueError(
            f"With n_samples={n}, test_size={fraction} and train_size=None, the resulting "
            f"train set will be empty. Adjust any of the aforementioned parameters. ({where} "
            f"leaves {n - n_val} for training; training needs at least 1)"
        )
    if stratify:
        labels, counts = np.unique(y_enc, return_counts=True)
        if counts.min() < 2:
            raise ValueError(_too_few_members(labels[counts < 2], classes))
        if classes is not None and classes.size <= 2 and n_val < labels.size:
            raise ValueError(  # scikit-learn's words (its stratified split's), then ours
                f"The test_size = {n_val} should be greater or equal to the number of classes "
                f"= {labels.size}: {where} holds out {n_val} sample(s); the validation set "
                "needs at least 2. Increase validation_fraction or the size of the data."
            )
    if n_val < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of "
            f"your dataset. ({where} holds out {n_val} sample(s); it needs at least 2)"
        )


def _too_few_members(codes: np.ndarray, classes: np.ndarray | None) -> str:
    """scikit-learn's refusal of a stratified split (its ``train_test_split``'s words), the
    classes of one member named as scikit-learn names them (two classes: y binarized, so
    'False' / 'True'), then by the labels the user wrote."""
    labels = codes if classes is None else classes[codes.astype(np.intp)]
    named = [jsonable(c) for c in labels]
    binarized = classes is not None and classes.size <= 2
    names = [str(bool(c)) for c in codes] if binarized else named
    return (
        "The least populated classes in y have only 1 member, which is too few. The minimum "
        "number of groups for any class cannot be less than 2. Classes with too few members "
        f"are: {names}"
        + (f" (scikit-learn's names for y's classes {named})" if binarized else "")
        + ". early_stopping's validation split is stratified by class: it needs at least 2 "
        "samples of each class"
    )


def validation_split(
    y_enc: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    stratify: bool,
    classes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, validation), each in increasing order; stratified by class when
    ``stratify`` (``handgrad.splits.split_rows``: scikit-learn's sizes and class quotas).

    Checked by ``check_validation_split`` first.
    """
    check_validation_split(y_enc, fraction, stratify, classes)
    n = y_enc.shape[0]
    labels = y_enc if stratify else None
    return split_rows(n, held_out_count(n, fraction), rng, labels=labels, shuffle=False)
