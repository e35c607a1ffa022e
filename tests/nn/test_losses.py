"""Losses: values and gradients by hand, reductions, target shapes, bad input, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import handgrad as hg
from handgrad.nn import functional as F

EPS = float(np.finfo(np.float64).eps)


def naive_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- values and gradients at moderate inputs --------------------------------------------------


def test_mse_value_and_gradient_both_reductions():
    pred = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, -1.0]])
    target = np.array([[0.0, 2.0], [1.0, 1.0], [0.5, -1.0]])
    err = pred - target
    mean = hg.MSELoss()
    assert mean(pred, target) == pytest.approx(np.mean(err**2), rel=EPS)
    assert np.allclose(mean.backward(), 2 * err / err.size, rtol=EPS, atol=0)
    total = hg.MSELoss(reduction="sum")
    assert total(pred, target) == pytest.approx(np.sum(err**2), rel=EPS)
    assert np.allclose(total.backward(), 2 * err, rtol=EPS, atol=0)
    assert mean(pred, target) == pytest.approx(21.25 / 6)


def test_bce_with_logits_matches_the_textbook_formula_at_moderate_logits(rng):
    z = rng.normal(0, 3, size=(8, 1))
    y = rng.integers(0, 2, size=(8, 1)).astype(float)
    p = naive_sigmoid(z)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = hg.BCEWithLogitsLoss()
    assert loss(z, y) == pytest.approx(expected, rel=1e-13)
    assert np.allclose(loss.backward(), (p - y) / 8, rtol=1e-13, atol=0)
    total = hg.BCEWithLogitsLoss(reduction="sum")
    assert total(z, y) == pytest.approx(8 * expected, rel=1e-13)
    assert np.allclose(total.backward(), p - y, rtol=1e-13, atol=0)


def test_bce_at_zero_logit_is_log_2():
    loss = hg.BCEWithLogitsLoss()
    assert loss(np.zeros(5), np.array([0, 1, 0, 1, 1])) == pytest.approx(np.log(2), rel=EPS)
    assert np.allclose(loss.backward(), np.array([0.5, -0.5, 0.5, -0.5, -0.5]) / 5)


def test_softmax_ce_integer_labels_one_hot_and_soft_targets(rng):
    z = rng.normal(0, 2, size=(6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0])
    probs = F.softmax(z)
    expected = -np.mean(np.log(probs[np.arange(6), labels]))
    ce = hg.SoftmaxCrossEntropyLoss()
    value = ce(z, labels)
    grad = ce.backward().copy()
    assert value == pytest.approx(expected, rel=1e-13)
    assert np.allclose(grad, (probs - F.one_hot(labels, 4)) / 6, rtol=1e-12, atol=1e-17)
    # one-hot targets are the same loss and gradient, bit for bit
    assert ce(z, F.one_hot(labels, 4)) == value
    assert np.array_equal(ce.backward(), grad)
    # labels of shape (N, 1) and float labels are accepted too
    assert ce(z, labels[:, None]) == value
    assert ce(z, labels.astype(float)) == value
    # soft targets: -sum t log p, gradient p - t
    t = F.softmax(rng.normal(size=(6, 4)))
    assert ce(z, t) == pytest.approx(-np.mean(np.sum(t * np.log(probs), axis=1)), rel=1e-13)
    assert np.allclose(ce.backward(), (probs - t) / 6, rtol=1e-12, atol=1e-17)
    total = hg.SoftmaxCrossEntropyLoss(reduction="sum")
    assert total(z, labels) == pytest.approx(6 * expected, rel=1e-13)
    assert np.allclose(total.backward(), probs - F.one_hot(labels, 4), rtol=1e-12, atol=1e-16)


def test_loss_gradients_keep_float32():
    z = np.array([[0.5], [-1.0]], dtype=np.float32)
    for loss, target in [
        (hg.MSELoss(), np.array([1.0, 0.0])),
        (hg.BCEWithLogitsLoss(), np.array([1.0, 0.0])),
    ]:
        loss(z, target)
        assert loss.backward().dtype == np.float32
    ce = hg.SoftmaxCrossEntropyLoss()
    ce(np.zeros((2, 3), np.float32), np.array([0, 2]))
    assert ce.backward().dtype == np.float32


def test_backward_before_forward_and_bad_reduction():
    for cls in (hg.MSELoss, hg.BCEWithLogitsLoss, hg.SoftmaxCrossEntropyLoss):
        with pytest.raises(RuntimeError, match="before forward"):
            cls().backward()
        with pytest.raises(ValueError, match="reduction"):
            cls(reduction="avg")


# --- target shapes --------------------------------------------------------------------------


@pytest.mark.parametrize("loss_cls", [hg.MSELoss, hg.BCEWithLogitsLoss])
def test_target_n_and_n_by_1_are_interchangeable(loss_cls, rng):
    z = rng.normal(size=(7, 1))
    y = rng.integers(0, 2, size=7).astype(float)
    loss = loss_cls()
    a = loss(z, y)
    grad_a = loss.backward().copy()
    b = loss(z, y[:, None])
    grad_b = loss.backward().copy()
    assert a == b
    assert np.array_equal(grad_a, grad_b)
    assert grad_a.shape == z.shape == (7, 1)  # never (7, 7)
    # 1-D logits with an (N, 1) target: the gradient is shaped like the logits
    c = loss(z[:, 0], y[:, None])
    assert c == a
    assert loss.backward().shape == (7,)


@pytest.mark.parametrize("loss_cls", [hg.MSELoss, hg.BCEWithLogitsLoss])
def test_incompatible_target_shapes_are_rejected(loss_cls):
    z = np.zeros((4, 1))
    for target in (np.zeros((4, 2)), np.zeros(3), np.zeros((1, 4)), np.zeros((2, 2))):
        with pytest.raises(ValueError, match="does not match"):
            loss_cls()(z, target)


# --- bad input ------------------------------------------------------------------------------

BAD_CASES = [
    (hg.MSELoss, np.zeros((3, 1)), np.zeros(4), ValueError, "shape"),
    (hg.MSELoss, np.array([[np.nan], [0.0]]), np.zeros(2), ValueError, "prediction contains NaN"),
    (hg.MSELoss, np.zeros((2, 1)), np.array([0.0, np.inf]), ValueError, "target contains inf"),
    (hg.MSELoss, np.zeros((0, 1)), np.zeros(0), ValueError, "empty"),
    (hg.MSELoss, [["a"], ["b"]], np.zeros(2), TypeError, "numeric"),
    (hg.BCEWithLogitsLoss, np.zeros((3, 1)), np.zeros(2), ValueError, "shape"),
    (hg.BCEWithLogitsLoss, np.array([np.nan, 0.0]), np.zeros(2), ValueError, "NaN"),
    (hg.BCEWithLogitsLoss, np.zeros(3), np.array([0.0, 1.0, 2.0]), ValueError, "only 0 and 1"),
    (hg.BCEWithLogitsLoss, np.zeros(3), np.array([0.0, 0.5, 1.0]), ValueError, "only 0 and 1"),
    (hg.BCEWithLogitsLoss, np.zeros(2), np.array([-1.0, 1.0]), ValueError, "only 0 and 1"),
    (hg.BCEWithLogitsLoss, np.zeros(2), np.array([np.nan, 1.0]), ValueError, "NaN"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros((3, 2)), np.array([0, 1]), ValueError, "shape"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros((2, 3)), np.array([0, 3]), ValueError, "out of range"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros((2, 3)), np.array([-1, 0]), ValueError, "out of range"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros((2, 3)), np.array([0.5, 1.0]), ValueError, "integer"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros((2, 3)), np.array([np.nan, 1]), ValueError, "NaN"),
    (hg.SoftmaxCrossEntropyLoss, np.zeros(3), np.array([0, 1, 1]), ValueError, r"\(N, C\)"),
    (
        hg.SoftmaxCrossEntropyLoss,
        np.array([[0.0, np.inf]]),
        np.array([0]),
        ValueError,
        "prediction contains inf",
    ),
    (
        hg.SoftmaxCrossEntropyLoss,
        np.zeros((2, 2)),
        np.array([[0.7, 0.7], [0.5, 0.5]]),
        ValueError,
        "probability",
    ),
    (
        hg.SoftmaxCrossEntropyLoss,
        np.zeros((1, 2)),
        np.array([[1.5, -0.5]]),
        ValueError,
        "non-negative",
    ),
]


@pytest.mark.parametrize(("loss_cls", "pred", "target", "exc", "match"), BAD_CASES)
def test_bad_input_is_named(loss_cls, pred, target, exc, match):
    loss = loss_cls()
    with pytest.raises(exc, match=match):
        loss(pred, target)
    with pytest.raises(RuntimeError):  # a rejected batch leaves nothing to backpropagate
        loss.backward()


# --- L2 penalty -----------------------------------------------------------------------------


def test_l2_penalty_values_seed_003_and_conventions():
    w = hg.Parameter(np.array([2.0, 1.0, 0.5]), "weight", regularize=True)
    b = hg.Parameter(np.array([100.0]), "bias", regularize=False)
    half = hg.L2Penalty(0.01, convention="half")
    full = hg.L2Penalty(0.01, convention="full")
    assert half([w, b]) == pytest.approx(0.02625, rel=EPS)  # (0.01 / 2) * 5.25, bias excluded
    assert full([w, b]) == pytest.approx(0.0525, rel=EPS)
    for penalty, factor in ((half, 0.01), (full, 0.02)):
        w.grad[...] = 1.0
        b.grad[...] = 1.0
        penalty.add_gradient([w, b])
        assert np.allclose(w.grad, 1.0 + factor * w.value, rtol=EPS)
        assert b.grad[0] == 1.0


def test_l2_penalty_rejects_bad_arguments():
    with pytest.raises(ValueError, match="convention"):
        hg.L2Penalty(0.1, convention="double")
    with pytest.raises(ValueError, match="lam"):
        hg.L2Penalty(-0.1)
    with pytest.raises(ValueError, match="lam"):
        hg.L2Penalty(float("nan"))


# --- properties -----------------------------------------------------------------------------

logits = arrays(
    np.float64,
    st.integers(1, 8),
    elements=st.floats(-1e6, 1e6, allow_nan=False),
)


@given(logits, st.data())
def test_bce_is_non_negative_and_gradient_bounded(z, data):
    y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=z.size, max_size=z.size)))
    loss = hg.BCEWithLogitsLoss(reduction="sum")
    value = loss(z, y)
    grad = loss.backward()
    assert value >= 0.0 and np.isfinite(value)
    assert grad.shape == z.shape
    assert np.all(np.abs(grad) <= 1.0)
    # the gradient points away from the label: sigmoid(z) - y has the sign of (0.5 - y)
    assert np.all(grad * (0.5 - y) >= 0)


@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 5), st.integers(2, 5)), elements=st.floats(-1e4, 1e4)
    ),
    st.data(),
)
def test_softmax_ce_is_non_negative_and_rows_of_gradient_sum_to_zero(z, data):
    n, c = z.shape
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    loss = hg.SoftmaxCrossEntropyLoss(reduction="sum")
    assert loss(z, labels) >= 0.0
    grad = loss.backward()
    assert grad.shape == z.shape
    assert np.allclose(grad.sum(axis=1), 0.0, atol=4 * c * EPS)


# --- means without overflow where the exact mean is finite -----------------------------------


def _mpmath_mean(values):
    mpmath = pytest.importorskip("mpmath")
    return float(mpmath.fsum([mpmath.mpf(float(v)) for v in values]) / len(values))


@pytest.mark.parametrize("fast", [False, True], ids=["reference", "fastpath"])
def test_mean_losses_do_not_overflow_where_the_exact_mean_is_finite(fast):
    """Errors near 1e154 (their squares near 1e308), logits near 1e308: the sums overflow,
    the means do not. Before, each was inf; now each is the exact mean to a few ulps."""
    from handgrad.train.fast_losses import LossKernel

    def value(loss, z, y):
        if not fast:
            return loss.forward(z, y)
        target = loss.prepare_target(y, z.shape, z.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return LossKernel(loss)(z, target)[0]

    # MSE: squares of 1.3e154 are 1.69e308; four of them overflow the sum
    err = np.array([1.3e154, -1.3e154, 1.2e154, 1e3])
    mpmath = pytest.importorskip("mpmath")
    exact = float(sum(mpmath.mpf(float(e)) ** 2 for e in err) / 4)
    got = value(hg.MSELoss(), err[:, None], np.zeros((4, 1)))
    assert got == pytest.approx(exact, rel=1e-14) and np.isfinite(got)
    # one square itself overflows (2e154^2 = 4e308) but the mean over 8 is 5e307
    err = np.array([2e154] + [0.0] * 7)
    got = value(hg.MSELoss(), err[:, None], np.zeros((8, 1)))
    assert got == pytest.approx(5e307, rel=1e-14)  # (2e154)^2 / 8

    # BCE: logits of the wrong sign near 1e308: each term is ~|z|
    z = np.array([1.5e308, 1.4e308, -1.6e308, 1e308])
    y = np.array([0.0, 0.0, 1.0, 0.0])
    got = value(hg.BCEWithLogitsLoss(), z[:, None], y[:, None])
    assert got == pytest.approx(_mpmath_mean(np.abs(z)), rel=1e-14)

    # softmax cross-entropy: m - z_k = 1e308 - (-1e308) overflows; the mean over 4 rows is
    # (2e308 + 3 * 1e308) / 4 = 1.25e308
    z = np.array([[1e308, -1e308], [1e308, 0.0], [0.0, 1e308], [1e308, 0.0]])
    labels = np.array([1, 1, 0, 1])
    got = value(hg.SoftmaxCrossEntropyLoss(), z, labels)
    assert got == pytest.approx(1.25e308, rel=1e-14)


def test_sum_reductions_and_ordinary_means_are_unchanged():
    """Only an overflowing sum takes the other way: ordinary values give sum / n bit for bit."""
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 3))
    assert hg.MSELoss().forward(z, y) == float(((z - y) * (z - y)).sum()) / z.size
    err = np.array([2e154, 0.0])
    assert hg.MSELoss(reduction="sum").forward(err, np.zeros(2)) == np.inf
