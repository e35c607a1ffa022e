"""Weighted batches on the fused path: ``fast_losses.RowWeighted`` and the estimators' use of it.

The reference is the textbook ``Loss.forward(z, t, sample_weight)`` (reduction "sum") and, for
the estimators, the same objective forced onto the textbook ``forward``/``backward``: the same
numbers to a few ulps (the gradients of the binary cross-entropy and the squared error bit for
bit: the same operations). Unweighted batches keep their bits (benchmarks/fit_bits.py and the
estimators' fingerprints in the s9 notes).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import handgrad as hg
from handgrad.estimators import MLPClassifier, MLPRegressor, _solvers
from handgrad.train.fast_losses import LossKernel, RowWeighted

EPS = {np.dtype(np.float64): np.finfo(np.float64).eps, np.dtype(np.float32): 2.0**-23}


def assert_ulps(actual, expected, ulps: float, floor: float = 0.0) -> None:
    """|actual - expected| <= ulps * eps(dtype) * max(|expected|, floor), elementwise."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    scale = np.maximum(np.abs(expected), floor)
    err = np.abs(actual - expected)
    eps = EPS[expected.dtype] if expected.dtype in EPS else EPS[np.dtype(np.float64)]
    worst = float(np.max(err / np.where(scale > 0, scale, 1.0) / eps))
    assert np.all(err <= ulps * eps * scale), f"off by up to {worst:.1f} ulps"


def _case(loss_name: str, rng: np.random.Generator, dtype) -> tuple:
    """(loss with reduction="sum", logits z, target as fit prepares it, weights)."""
    n = 257
    if loss_name == "softmax_ce":
        loss, z = hg.SoftmaxCrossEntropyLoss(reduction="sum"), 4 * rng.standard_normal((n, 7))
        target = rng.integers(0, 7, n)
    elif loss_name == "soft_targets":
        loss, z = hg.SoftmaxCrossEntropyLoss(reduction="sum"), 4 * rng.standard_normal((n, 5))
        target = rng.dirichlet(np.ones(5), n)
    elif loss_name == "bce":
        loss, z = hg.BCEWithLogitsLoss(reduction="sum"), 5 * rng.standard_normal((n, 3))
        target = rng.integers(0, 2, (n, 3)).astype(float)
        z[:3, 0] = [40.0, -40.0, 0.0]  # the tails
    else:
        loss, z = hg.MSELoss(reduction="sum"), rng.standard_normal((n, 2))
        target = rng.standard_normal((n, 2))
    z = z.astype(dtype)
    w = rng.uniform(0.0, 3.0, n).astype(dtype)
    w[:5] = 0.0  # rows that count for nothing
    return loss, z, loss.prepare_target(target, z.shape, z.dtype), w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss_name", ["softmax_ce", "soft_targets", "bce", "mse"])
def test_row_weighted_kernel_is_the_textbook_weighted_loss(loss_name, dtype):
    loss, z, target, w = _case(loss_name, np.random.default_rng(3), dtype)
    value, grad = LossKernel(loss)(z, RowWeighted(target, w))
    expected_value = loss.forward(z, target, w)
    expected_grad = loss.backward()
    assert value == pytest.approx(expected_value, rel=8 * EPS[np.dtype(dtype)], abs=0)
    if loss_name in ("bce", "mse"):  # the same operations, in the same order
        assert np.array_equal(grad, expected_grad)
    else:
        assert_ulps(grad, expected_grad, ulps=4, floor=float(w.max()) / 8)
    assert grad.dtype == np.dtype(dtype)
    assert not np.any(grad[:5])  # zero weight, zero gradient
    # a weight of 2 is the row twice: the value of the sum over the rows counted
    rows = np.array([5, 5, 6, 7, 8, 8])
    repeated, _ = LossKernel(loss)(z[rows], target[rows])
    twice, _ = LossKernel(loss)(z[5:9], RowWeighted(target[5:9], np.array([2, 1, 1, 2], dtype)))
    assert twice == pytest.approx(repeated, rel=8 * EPS[np.dtype(dtype)])


def test_row_weights_are_for_the_summed_loss_only():
    loss = hg.SoftmaxCrossEntropyLoss()  # reduction="mean"
    z, labels = np.zeros((3, 2)), np.array([0, 1, 1])
    with pytest.raises(ValueError, match="reduction='sum'"):
        LossKernel(loss)(z, RowWeighted(labels, np.ones(3)))


# --- the estimators' objective ---------------------------------------------------------------

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS = X_DIGITS[:400] / 16.0
Y_DIGITS = Y_DIGITS[:400]
TARGETS = {
    "multiclass": (MLPClassifier, Y_DIGITS),
    "binary": (MLPClassifier, Y_DIGITS % 2),
    "multilabel": (MLPClassifier, np.c_[Y_DIGITS % 2, Y_DIGITS > 4]),
    "regression": (MLPRegressor, Y_DIGITS / 9.0),
    "two_outputs": (MLPRegressor, np.c_[Y_DIGITS / 9.0, X_DIGITS[:, 10]]),
}


def _value_and_grads(model, X, T, w, idx, fused: bool, monkeypatch) -> tuple:
    """J and its gradients on rows idx, by the fused kernels or by the textbook calls."""
    with monkeypatch.context() as patch:
        if fused:  # the textbook data term must not be used at all
            patch.setattr(_solvers.Objective, "_data_term", _refuse)
        else:
            patch.setattr(_solvers.Objective, "_fused", lambda self, X, T: None)
        objective = model._objective(1e-3)
        value = objective.value_and_grad(X, T, w, idx)
        return value, [p.grad.copy() for p in objective.params]


def _refuse(*args, **kwargs):
    raise AssertionError("a weighted dense batch went down the textbook path")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("task", sorted(TARGETS))
def test_weighted_batches_take_the_fused_path_with_the_textbook_numbers(task, dtype, monkeypatch):
    estimator, y = TARGETS[task]
    X = X_DIGITS.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator(hidden_layer_sizes=(16, 8), max_iter=3, random_state=0).fit(X, y)
    classes = getattr(model, "classes_", None)
    T = (
        model._encode_targets(np.asarray(y), X.dtype, False, classes)[0]
        if classes is not None
        else model._encode_targets(np.asarray(y), X.dtype, False)[0]
    )
    w = np.random.default_rng(1).uniform(0.0, 3.0, len(y))
    for idx in (None, np.arange(3, 400, 7), slice(64, 128)):
        fused_value, fused_grads = _value_and_grads(model, X, T, w, idx, True, monkeypatch)
        value, grads = _value_and_grads(model, X, T, w, idx, False, monkeypatch)
        assert fused_value == pytest.approx(value, rel=16 * EPS[np.dtype(dtype)], abs=0)
        for got, expected in zip(fused_grads, grads):
            assert got.dtype == expected.dtype == np.dtype(dtype)
            assert_ulps(got, expected, ulps=32, floor=float(np.abs(expected).max()))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_weighted_fit_follows_the_textbook_fit(solver, monkeypatch):
    """Whole fits: the fused weighted path against the same fit forced onto the textbook."""
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(Y_DIGITS))

    def fit(fused: bool):
        with monkeypatch.context() as patch:
            if not fused:
                patch.setattr(_solvers.Objective, "_fused", lambda self, X, T: None)
            model = MLPClassifier(
                hidden_layer_sizes=(16,), solver=solver, max_iter=8, random_state=0
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return model.fit(X_DIGITS, Y_DIGITS, sample_weight=w)

    fused, textbook = fit(True), fit(False)
    assert fused.n_iter_ == textbook.n_iter_
    np.testing.assert_allclose(fused.loss_curve_, textbook.loss_curve_, rtol=1e-12)
    for a, b in zip(fused.coefs_ + fused.intercepts_, textbook.coefs_ + textbook.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())
