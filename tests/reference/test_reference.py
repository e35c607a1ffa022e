"""The seeds' exercise functions: seed 002's ``backprop`` and seed 000's network as functions.

Each is checked three ways: against finite differences of its own loss, against an
independent formulation (a per-sample loop, or the engine's ``mlp`` + losses), and on
the edge cases the seeds name (shape mismatches, saturated units).
"""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F
from handgrad.reference import (
    backprop,
    backward,
    bce_from_logits,
    forward,
    gd_step,
    gradient_check,
    init_params,
    train,
)

# --- seed 002: backprop ---------------------------------------------------------------------


def _sigmoid_net_params(gen: np.random.Generator, D: int, H: int) -> dict:
    """Seed 002's initialization (uniform [0, 1) weights, zero biases), from a Generator."""
    return {
        "W1": gen.random((D, H)),
        "b1": np.zeros((1, H)),
        "W2": gen.random((H, 1)),
        "b2": np.zeros((1, 1)),
    }


def _summed_bce(X, Y, p) -> float:
    """Seed 002's loss, summed over samples, from the logit (softplus form)."""
    z1 = X @ p["W1"] + p["b1"]
    z2 = F.sigmoid(z1) @ p["W2"] + p["b2"]
    Y = np.asarray(Y, float).reshape(z2.shape)
    return float(np.sum(Y * F.softplus(-z2) + (1 - Y) * F.softplus(z2)))


def _check_against_fd(X, Y, p) -> hg.nn.GradcheckReport:
    D, H = p["W1"].shape
    grads = backprop(X, Y, D, H, p["W1"], p["b1"], p["W2"], p["b2"])
    for name in ("W1", "b1", "W2", "b2"):
        assert grads["d" + name].shape == p[name].shape
    report = hg.gradcheck(
        lambda: _summed_bce(X, Y, p), p, {k: grads["d" + k] for k in ("W1", "b1", "W2", "b2")}
    )
    return report


SEED002_EXAMPLES = [
    # (X, Y, input_size, hidden_size): the three examples of seed 002
    (np.array([[0, 0]]), np.array([[1]]), 2, 4),
    (np.array([[0, 1], [1, 0]]), np.array([[0], [1]]), 2, 3),
    (np.array([[1]]), np.array([[0]]), 1, 2),
]


@pytest.mark.parametrize("example", range(3))
def test_backprop_worked_examples_match_finite_differences(example):
    X, Y, D, H = SEED002_EXAMPLES[example]
    gen = np.random.default_rng(100 + example)
    p = _sigmoid_net_params(gen, D, H)
    p["b1"] = gen.normal(size=(1, H))  # nonzero biases exercise db too
    p["b2"] = gen.normal(size=(1, 1))
    report = _check_against_fd(X.astype(float), Y, p)
    assert report.passed, report.table()
    assert report.max_rel_error < 1e-8


def test_backprop_example1_has_zero_first_layer_weight_gradient():
    # X = [[0, 0]]: the first layer's weights see a zero input, so dW1 = X^T dz1 = 0 exactly,
    # while db1 (the same dz1, summed) does not vanish.
    X, Y, D, H = SEED002_EXAMPLES[0]
    p = _sigmoid_net_params(np.random.default_rng(7), D, H)
    g = backprop(X, Y, D, H, p["W1"], p["b1"], p["W2"], p["b2"])
    assert np.array_equal(g["dW1"], np.zeros((2, 4)))
    assert np.all(g["db1"] != 0)


def test_backprop_sums_per_sample_gradients():
    """Seed 002: 'calculated for each sample individually and then summed'."""
    gen = np.random.default_rng(5)
    m, D, H = 7, 3, 5
    X = gen.normal(size=(m, D))
    Y = gen.integers(0, 2, size=(m, 1))
    p = _sigmoid_net_params(gen, D, H)
    p["b1"], p["b2"] = gen.normal(size=(1, H)), gen.normal(size=(1, 1))
    total = backprop(X, Y, D, H, p["W1"], p["b1"], p["W2"], p["b2"])
    per_sample = [backprop(X[i : i + 1], Y[i : i + 1], D, H, *p.values()) for i in range(m)]
    for key in total:
        np.testing.assert_allclose(total[key], sum(g[key] for g in per_sample), rtol=1e-12)


def test_backprop_matches_textbook_formula_on_moderate_inputs():
    # Seed 002's notes written out literally (A = sigmoid output, dz2 = A - Y), independent
    # of the loss module, on inputs where the naive formulas are accurate.
    gen = np.random.default_rng(11)
    m, D, H = 100, 10, 20
    X = gen.normal(size=(m, D))
    Y = gen.integers(0, 2, size=(m, 1)).astype(float)
    W1, W2 = gen.normal(size=(D, H)) * 0.3, gen.normal(size=(H, 1)) * 0.3
    b1, b2 = gen.normal(size=(1, H)) * 0.1, gen.normal(size=(1, 1)) * 0.1
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = A - Y
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    want = {
        "dW1": X.T @ dz1,
        "db1": dz1.sum(0, keepdims=True),
        "dW2": a1.T @ dz2,
        "db2": dz2.sum(0, keepdims=True),
    }
    got = backprop(X, Y, D, H, W1, b1, W2, b2)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-12)


def test_backprop_accepts_flat_labels_and_1d_biases():
    gen = np.random.default_rng(3)
    X = gen.normal(size=(4, 2))
    Y = np.array([0, 1, 1, 0])
    p = _sigmoid_net_params(gen, 2, 3)
    g2d = backprop(X, Y[:, None], 2, 3, p["W1"], p["b1"], p["W2"], p["b2"])
    g1d = backprop(X, Y, 2, 3, p["W1"], p["b1"][0], p["W2"], p["b2"])
    assert g1d["db1"].shape == (3,)
    np.testing.assert_array_equal(g1d["db1"], g2d["db1"][0])
    np.testing.assert_array_equal(g1d["dW1"], g2d["dW1"])


def test_backprop_saturated_units_give_finite_gradients():
    gen = np.random.default_rng(2)
    X = gen.normal(size=(6, 3))
    Y = np.array([[0], [1], [0], [1], [1], [0]])
    W1 = np.full((3, 4), 1e4)  # hidden sigmoids saturate at exactly 0 or 1
    W2 = np.array([[1e4], [-1e4], [1e4], [1e4]])  # output logits of order 1e4
    b1, b2 = np.zeros((1, 4)), np.zeros((1, 1))
    g = backprop(X, Y, 3, 4, W1, b1, W2, b2)
    for key, value in g.items():
        assert np.all(np.isfinite(value)), key
    # saturated hidden units pass no gradient back; the output layer still gets |A - Y| <= 1
    assert np.array_equal(g["dW1"], np.zeros((3, 4)))
    assert np.abs(g["db2"]).max() <= 6
    # a confidently wrong sample contributes exactly 1 to |dz2| (sigmoid(z2) - Y = +-1)
    z2 = F.sigmoid(X @ W1) @ W2
    wrong = (z2[:, 0] > 0) != (Y[:, 0] == 1)
    assert wrong.any()
    np.testing.assert_allclose(g["db2"][0, 0], np.sum(F.sigmoid(z2) - Y))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"X": np.zeros((2, 3))}, "X has 3 columns but input_size is 2"),
        ({"Y": np.zeros((3, 1))}, r"Y has shape \(3, 1\)"),
        ({"Y": np.zeros((2, 2))}, r"Y has shape \(2, 2\)"),
        ({"Y": np.array([[0.0], [0.5]])}, "only 0 and 1"),
        ({"W1": np.zeros((3, 2))}, r"W1 has shape \(3, 2\), expected .* \(2, 3\)"),
        ({"b1": np.zeros((1, 4))}, r"b1 has shape \(1, 4\)"),
        ({"W2": np.zeros((3, 2))}, r"W2 has shape \(3, 2\)"),
        ({"b2": np.zeros((1, 2))}, r"b2 has shape \(1, 2\)"),
        ({"X": np.zeros(2)}, "X must be 2-D"),
        ({"hidden_size": 0}, "backprop: hidden_size must be an integer >= 1, got 0"),
        ({"X": np.array([[0.0, np.nan], [1.0, 1.0]])}, "NaN"),
    ],
)
def test_backprop_rejects_mismatched_shapes(change, message):
    args = {
        "X": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "Y": np.array([[0], [1]]),
        "input_size": 2,
        "hidden_size": 3,
        "W1": np.ones((2, 3)),
        "b1": np.zeros((1, 3)),
        "W2": np.ones((3, 1)),
        "b2": np.zeros((1, 1)),
    }
    args.update(change)
    with pytest.raises(ValueError, match=message):
        backprop(**args)


def test_backprop_keeps_float32():
    gen = np.random.default_rng(0)
    p = {k: v.astype(np.float32) for k, v in _sigmoid_net_params(gen, 2, 3).items()}
    g = backprop(np.ones((4, 2), np.float32), np.array([0, 1, 1, 0]), 2, 3, *p.values())
    assert all(v.dtype == np.float32 for v in g.values())


# --- seed 000: the network as functions -----------------------------------------------------


def _toy(seed: int = 0, n: int = 24, d: int = 3):
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, d))
    y = (X[:, 0] * X[:, 1] + 0.3 * X[:, -1] > 0).astype(float)
    return X, y


def _engine_twin(params: dict, activation: str) -> hg.Sequential:
    """handgrad.mlp with the same weights as ``params``."""
    D, H = params["W1"].shape
    model = hg.mlp([D, H, 1], activation, seed=0)
    for p, name in zip(model.parameters(), ("W1", "b1", "W2", "b2")):
        p.value[...] = params[name]
    return model


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_init_params_match_engine_mlp(activation):
    params = init_params(4, 6, activation, seed=9)
    model = hg.mlp([4, 6, 1], activation, seed=9)
    for p, name in zip(model.parameters(), ("W1", "b1", "W2", "b2")):
        np.testing.assert_array_equal(p.value, params[name])
    # the scale follows the activation: He std sqrt(2/fan_in); Xavier uniform bound
    big = init_params(400, 300, activation, seed=1)["W1"]
    if activation == "relu":
        assert abs(big.std() / np.sqrt(2 / 400) - 1) < 0.01
    else:
        assert np.abs(big).max() <= np.sqrt(6 / 700)
        assert abs(big.std() / np.sqrt(2 / 700) - 1) < 0.01


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_forward_shapes_and_probabilities(activation):
    X, _ = _toy(n=5, d=3)
    params = init_params(3, 7, activation, seed=0)
    params["b1"] = np.arange(7.0) / 10  # distinct per unit: broadcasting must be over rows
    cache = forward(X, params, activation)
    assert cache["z1"].shape == cache["a1"].shape == (5, 7)
    assert cache["z2"].shape == cache["p"].shape == (5, 1)
    np.testing.assert_allclose(cache["z1"][2], X[2] @ params["W1"] + params["b1"], rtol=1e-15)
    np.testing.assert_allclose(cache["p"], 1 / (1 + np.exp(-cache["z2"])), rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_forward_loss_and_backward_match_engine(activation):
    X, y = _toy(seed=1)
    gen = np.random.default_rng(4)
    params = init_params(3, 5, activation, seed=2)
    params["b1"], params["b2"] = gen.normal(size=5) * 0.3, gen.normal(size=1) * 0.3
    model, loss = _engine_twin(params, activation), hg.BCEWithLogitsLoss()

    cache = forward(X, params, activation)
    logits = model.forward(X)
    np.testing.assert_allclose(cache["z2"], logits, rtol=1e-12, atol=1e-12)
    engine_loss = loss.forward(logits, y)
    assert abs(bce_from_logits(cache["z2"], y) - engine_loss) <= 1e-12 * engine_loss

    grads = backward(X, y, params, cache, activation)
    model.backward(loss.backward())
    for p, name in zip(model.parameters(), ("W1", "b1", "W2", "b2")):
        assert grads[name].shape == params[name].shape
        np.testing.assert_allclose(grads[name], p.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_check_passes(activation):
    X, y = _toy(seed=3, n=16)
    params = init_params(3, 6, activation, seed=3)
    params["b1"] = np.random.default_rng(8).normal(size=6) * 0.2
    report = gradient_check(X, y, params, activation)
    assert report.passed, report.table()
    assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2"]
    assert report.max_rel_error < 1e-7


def test_gradient_check_catches_a_wrong_derivative(monkeypatch):
    # Swap tanh's derivative for ReLU's mask: the check must fail, loudly.
    from handgrad.reference import binary_classifier

    wrong = dict(binary_classifier.ACTIVATIONS)
    wrong["tanh"] = wrong["tanh"]._replace(backward=F.relu_backward)
    monkeypatch.setattr(binary_classifier, "ACTIVATIONS", wrong)
    X, y = _toy(seed=4, n=12)
    report = gradient_check(X, y, init_params(3, 4, "tanh", seed=0), "tanh")
    assert not report.passed
    assert report.max_rel_error > 1e-3


def test_gd_step_is_theta_minus_lr_g():
    params = init_params(2, 3, "tanh", seed=0)
    grads = {k: np.ones_like(v) for k, v in params.items()}
    new = gd_step(params, grads, 0.25)
    for k in params:
        np.testing.assert_array_equal(new[k], params[k] - 0.25)
    with pytest.raises(ValueError, match="gd_step: lr must be a finite number > 0, got 0.0"):
        gd_step(params, grads, 0.0)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_train_matches_engine_sgd_and_learns(activation):
    X, y = _toy(seed=5, n=64, d=2)
    params, losses = train(X, y, H=8, activation=activation, lr=0.5, epochs=300, seed=6)
    # the engine, full batch, same initialization and learning rate
    model = hg.mlp([2, 8, 1], activation, seed=6)
    loss = hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=0.5)
    history = hg.fit(model, loss, opt, X, y, epochs=300, batch_size=64, shuffle=False)
    np.testing.assert_allclose(losses, history.epoch_loss, rtol=1e-9)
    for p, name in zip(model.parameters(), ("W1", "b1", "W2", "b2")):
        np.testing.assert_allclose(params[name], p.value, rtol=1e-9, atol=1e-12)
    assert losses[-1] < 0.5 * losses[0]
    accuracy = np.mean((forward(X, params, activation)["z2"][:, 0] > 0) == y)
    assert accuracy >= 0.9


def test_bce_from_logits_is_finite_at_saturation():
    z = np.array([[-800.0], [800.0], [40.0]])
    y = np.array([1.0, 0.0, 1.0])
    value = bce_from_logits(z, y)
    # sample losses: 800, 800 and softplus(-40) ~ 4.25e-18; the mean is 1600 / 3
    assert value == pytest.approx(1600 / 3, rel=1e-15)


def test_binary_classifier_shape_errors_name_the_problem():
    params = init_params(3, 4, "relu", seed=0)
    with pytest.raises(ValueError, match=r"W1 has shape \(3, 4\), expected \(D, H\) with D = 2"):
        forward(np.zeros((5, 2)), params)
    with pytest.raises(ValueError, match="activation must be 'relu' or 'tanh', got 'sigmoid'"):
        forward(np.zeros((5, 3)), params, "sigmoid")
    bad = dict(params, b1=np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"b1 has shape \(1, 4\), expected \(4,\)"):
        forward(np.zeros((5, 3)), bad)
