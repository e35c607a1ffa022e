"""L1Penalty: value, gradient against finite differences away from 0, the subgradient 0 at 0,
float32 and float64, bad lam refused before anything is built."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg


def _params(dtype=np.float64):
    w = hg.Parameter(np.array([[2.0, -1.0], [0.5, -0.25]], dtype=dtype), "weight", regularize=True)
    b = hg.Parameter(np.array([100.0, -3.0], dtype=dtype), "bias", regularize=False)
    return w, b


def test_value_is_lam_times_the_sum_of_absolute_weights_biases_excluded():
    w, b = _params()
    assert hg.L1Penalty(0.01).value([w, b]) == pytest.approx(0.01 * 3.75, rel=1e-15)
    assert hg.L1Penalty(0.01)([w, b]) == hg.L1Penalty(0.01).value([w, b])
    assert hg.L1Penalty(0.0).value([w, b]) == 0.0


def test_gradient_is_lam_sign_w_and_matches_finite_differences_away_from_zero():
    rng = np.random.default_rng(7)
    w = hg.Parameter(rng.uniform(0.1, 2.0, (4, 3)) * rng.choice([-1.0, 1.0], (4, 3)), "weight")
    penalty, lam, h = hg.L1Penalty(0.3), 0.3, 1e-6
    w.grad[...] = 0.5  # the data's gradient: the penalty adds to it
    penalty.add_gradient([w])
    assert np.array_equal(w.grad, 0.5 + lam * np.sign(w.value))
    numeric = np.zeros_like(w.value)
    for index in np.ndindex(w.value.shape):
        saved = w.value[index]
        w.value[index] = saved + h
        up = penalty.value([w])
        w.value[index] = saved - h
        down = penalty.value([w])
        w.value[index] = saved
        numeric[index] = (up - down) / (2 * h)
    assert np.allclose(w.grad - 0.5, numeric, rtol=1e-7, atol=0)


def test_the_subgradient_at_zero_is_zero_so_a_zero_weight_stays_put():
    w = hg.Parameter(np.array([0.0, -0.0, 1e-300, -1e-300]), "weight")
    hg.L1Penalty(0.5).add_gradient([w])
    assert w.grad.tolist() == [0.0, 0.0, 0.5, -0.5]
    # a weight at exactly 0 with no data gradient: SGD leaves it at exactly 0, step after step
    z = hg.Parameter(np.zeros(3), "weight")
    sgd, penalty = hg.SGD([z], lr=0.1), hg.L1Penalty(0.5)
    for _ in range(5):
        z.grad[...] = 0.0
        penalty.add_gradient([z])
        sgd.step()
    assert z.value.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keeps_the_parameters_dtype(dtype):
    w, b = _params(dtype)
    penalty = hg.L1Penalty(0.125)
    assert penalty.value([w, b]) == pytest.approx(0.125 * 3.75)
    penalty.add_gradient([w, b])
    assert w.grad.dtype == dtype and b.grad.dtype == dtype
    assert w.grad.tolist() == [[0.125, -0.125], [0.125, -0.125]]
    assert b.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("lam", "error", "message"),
    [
        (-0.1, ValueError, "L1Penalty: lam must be a finite number >= 0, got -0.1"),
        (float("nan"), ValueError, "L1Penalty: lam must be a finite number >= 0, got nan"),
        (float("inf"), ValueError, "L1Penalty: lam must be a finite number >= 0, got inf"),
        ("0.1", TypeError, "L1Penalty: lam must be a finite number >= 0, got '0.1'"),
    ],
)
def test_bad_lam_is_refused_with_the_house_message(lam, error, message):
    with pytest.raises(error) as caught:
        hg.L1Penalty(lam)
    assert str(caught.value) == message
