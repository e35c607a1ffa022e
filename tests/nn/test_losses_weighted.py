"""Sample weights in the engine's losses, and the Poisson loss: values and gradients.

Every weighted forward/backward is checked by finite differences in float64; a weight of 2
must equal the sample appearing twice, 0 must equal the sample left out.
"""

from __future__ import annotations

import numpy as np
import pytest

from handgrad.nn import (
    BCEWithLogitsLoss,
    MSELoss,
    PoissonLoss,
    SoftmaxCrossEntropyLoss,
    gradcheck,
)


def _case(kind: str, rng, n: int = 7, k: int = 3):
    """(loss class, prediction (n, k), target) for each kind of loss."""
    z = rng.normal(size=(n, k))
    if kind == "mse":
        return MSELoss, z, rng.normal(size=(n, k))
    if kind == "bce":
        return BCEWithLogitsLoss, z, (rng.random((n, k)) < 0.5).astype(float)
    if kind == "softmax":
        return SoftmaxCrossEntropyLoss, z, rng.integers(0, k, n)
    return PoissonLoss, z, rng.poisson(2.0, size=(n, k)).astype(float)


KINDS = ["mse", "bce", "softmax", "poisson"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_weighted_gradient_matches_finite_differences(kind, reduction):
    rng = np.random.default_rng(0)
    cls, z, y = _case(kind, rng)
    w = rng.random(len(z)) * 3
    w[2] = 0.0
    loss = cls(reduction=reduction)
    loss.forward(z, y, w)
    report = gradcheck(lambda: loss.forward(z, y, w), {"z": z}, {"z": loss.backward().copy()})
    assert report.passed, report.max_rel_error()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_weight_two_is_a_duplicated_sample_and_zero_leaves_it_out(kind, reduction):
    rng = np.random.default_rng(1)
    cls, z, y = _case(kind, rng)
    w = np.ones(len(z))
    w[0], w[1] = 2.0, 0.0
    weighted = cls(reduction=reduction)
    value = weighted.forward(z, y, w)
    grad = weighted.backward()
    rows = np.r_[0, 0, 2 : len(z)]  # sample 0 twice, sample 1 left out
    plain = cls(reduction=reduction)
    expected = plain.forward(z[rows], y[rows])
    g = plain.backward()
    assert value == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(grad[0], g[0] + g[1], rtol=1e-13)
    np.testing.assert_array_equal(grad[1], 0.0)
    np.testing.assert_allclose(grad[2:], g[2:], rtol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_unit_weights_change_nothing(kind):
    rng = np.random.default_rng(2)
    cls, z, y = _case(kind, rng)
    a, b = cls(), cls()
    assert a.forward(z, y, np.ones(len(z))) == pytest.approx(b.forward(z, y), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14)


@pytest.mark.parametrize(
    "w, match",
    [
        (np.ones(3), r"shape \(7,\)"),
        (-np.ones(7), ">= 0"),
        (np.full(7, np.nan), "NaN"),
        (np.zeros(7), "sums to 0"),
    ],
)
def test_bad_weights_are_named(w, match):
    rng = np.random.default_rng(3)
    _, z, y = _case("mse", rng)
    with pytest.raises(ValueError, match=match):
        MSELoss().forward(z, y, w)


def test_poisson_is_half_the_deviance_from_the_log_rate():
    rng = np.random.default_rng(4)
    mu = rng.uniform(0.1, 5.0, size=(50, 2))
    y = rng.poisson(mu).astype(float)
    z = np.log(mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log = np.where(y > 0, y * np.log(y / mu), 0.0)
    half_deviance = y_log - y + mu
    loss = PoissonLoss(reduction="sum")
    assert loss.forward(z, y) == pytest.approx(half_deviance.sum(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), mu - y, rtol=1e-12)
    assert PoissonLoss().forward(np.log(y[y > 0]), y[y > 0]) == pytest.approx(0.0, abs=1e-12)
    report = gradcheck(lambda: loss.forward(z, y), {"z": z}, {"z": (mu - y).copy()})
    assert report.passed


def test_poisson_is_finite_for_large_log_rates_and_refuses_negative_counts():
    loss = PoissonLoss(reduction="sum")
    z = np.array([[700.0], [-700.0]])  # rates e^700 (finite) and e^-700 (tiny): both exact
    value = loss.forward(z, np.array([[3.0], [0.0]]))
    assert np.isfinite(value) and np.all(np.isfinite(loss.backward()))
    assert value == pytest.approx(np.exp(700.0) - 2100.0 + 3 * np.log(3) - 3 + np.exp(-700.0))
    with pytest.raises(ValueError, match="must be >= 0"):
        loss.forward(z, np.array([[-1.0], [0.0]]))


def test_weights_keep_float32():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(6, 2)).astype(np.float32)
    y = (rng.random((6, 2)) < 0.5).astype(np.float32)
    loss = BCEWithLogitsLoss()
    loss.forward(z, y, np.ones(6))
    assert loss.backward().dtype == np.float32
