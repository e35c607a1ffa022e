"""functional's softmax cross-entropy: exact where one class dominates, the loss class built on it,
and the backward functions' one convention ``name_backward(grad, saved)``."""

from __future__ import annotations

import inspect
import warnings

import mpmath as mp
import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F

DTYPES = [np.float64, np.float32]


def rows(dtype) -> np.ndarray:
    """Confident, tied, ordinary and range-spanning rows of four logits."""
    big = float(np.finfo(dtype).max)
    return np.array(
        [
            [0.0, -40.0, -60.0, -50.0],
            [40.0, 0.0, -1.0, 2.0],
            [0.0, -1e4, -800.0, -90.0],
            [30.0, 30.0, -5.0, 0.0],
            [1e17, 1e17, 0.0, 1.0],
            [big, -big, 0.0, 3.0],
            [0.5, -0.25, 1.5, 1e-8],
        ],
        dtype,
    )


LABELS = np.array([0, 1, 2, 3, 0, 0, 2])


def mp_row(row, label):
    """Exact loss logsumexp(row) - row[label] and gradient softmax(row) - onehot(label)."""
    row = [mp.mpf(float(v)) for v in row]
    lse = mp.log(mp.fsum(mp.exp(v) for v in row))
    grad = [mp.exp(v - lse) - (1 if j == label else 0) for j, v in enumerate(row)]
    return lse - row[label], grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_probabilities_equal_log_softmax_bit_for_bit(dtype):
    z = rows(dtype)
    got = F.softmax_rows(z).log_probabilities()
    assert got.dtype == dtype
    assert np.array_equal(got, F.log_softmax(z, axis=1))  # two codings of one formulation
    assert got[0, 0] < 0  # -s, not a rounded 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_pieces_of_a_row(dtype):
    z = rows(dtype)
    pieces = F.softmax_rows(z)
    n = np.arange(len(z))
    assert np.array_equal(pieces.top, np.argmax(z, axis=1))
    assert np.array_equal(pieces.maximum, z.max(axis=1))
    assert np.all(pieces.shifted[n, pieces.top] == 0) and np.all(
        pieces.exp_shifted[n, pieces.top] == 1
    )
    p = pieces.probabilities()
    assert p.dtype == dtype and np.allclose(p.sum(axis=1), 1, rtol=0, atol=4 * np.finfo(dtype).eps)
    assert p[0, 1] > 0 and p[5, 1] == 0  # exp(-40) kept; a span beyond the float range is 0


def test_loss_and_gradient_of_each_row_to_a_few_ulps(assert_ulps):
    z = rows(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses, grad = F.softmax_cross_entropy(z, LABELS)
    for i, (row, label) in enumerate(zip(z, LABELS)):
        exact_loss, exact_grad = mp_row(row, label)
        if not mp.isinf(exact_loss) and abs(exact_loss) < 1e308:
            assert_ulps(losses[i], exact_loss, 4, f"loss of row {i}")
        for j, g in enumerate(exact_grad):
            assert_ulps(grad[i, j], g, 4, f"gradient [{i}, {j}]")
    assert grad[4, 0] == -0.5 and -1e-17 < grad[0, 0] < 0  # -s / (1 + s), not 0


def test_float32_rows_agree_with_float64():
    z = rows(np.float32)[:5]  # the rows float64 holds exactly
    losses32, grad32 = F.softmax_cross_entropy(z, LABELS[:5])
    losses64, grad64 = F.softmax_cross_entropy(z.astype(np.float64), LABELS[:5])
    assert losses32.dtype == grad32.dtype == np.float32
    tol = 8 * np.finfo(np.float32).eps
    assert np.allclose(losses32, losses64, rtol=tol, atol=0)
    assert np.allclose(grad32, grad64, rtol=tol, atol=1e-44)


def test_soft_targets_give_minus_q_log_p_and_p_minus_q():
    z = rows(np.float64)[[0, 1, 3, 6]]
    q = np.full((4, 4), 0.25)
    losses, grad = F.softmax_cross_entropy(z, q)
    log_p = F.log_softmax(z, axis=1)
    assert np.array_equal(losses, -np.sum(q * log_p, axis=1))
    assert np.allclose(grad, F.softmax(z, axis=1) - q, rtol=0, atol=1e-16)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_terms_are_finite_and_add_up_to_the_loss(dtype):
    z = rows(dtype)
    big_row = 5
    losses, _ = F.softmax_cross_entropy(z, LABELS)
    labels = LABELS.copy()
    labels[big_row] = 1  # the loss there is 2 * max: beyond the float range
    with np.errstate(over="ignore"):
        losses_big, _ = F.softmax_cross_entropy(z, labels)
    terms = F.softmax_cross_entropy_terms(z, labels)
    assert np.isinf(losses_big[big_row]) and all(np.all(np.isfinite(t)) for t in terms)
    ordinary = [0, 1, 3, 6]
    with np.errstate(over="ignore"):
        added = terms[0] + terms[1] + terms[2]
    assert np.allclose(added[ordinary], losses[ordinary], rtol=8 * np.finfo(dtype).eps, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_loss_class_reduces_the_functions_rows_bit_for_bit(dtype, reduction):
    z = rows(dtype)[[0, 1, 2, 3, 4, 6]]
    labels = LABELS[[0, 1, 2, 3, 4, 6]]
    losses, grad = F.softmax_cross_entropy(z, labels)
    loss = hg.SoftmaxCrossEntropyLoss(reduction=reduction)
    value = loss(z, labels)
    total = float(losses.sum())
    assert value == (total / len(z) if reduction == "mean" else total)
    scale = 1.0 / len(z) if reduction == "mean" else 1.0
    assert np.array_equal(loss.backward(), grad * scale)


def test_the_mean_loss_stays_finite_where_a_row_spans_the_float_range():
    z = rows(np.float64)
    labels = LABELS.copy()
    labels[5] = 1
    value = hg.SoftmaxCrossEntropyLoss()(z, labels)
    exact = mp.fsum(mp_row(row, label)[0] for row, label in zip(z, labels)) / len(z)
    assert np.isfinite(value) and value == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize(
    ("logits", "target", "match"),
    [
        (np.zeros(3), np.array([0, 1, 2]), r"\(N, C\)"),
        (np.zeros((2, 0)), np.array([0, 0]), "C >= 1"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), r"labels \(2,\)"),
        (np.zeros((2, 3)), np.array([0, 3]), r"in \[0, 3\)"),
        (np.zeros((2, 3)), np.array([-1, 0]), r"in \[0, 3\)"),
        (np.zeros((2, 3)), np.array([0.5, 1.0]), "integers"),
        (np.zeros((2, 3)), np.full((2, 2), 0.5), r"probabilities of shape \(2, 2\)"),
    ],
)
def test_bad_input_is_refused_by_name(logits, target, match):
    with pytest.raises(ValueError, match=match):
        F.softmax_cross_entropy(logits, target)
    if np.ndim(target) == 1:
        with pytest.raises(ValueError, match=match):
            F.softmax_cross_entropy_terms(logits, target)


def test_complex_logits_are_refused():
    with pytest.raises(TypeError, match="complex"):
        F.softmax_rows(np.ones((2, 2), complex))


# --- the backward functions: one convention ---------------------------------------------------

BACKWARD = {  # the function, its forward, and whether ``saved`` is the forward's input
    F.relu_backward: (F.relu, "input"),
    F.leaky_relu_backward: (F.leaky_relu, "input"),
    F.sigmoid_backward: (F.sigmoid, "output"),
    F.tanh_backward: (F.tanh, "output"),
}


@pytest.mark.parametrize("backward", BACKWARD, ids=lambda f: f.__name__)
def test_every_backward_takes_grad_then_saved(backward):
    names = list(inspect.signature(backward).parameters)
    assert names[:2] == ["grad", "saved"]
    assert "saved" in (backward.__doc__ or "") and "shape" in (backward.__doc__ or "")


@pytest.mark.parametrize("backward", BACKWARD, ids=lambda f: f.__name__)
def test_backward_given_what_its_forward_keeps_is_the_derivative(backward):
    forward, saved = BACKWARD[backward]
    z = np.array([-3.0, -0.7, -1e-3, 0.4, 1.3, 2.5])
    grad = np.array([1.0, -2.0, 0.5, 3.0, 1.0, -1.0])
    h = 1e-6
    slope = (forward(z + h) - forward(z - h)) / (2 * h)
    got = backward(grad, z if saved == "input" else forward(z))
    assert np.allclose(got, grad * slope, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_layers_pass_what_they_keep(dtype):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(4, 5)) * 3).astype(dtype)
    g = rng.normal(size=(4, 5)).astype(dtype)
    expected = {
        hg.ReLU(): lambda: F.relu_backward(g, x),
        hg.LeakyReLU(0.2): lambda: F.leaky_relu_backward(g, x, 0.2),
        hg.Sigmoid(): lambda: F.sigmoid_backward(g, F.sigmoid(x)),
        hg.Tanh(): lambda: F.tanh_backward(g, F.tanh(x)),
    }
    for layer, by_hand in expected.items():
        layer.forward(x)
        got = layer.backward(g)
        assert got.dtype == dtype and np.array_equal(got, by_hand()), type(layer).__name__
