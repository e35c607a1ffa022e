"""The module protocol is the seeds' protocol: ``forward(x)``, ``backward(grad)`` and, when
there are any, ``parameters()``. A learner's module with only those works in Sequential,
fit, evaluate and gradcheck, in float64 and float32, whatever widths it produces; a deep
copy and a pickle of (model, optimizer) train bit for bit like the original."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn.layers import MODULE_TYPES, register_module
from handgrad.train import fast


class ScaledTanh(hg.Module):
    """y = a * tanh(x), a fixed: dL/dx = dL/dy * a * (1 - tanh(x)^2)."""

    def __init__(self, a=1.7):
        self.a = a

    def forward(self, x):
        self.t = np.tanh(x)
        return self.a * self.t

    def backward(self, grad):
        return grad * self.a * (1 - self.t**2)


class PReLU(hg.Module):
    """y = x for x > 0, alpha_j * x otherwise, one learned slope per feature."""

    kink = 0.0  # gradcheck reports entries whose nudge crosses x = 0 (it reads self.x)

    def __init__(self, width, dtype=np.float64):
        self.alpha = hg.Parameter(np.full(width, 0.25, dtype), "alpha", regularize=False)

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha.value * x)

    def backward(self, grad):
        self.alpha.grad[...] = np.sum(np.where(self.x > 0, 0, grad * self.x), axis=0)
        return np.where(self.x > 0, grad, self.alpha.value * grad)

    def parameters(self):
        return [self.alpha]


class TwoViews(hg.Module):
    """[x, x^2]: doubles the width, declared nowhere. dL/dx = G1 + 2 x G2."""

    def forward(self, x):
        self.x = x
        return np.concatenate([x, x * x], axis=1)

    def backward(self, grad):
        d = self.x.shape[1]
        return grad[:, :d] + 2 * self.x * grad[:, d:]


def blobs(rng, n=120, dtype=np.float64):
    X = rng.normal(size=(n, 3)).astype(dtype)
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64) + (X[:, 0] > 1)
    return X, y


def custom_model(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return hg.Sequential(
        hg.Linear(3, 8, rng=rng, dtype=dtype),
        ScaledTanh(),
        hg.Linear(8, 6, rng=rng, dtype=dtype),
        PReLU(6, dtype),
        hg.Linear(6, 3, rng=rng, dtype=dtype),
    )


def test_custom_layers_pass_gradcheck_between_built_in_layers(rng):
    model = custom_model()
    X, y = blobs(rng, n=10)
    model[3].alpha.value[:] = rng.uniform(0.1, 0.5, 6)
    report = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    assert report.passed, report.table()
    assert [r.name for r in report.rows] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "3.alpha",
        "4.weight",
        "4.bias",
    ]
    assert report.max_rel_error < 1e-7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_custom_layers_train_with_fit_and_evaluate(rng, dtype):
    model = custom_model(dtype)
    X, y = blobs(rng, dtype=dtype)
    loss = hg.SoftmaxCrossEntropyLoss()
    opt = hg.Adam(model.parameters(), lr=0.02)
    assert not fast.supports(model, loss, opt, np.dtype(dtype))
    alpha0 = model[3].alpha.value.copy()
    before = hg.evaluate(model, loss, X, y, metrics=["accuracy"])
    h = hg.fit(model, loss, opt, X, y, epochs=30, batch_size=16, seed=0, metrics=["accuracy"])
    after = hg.evaluate(model, loss, X, y, metrics=["accuracy"])
    assert h.stop_reason is None and h.epochs == 30
    assert after["loss"] < 0.6 * before["loss"] and after["accuracy"] > 0.85
    assert not np.array_equal(model[3].alpha.value, alpha0)  # its own parameter trained
    for p in model.parameters():
        assert p.value.dtype == dtype and p.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_layer_that_changes_the_width_trains_with_fit(rng, dtype):
    X = rng.normal(size=(200, 2)).astype(dtype)
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.2).astype(dtype)  # a circle: linear in [x, x^2]
    for model in (
        hg.Sequential(TwoViews(), hg.Linear(4, 1, seed=0, dtype=dtype)),
        hg.Sequential(
            hg.Linear(2, 2, seed=0, dtype=dtype), TwoViews(), hg.Linear(4, 1, seed=1, dtype=dtype)
        ),
    ):
        loss = hg.BCEWithLogitsLoss()
        h = hg.fit(
            model, loss, hg.Adam(model.parameters(), lr=0.05), X, y, epochs=100, seed=0,
            metrics=["accuracy"], validation_data=(X[:50], y[:50]),
        )  # fmt: skip
        assert h.stop_reason is None
        assert h.metrics["accuracy"][-1] > 0.9 and h.val_metrics["accuracy"][-1] > 0.9
    assert "(N, 4)" in hg.Sequential(hg.Linear(2, 2), TwoViews()).summary()


def test_width_mismatch_is_still_reported_before_training(rng):
    model = hg.Sequential(TwoViews(), hg.Linear(5, 1, seed=0))  # TwoViews makes 4, not 5
    w0 = model[1].weight.value.copy()
    with pytest.raises(ValueError, match="4 features per row, expected 5"):
        hg.fit(model, hg.MSELoss(), hg.SGD(model.parameters()), np.ones((8, 2)), np.ones(8))
    assert np.array_equal(model[1].weight.value, w0)


def test_sequential_calls_backward_with_the_gradient_only(rng):
    calls = []

    class Spy(hg.Module):
        def forward(self, x):
            return x

        def backward(self, grad):  # exactly one argument: no input_grad
            calls.append(grad.shape)
            return grad

    model = hg.Sequential(Spy(), hg.Linear(3, 2, seed=0), Spy())
    model.forward(np.ones((4, 3)))
    dx = model.backward(np.ones((4, 2)))
    assert calls == [(4, 2), (4, 3)] and dx.shape == (4, 3)


# --- copies of (model, optimizer) -----------------------------------------------------------


OPTIMIZERS = [
    lambda ps: hg.SGD(ps, lr=0.1),
    lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: hg.Adam(ps, lr=0.01),
    lambda ps: hg.RMSProp(ps, lr=0.01, weight_decay=1e-3),
]


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("builtin", [True, False])
def test_a_copy_of_model_and_optimizer_trains_bit_for_bit_like_the_original(
    rng, make_opt, how, builtin
):
    X, y = blobs(rng)
    model = hg.mlp([3, 8, 3], seed=0) if builtin else custom_model()
    opt = make_opt(model.parameters())
    loss = hg.SoftmaxCrossEntropyLoss()
    hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=1)  # state to copy
    twin_model, twin_opt = (
        copy.deepcopy((model, opt))
        if how == "deepcopy"
        else pickle.loads(pickle.dumps((model, opt)))
    )
    # the copy's optimizer updates the copy's parameters, not the original's
    assert all(p is q for p, q in zip(twin_opt.params, twin_model.parameters()))
    for _ in range(3):
        h = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=2)
        h_twin = hg.fit(twin_model, loss, twin_opt, X, y, epochs=2, batch_size=16, seed=2)
        assert h.step_loss == h_twin.step_loss
    for p, q in zip(model.parameters(), twin_model.parameters()):
        assert np.array_equal(p.value, q.value)
    assert opt.t == twin_opt.t


def test_a_copy_keeps_learning_toward_the_target(rng):
    """The estimator story of the issue: 200 steps toward y = 1 after a copy end near 1."""
    X = rng.normal(size=(20, 2))
    model = hg.mlp([2, 4, 1], seed=0)
    opt = hg.SGD(model.parameters(), lr=0.05, momentum=0.5)
    loss = hg.MSELoss()
    hg.fit(model, loss, opt, X, np.zeros(20), epochs=5, batch_size=20, seed=0)
    twin, twin_opt = pickle.loads(pickle.dumps((model, opt)))
    hg.fit(twin, loss, twin_opt, X, np.ones(20), epochs=200, batch_size=20, seed=0)
    assert np.abs(hg.train.predict_outputs(twin, X) - 1.0).max() < 0.1  # -30.6 before the fix


# --- saving a model with a custom module ----------------------------------------------------


def test_register_module_contract():
    assert MODULE_TYPES["Linear"] is hg.Linear and MODULE_TYPES["ReLU"] is hg.ReLU
    assert "ScaledTanh" not in MODULE_TYPES
    try:

        @register_module
        class Scaled(ScaledTanh):
            def config(self):
                return {"type": "Scaled", "a": self.a}

        assert MODULE_TYPES["Scaled"] is Scaled
        rebuilt = MODULE_TYPES["Scaled"].from_config(Scaled(a=0.5).config())
        assert isinstance(rebuilt, Scaled) and rebuilt.a == 0.5
        linear = hg.Linear.from_config(hg.Linear(3, 2, bias=False).config(), np.float32)
        assert linear.weight.value.dtype == np.float32 and linear.bias is None
        with pytest.raises(ValueError, match="already named"):
            register_module(type("Scaled", (hg.Module,), {}))
        with pytest.raises(TypeError, match="Module subclass"):
            register_module(int)
    finally:
        MODULE_TYPES.pop("Scaled", None)


@pytest.mark.parametrize("builtin", [True, False])
def test_fit_keeps_every_value_and_grad_array_and_leaves_the_last_gradient(rng, builtin):
    """Both paths write into the user's arrays: after fit, p.grad is the last batch's gradient."""
    X, y = blobs(rng, n=32)
    model = hg.mlp([3, 8, 3], seed=0) if builtin else custom_model()
    values = [p.value for p in model.parameters()]
    grads = [p.grad for p in model.parameters()]
    loss = hg.SoftmaxCrossEntropyLoss()
    hg.fit(model, loss, hg.Adam(model.parameters(), lr=0.01), X, y, epochs=2, batch_size=32)
    assert all(p.value is v for p, v in zip(model.parameters(), values))
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))
    # one step on all 32 rows that moves nothing: p.grad is then the full-batch gradient
    hg.fit(model, loss, hg.SGD(model.parameters(), lr=1e-300), X, y, epochs=1, batch_size=32)
    left_by_fit = [g.copy() for g in grads]
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    for g, before in zip(grads, left_by_fit):
        assert np.allclose(g, before, rtol=1e-9, atol=1e-12)
