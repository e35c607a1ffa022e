"""``infer``: ``forward``'s output, bit for bit, its checks and errors, and nothing kept."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import NonFiniteError
from handgrad.nn.inference import infer

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]


def _bits(a: np.ndarray) -> np.ndarray:
    """The array's bytes as unsigned integers: equal bits, not just equal values."""
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _saved(model: hg.Sequential) -> list:
    """What each layer keeps for a backward (None when nothing)."""
    names = ("_x", "_y")
    return [getattr(layer, name) for layer in model for name in names if hasattr(layer, name)]


def _net(sizes, activation, dtype, seed=0, scale=3.0):
    model = hg.mlp(sizes, activation, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for p in model.parameters():  # biases too, and weights large enough to use both sides
        p.value[...] = rng.normal(scale=scale, size=p.value.shape)
    return model


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes", [[5, 3], [5, 7, 3], [5, 8, 6, 1], [5, 4, 4, 4, 2]])
@pytest.mark.parametrize("rows", [1, 37])
def test_infer_is_forward_bit_for_bit_and_keeps_nothing(activation, dtype, sizes, rows):
    model = _net(sizes, activation, dtype)
    X = np.random.default_rng(2).normal(scale=2.0, size=(rows, sizes[0])).astype(dtype)
    X_before = X.copy()
    y = infer(model, X)
    assert all(v is None for v in _saved(model))  # nothing kept
    assert np.array_equal(X, X_before)  # the caller's array is never written
    expected = model.forward(X)
    assert y.dtype == expected.dtype == dtype and y.shape == expected.shape == (rows, sizes[-1])
    assert np.array_equal(_bits(y), _bits(expected))
    assert any(v is not None for v in _saved(model))  # (forward keeps them: the test can fail)


@pytest.mark.parametrize("slope", [0.01, 0.3, -0.5])
def test_leaky_relu_in_place_keeps_the_slope_and_the_zeros(slope):
    model = hg.Sequential(hg.Linear(2, 4, seed=0), hg.LeakyReLU(slope), hg.Linear(4, 1, seed=1))
    lin = model[0]
    lin.weight.value[...] = [[1.0, -1.0, 0.0, 1e-300], [0.0, 0.0, 0.0, -1e-300]]
    X = np.array([[2.0, 0.0], [-3.0, 5.0], [0.0, -0.0]])
    assert np.array_equal(_bits(infer(model, X)), _bits(model.forward(X)))


def test_a_network_that_starts_with_an_activation_leaves_x_alone():
    for first in (hg.ReLU(), hg.LeakyReLU(0.2), hg.Tanh(), hg.Sigmoid(), hg.Identity()):
        model = hg.Sequential(first, hg.Linear(3, 2, seed=0), hg.ReLU())
        X = np.array([[-1.0, 0.5, 2.0], [3.0, -4.0, 0.0]])
        X_before = X.copy()
        y = infer(model, X)
        assert np.array_equal(X, X_before), type(first).__name__
        assert np.array_equal(y, model.forward(X))


def test_integer_and_list_input_are_converted_as_forward_converts_them():
    model = _net([3, 4, 2], "relu", np.float32)
    X = [[1, -2, 3], [0, 5, -1]]
    y = infer(model, X)
    assert y.dtype == np.float32 and np.array_equal(y, model.forward(X))
    y64 = infer(_net([3, 4, 2], "tanh", np.float64), np.array(X))
    assert y64.dtype == np.float64


class Doubler(hg.Module):
    """A learner's module: keeps its output, which it returns (an in-place ReLU after it
    must not write into it)."""

    def forward(self, x):
        self.out = 2.0 * np.asarray(x)
        return self.out

    def backward(self, grad_y):
        return 2.0 * grad_y


def test_a_module_handgrad_does_not_know_runs_its_forward_and_its_output_is_not_overwritten():
    doubler = Doubler()
    inner = hg.Sequential(hg.Linear(3, 4, seed=0), doubler)
    model = hg.Sequential(inner, hg.ReLU(), hg.Linear(4, 2, seed=1), hg.Tanh())
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = infer(model, X)
    kept = doubler.out.copy()
    assert (kept < 0).any()  # a ReLU writing into it would have zeroed these
    assert np.array_equal(_bits(y), _bits(model.forward(X)))
    assert np.array_equal(doubler.out, kept)


def test_the_same_errors_as_forward():
    model = _net([3, 4, 2], "relu", np.float64)
    for bad, error in [
        (np.ones((2, 5)), ValueError),  # width
        (np.ones(3), ValueError),  # not a matrix
        (np.array([[1.0, np.nan, 0.0]]), NonFiniteError),
        (np.array([["a", "b", "c"]]), TypeError),
    ]:
        with pytest.raises(error) as from_forward:
            model.forward(bad)
        with pytest.raises(error) as from_infer:
            infer(model, bad)
        assert str(from_infer.value) == str(from_forward.value)


def test_a_hidden_value_that_overflows_is_reported_by_the_next_layer_as_in_forward():
    model = _net([2, 3, 3, 1], "relu", np.float64, scale=1.0)
    model[0].weight.value[...] = 1e300
    X = np.array([[1e10, 1e10]])
    with np.errstate(over="ignore"):
        with pytest.raises(NonFiniteError) as from_forward:
            model.forward(X)
        with pytest.raises(NonFiniteError) as from_infer:
            infer(model, X)
    assert "Linear input contains inf" in str(from_infer.value)
    assert str(from_infer.value) == str(from_forward.value)
