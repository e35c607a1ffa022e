"""The logit losses against a high-precision reference, from ±1e-8 to ±1e300.

For every finite logit the loss and its gradient must be finite, raise no warning, and be
within a few ulps (relative) of the exact value, including where the exact value is tiny
(logit 40, label 1: loss ~ 4.25e-18, gradient ~ -4.25e-18), which naive formulas round to 0.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest

import handgrad as hg

ULPS = 4
LOGITS = [1e-8, -1e-8, 30.0, -30.0, 40.0, -40.0, 800.0, -800.0, 1e300, -1e300]


@pytest.fixture
def strict():
    """Warnings become errors; NumPy raises on overflow, invalid and divide (not underflow,
    whose result, 0 or a subnormal, is the correctly rounded one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


def mp_softplus(z) -> mp.mpf:
    return mp.log1p(mp.exp(mp.mpf(z)))


def mp_sigmoid(z) -> mp.mpf:
    return 1 / (1 + mp.exp(-mp.mpf(z)))


# --- BCE with logits ------------------------------------------------------------------------


@pytest.mark.parametrize("label", [0.0, 1.0])
@pytest.mark.parametrize("z", LOGITS)
def test_bce_loss_and_gradient_to_a_few_ulps(z, label, assert_ulps, strict):
    loss = hg.BCEWithLogitsLoss()
    value = loss(np.array([[z]]), np.array([label]))
    grad = loss.backward()
    assert grad.shape == (1, 1)
    # l = y softplus(-z) + (1 - y) softplus(z);  dl/dz = sigmoid(z) - y
    exact_loss = mp_softplus(-z) if label == 1.0 else mp_softplus(z)
    exact_grad = mp_sigmoid(z) - label
    assert_ulps(value, exact_loss, ULPS, f"BCE loss at z={z}, y={label}")
    assert_ulps(grad[0, 0], exact_grad, ULPS, f"BCE gradient at z={z}, y={label}")


def test_bce_tiny_values_are_not_rounded_to_zero(strict):
    loss = hg.BCEWithLogitsLoss()
    value = loss(np.array([40.0]), np.array([1.0]))
    grad = loss.backward()[0]
    assert value == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert grad == pytest.approx(-4.248354255291589e-18, rel=1e-15)
    # the confident wrong answer costs its logit, with gradient sigmoid(z) - y = -1 exactly
    assert loss(np.array([-800.0]), np.array([1.0])) == 800.0
    assert loss.backward()[0] == -1.0
    assert loss(np.array([1e300]), np.array([0.0])) == 1e300


def test_bce_batch_of_extremes_mean_and_sum(strict):
    z = np.array(LOGITS)
    y = np.array([0.0, 1.0] * (len(LOGITS) // 2))
    exact = [mp_softplus(-zi) if yi else mp_softplus(zi) for zi, yi in zip(z, y)]
    total = hg.BCEWithLogitsLoss(reduction="sum")
    mean = hg.BCEWithLogitsLoss()
    s = total(z, y)
    m = mean(z, y)
    assert np.isfinite(s) and np.isfinite(m)
    assert s == pytest.approx(float(mp.fsum(exact)), rel=1e-15)
    assert m == pytest.approx(float(mp.fsum(exact)) / len(z), rel=1e-15)
    assert np.all(np.isfinite(total.backward())) and np.all(np.isfinite(mean.backward()))


# --- softmax cross-entropy ------------------------------------------------------------------


def mp_softmax_ce(row, label):
    """Exact loss logsumexp(row) - row[label] and gradient softmax(row) - onehot(label)."""
    row = [mp.mpf(float(v)) for v in row]
    lse = mp.log(mp.fsum(mp.exp(v) for v in row))
    grad = [mp.exp(v - lse) - (1 if j == label else 0) for j, v in enumerate(row)]
    return lse - row[label], grad


@pytest.mark.parametrize("label", [0, 1])
@pytest.mark.parametrize("z", LOGITS)
def test_softmax_ce_two_classes_to_a_few_ulps(z, label, assert_ulps, strict):
    row = np.array([[z, 0.0]])
    ce = hg.SoftmaxCrossEntropyLoss()
    value = ce(row, np.array([label]))
    grad = ce.backward()
    assert grad.shape == row.shape
    exact_loss, exact_grad = mp_softmax_ce(row[0], label)
    assert_ulps(value, exact_loss, ULPS, f"CE loss at {row[0]}, label {label}")
    for j in range(2):
        assert_ulps(grad[0, j], exact_grad[j], ULPS, f"CE grad[{j}] at {row[0]}, label {label}")


def test_softmax_ce_dominant_true_class(strict):
    ce = hg.SoftmaxCrossEntropyLoss()
    value = ce(np.array([[40.0, 0.0]]), np.array([0]))
    grad = ce.backward()[0]
    assert value == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert grad[0] == pytest.approx(-4.248354255291589e-18, rel=1e-15)
    assert grad[1] == pytest.approx(4.248354255291589e-18, rel=1e-15)


@pytest.mark.parametrize(
    ("row", "label"),
    [
        ([800.0, -800.0, 0.0], 0),
        ([800.0, -800.0, 0.0], 1),
        ([30.0, 30.0, -5.0], 2),
        ([1e300, -1e300, 0.0, 3.0], 3),
        ([-40.0, 0.0, 1e-8, -1e-8], 2),
        ([50.0, 10.0, 12.0], 0),
    ],
)
def test_softmax_ce_many_classes(row, label, assert_ulps, strict):
    z = np.array([row])
    ce = hg.SoftmaxCrossEntropyLoss()
    value = ce(z, np.array([label]))
    grad = ce.backward()
    exact_loss, exact_grad = mp_softmax_ce(row, label)
    assert_ulps(value, exact_loss, ULPS, f"CE loss at {row}, label {label}")
    for j, g in enumerate(exact_grad):
        assert_ulps(grad[0, j], g, ULPS, f"CE grad[{j}] at {row}, label {label}")
    # the same answer from one-hot targets
    assert ce(z, np.eye(len(row))[[label]]) == value


# --- shapes: nothing broadcasts to (N, N) ------------------------------------------------------


@pytest.mark.parametrize("loss_cls", [hg.BCEWithLogitsLoss, hg.MSELoss])
def test_target_shapes_never_broadcast(loss_cls, strict):
    # (MSE squares its error, so it gets moderate values: 1e300 ** 2 does overflow)
    big = 1e300 if loss_cls is hg.BCEWithLogitsLoss else 1e3
    z = np.array([[40.0], [-40.0], [1e-8], [800.0], [-big]])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    loss = loss_cls()
    a = loss(z, y)
    ga = loss.backward().copy()
    b = loss(z, y[:, None])
    gb = loss.backward().copy()
    assert a == b and np.array_equal(ga, gb)
    assert ga.shape == z.shape == (5, 1)
    # an (N, N) loss would be the mean over 25 pairs; check against the per-row value
    if loss_cls is hg.BCEWithLogitsLoss:
        rows = [float(mp_softplus(-zi) if yi else mp_softplus(zi)) for zi, yi in zip(z[:, 0], y)]
        assert a == pytest.approx(sum(rows) / 5, rel=1e-15)


def test_softmax_ce_label_shapes(strict):
    z = np.array([[40.0, 0.0], [0.0, 40.0], [800.0, -800.0]])
    ce = hg.SoftmaxCrossEntropyLoss()
    a = ce(z, np.array([0, 1, 1]))
    ga = ce.backward().copy()
    b = ce(z, np.array([[0], [1], [1]]))
    gb = ce.backward().copy()
    assert a == b and np.array_equal(ga, gb) and ga.shape == z.shape
    assert a == pytest.approx((2 * 4.248354255291589e-18 + 1600.0) / 3, rel=1e-15)


def test_float32_logits_stay_finite(strict):
    z = np.array([[40.0], [-40.0], [1e30], [-1e30], [100.0]], dtype=np.float32)
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    loss = hg.BCEWithLogitsLoss(reduction="sum")
    value = loss(z, y)
    grad = loss.backward()
    assert grad.dtype == np.float32
    assert np.all(np.isfinite(grad)) and np.isfinite(value)
    assert grad[0, 0] == pytest.approx(-4.248354e-18, rel=1e-6)
    assert value == pytest.approx(40.0 + 1e30 + 1e30 + 100.0, rel=1e-6)


# --- means near the top of the float range (issue 9) ----------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_losses_do_not_overflow_where_the_exact_mean_is_finite(dtype):
    big = np.sqrt(np.finfo(dtype).max) * dtype(0.9)  # each square is below the max
    pred = np.full(4, big, dtype=dtype)
    value = hg.MSELoss()(pred, np.zeros(4, dtype))
    assert np.isfinite(value) and value == pytest.approx(float(big) ** 2, rel=1e-6)
    logits = np.array([[-np.finfo(dtype).max / 2, 0.0]] * 3, dtype=dtype)
    value = hg.SoftmaxCrossEntropyLoss()(logits, np.zeros(3, dtype=np.int64))
    assert np.isfinite(value)
