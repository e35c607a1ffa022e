"""Layers, Sequential, mlp, count_parameters, summary, init, and bad input at the boundary."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import init

# --- Linear ---------------------------------------------------------------------------------


def test_linear_forward_is_x_at_w_plus_b(rng):
    layer = hg.Linear(3, 2, seed=0)
    layer.bias.value[...] = [0.5, -1.0]
    X = rng.normal(size=(4, 3))
    assert layer.weight.value.shape == (3, 2) and layer.bias.value.shape == (2,)
    assert np.allclose(layer.forward(X), X @ layer.weight.value + [0.5, -1.0], rtol=1e-15)
    assert np.array_equal(layer.bias.value, [0.5, -1.0])  # forward does not touch parameters


def test_linear_backward_formulas(rng):
    layer = hg.Linear(3, 2, seed=0)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer.forward(X)
    dx = layer.backward(G)
    assert np.allclose(layer.weight.grad, X.T @ G)
    assert np.allclose(layer.bias.grad, G.sum(axis=0))
    assert np.allclose(dx, G @ layer.weight.value.T)
    # backward overwrites, never accumulates
    layer.forward(X)
    layer.backward(G)
    assert np.allclose(layer.weight.grad, X.T @ G)
    with pytest.raises(TypeError):  # the protocol: backward(grad) and nothing else
        layer.backward(G, input_grad=False)


def test_linear_keeps_float32_and_does_not_upcast(rng):
    layer = hg.Linear(3, 2, seed=0, dtype=np.float32)
    assert layer.weight.value.dtype == np.float32 and layer.bias.value.dtype == np.float32
    y = layer.forward(rng.normal(size=(4, 3)))  # float64 input is cast to the layer's dtype
    assert y.dtype == np.float32
    layer.backward(np.ones((4, 2), np.float32))
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    ints = hg.Linear(2, 1, seed=0).forward([[1, 2], [3, 4]])
    assert ints.dtype == np.float64


BAD_INPUTS = [
    (np.ones((4, 2)), ValueError, "2 features per row, expected 3"),
    (np.array([[1.0, 2.0, np.nan]]), ValueError, "contains NaN"),
    (np.array([[1.0, -np.inf, 2.0]]), ValueError, "contains inf"),
    ([["a", "b", "c"]], TypeError, "numeric"),
    (np.array([[object(), 1, 2]], dtype=object), TypeError, "numeric"),
    (np.empty((0, 3)), ValueError, "empty"),
    (np.ones(3), ValueError, r"2-D .*shape \(3,\)"),
    (np.ones((2, 3, 1)), ValueError, "2-D"),
    ([[1.0, 2.0], [3.0]], TypeError, "numeric array"),
    (np.ones((2, 3), complex), TypeError, "real"),
]


@pytest.mark.parametrize(("x", "exc", "match"), BAD_INPUTS)
def test_linear_rejects_bad_input_without_changing_anything(x, exc, match, unchanged):
    layer = hg.Linear(3, 2, seed=0)
    good = np.ones((2, 3))
    layer.forward(good)
    with unchanged(layer), pytest.raises(exc, match=f"Linear input.*{match}|{match}"):
        layer.forward(x)
    # the cached batch is still the last good one: backward works and matches it
    layer.backward(np.ones((2, 2)))
    assert np.allclose(layer.weight.grad, good.T @ np.ones((2, 2)))


def test_linear_constructor_checks():
    with pytest.raises(ValueError, match="^Linear: in_features must be an integer >= 1, got 0$"):
        hg.Linear(0, 2)
    with pytest.raises(TypeError, match="^Linear: out_features must be an integer >= 1, got 2.5$"):
        hg.Linear(2, 2.5)
    with pytest.raises(TypeError, match="floating"):
        hg.Linear(2, 2, dtype=np.int64)
    with pytest.raises(ValueError, match="unknown init"):
        hg.Linear(2, 2, init="orthogonal")
    with pytest.raises(ValueError, match="either seed= or rng="):
        hg.Linear(2, 2, seed=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="^Linear: bias_init must be a finite number, got nan$"):
        hg.Linear(2, 2, bias_init=float("nan"))


def test_biases_start_at_zero_unless_asked_otherwise():
    assert np.array_equal(hg.Linear(3, 4, seed=0).bias.value, np.zeros(4))
    layer = hg.Linear(3, 4, seed=0, bias_init=0.01, dtype=np.float32)
    assert layer.bias.value.dtype == np.float32
    assert np.array_equal(layer.bias.value, np.full(4, 0.01, np.float32))
    # the weights do not depend on the bias choice: same seed, same draw
    assert np.array_equal(
        layer.weight.value, hg.Linear(3, 4, seed=0, dtype=np.float32).weight.value
    )


def test_backward_before_forward_and_wrong_gradient_shape():
    for layer in (hg.Linear(2, 2, seed=0), hg.ReLU(), hg.Tanh(), hg.Sigmoid(), hg.LeakyReLU()):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((1, 2)))
    layer = hg.Linear(3, 2, seed=0)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"gradient has shape \(4, 3\)"):
        layer.backward(np.ones((4, 3)))
    relu = hg.ReLU()
    relu.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="shape"):
        relu.backward(np.ones((3, 4)))


def test_activation_layers_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    assert np.array_equal(hg.ReLU()(z), [[0.0, 0.0, 3.0]])
    assert np.allclose(hg.LeakyReLU(0.2)(z), [[-0.4, 0.0, 3.0]])
    assert np.allclose(hg.Tanh()(z), np.tanh(z))
    assert np.allclose(hg.Sigmoid()(z), 1 / (1 + np.exp(-z)))
    assert hg.Identity()(z) is z
    relu = hg.ReLU()
    relu(z)
    assert np.array_equal(relu.backward(np.full((1, 3), 10.0)), [[0.0, 0.0, 10.0]])


# --- Sequential, mlp ------------------------------------------------------------------------


def test_mlp_structure_and_defaults():
    model = hg.mlp([4, 8, 6, 3], "tanh", seed=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    assert model.in_features == 4 and model.forward(np.zeros((2, 4))).shape == (2, 3)
    assert model.forward(np.ones((5, 4))).shape == (5, 3)
    assert hg.mlp([2, 1]).layers[0].out_features == 1 and len(hg.mlp([2, 1])) == 1


def test_mlp_same_seed_same_bits_and_rejects_bad_arguments():
    a = hg.mlp([3, 16, 2], "relu", seed=7)
    b = hg.mlp([3, 16, 2], "relu", seed=7)
    c = hg.mlp([3, 16, 2], "relu", seed=8)
    assert all(np.array_equal(p.value, q.value) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a[0].weight.value, c[0].weight.value)
    with pytest.raises(ValueError, match="activation"):
        hg.mlp([2, 3, 1], "swish")
    with pytest.raises(ValueError, match="sizes"):
        hg.mlp([2])
    with pytest.raises(TypeError, match="not a Module"):
        hg.Sequential(hg.Linear(2, 2), "relu")


def test_mlp_initialization_follows_the_activation():
    relu = hg.mlp([400, 300, 1], "relu", seed=0)[0].weight.value
    tanh = hg.mlp([400, 300, 1], "tanh", seed=0)[0].weight.value
    assert relu.var() == pytest.approx(2 / 400, rel=0.02)  # He
    assert tanh.var() == pytest.approx(2 / 700, rel=0.02)  # Xavier
    assert np.all(np.abs(tanh) <= np.sqrt(6 / 700))  # Xavier uniform bound


def test_sequential_backward_is_the_chain_rule(rng):
    model = hg.mlp([3, 4, 2], "sigmoid", seed=1)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    model.forward(X)
    dx = model.backward(G)
    lin1, act, lin2 = model.layers
    a = act.forward(lin1.forward(X))
    lin2.forward(a)
    manual = lin1.backward(act.backward(lin2.backward(G)))
    assert np.allclose(dx, manual, rtol=1e-15)


# --- count_parameters and summary -----------------------------------------------------------


def test_count_parameters_seed_004():
    assert hg.count_parameters([10, 64, 3]) == 899
    assert hg.count_parameters([2, 8, 1]) == 33
    assert hg.count_parameters([784, 128, 64, 10]) == 109386
    assert hg.mlp([10, 64, 3], seed=0).num_parameters() == 899
    with pytest.raises(ValueError):
        hg.count_parameters([10])
    with pytest.raises(ValueError):
        hg.count_parameters([10, 0, 3])


def test_summary_lists_layers_shapes_counts_and_total():
    text = hg.mlp([10, 64, 3], "relu", seed=0).summary()
    lines = text.splitlines()
    assert "layer" in lines[0] and "output shape" in lines[0] and "params" in lines[0]
    body = [line for line in lines if line[:1].isdigit()]
    assert len(body) == 3
    assert "Linear" in body[0] and "(N, 64)" in body[0] and body[0].rstrip().endswith("704")
    assert "ReLU" in body[1] and "(N, 64)" in body[1] and body[1].rstrip().endswith("0")
    assert "Linear" in body[2] and "(N, 3)" in body[2] and body[2].rstrip().endswith("195")
    assert lines[-1].startswith("total") and lines[-1].rstrip().endswith("899")


# --- init -----------------------------------------------------------------------------------

SCHEMES = {
    "he_normal": lambda fi, fo: 2 / fi,
    "he_uniform": lambda fi, fo: 2 / fi,
    "xavier_normal": lambda fi, fo: 2 / (fi + fo),
    "xavier_uniform": lambda fi, fo: 2 / (fi + fo),
    "lecun_normal": lambda fi, fo: 1 / fi,
    "lecun_uniform": lambda fi, fo: 1 / fi,
}


@pytest.mark.parametrize("name", list(SCHEMES))
def test_init_variance(name):
    fan_in, fan_out = 300, 500
    W = init.get_initializer(name)(fan_in, fan_out, np.random.default_rng(0), np.float64)
    assert W.shape == (fan_in, fan_out)
    var = SCHEMES[name](fan_in, fan_out)
    # 150,000 draws: the sample variance's relative standard error is about sqrt(2 / n) =
    # 0.0037 (less for uniform); 2 % is more than five standard errors
    assert W.var() == pytest.approx(var, rel=0.02)
    assert abs(W.mean()) < 5 * np.sqrt(var / W.size)
    if name.endswith("uniform"):
        assert np.abs(W).max() <= np.sqrt(3 * var)
        assert np.abs(W).max() > 0.99 * np.sqrt(3 * var)


def test_init_aliases_zeros_dtype_and_determinism():
    gen = np.random.default_rng
    assert init.get_initializer("kaiming_normal") is init.he_normal
    assert init.get_initializer("glorot_uniform") is init.xavier_uniform
    Z = init.get_initializer("zeros")(3, 4, gen(0), np.float64)
    assert Z.shape == (3, 4) and not Z.any()
    W32 = init.he_normal(5, 6, gen(0), np.float32)
    assert W32.dtype == np.float32
    a = init.xavier_uniform(7, 3, gen(123))
    b = init.xavier_uniform(7, 3, gen(123))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != init.xavier_uniform(7, 3, gen(124)).tobytes()
    with pytest.raises(ValueError, match="unknown init 'bogus'"):
        init.get_initializer("bogus")
    custom = hg.Linear(2, 3, init=lambda fi, fo, r, dt: np.full((fi, fo), 0.5, dt))
    assert np.all(custom.weight.value == 0.5)
    assert np.all(hg.Linear(2, 3, init="zeros").weight.value == 0)


def test_init_does_not_touch_global_random_state():
    # the legacy global state is used here on purpose, to show the engine leaves it alone
    before = np.random.get_state()  # noqa: NPY002
    hg.mlp([5, 10, 2], seed=3)
    hg.Linear(3, 3)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]
