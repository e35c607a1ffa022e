"""``handgrad.train.fast`` computes the same numbers as the reference engine in ``nn``.

Each kernel (Linear, ReLU, the fused losses, every optimizer's update) is compared with the
reference module (float64, to a few ulps; bit for bit where the operations are the same),
and whole ``fit`` trajectories on the fast path with the same ``fit`` forced onto the
reference path and with a hand-written loop over the same batches. Also: buffers are
reused (no per-step allocation that grows with N), and modules or losses that replace
``forward`` keep being called.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F
from handgrad.train import batches, fast_layers
from handgrad.train import fast as fastpath
from handgrad.train.fast_losses import LossKernel, SoftmaxCEKernel
from handgrad.train.fast_updates import Update

EPS = np.finfo(np.float64).eps


def assert_ulps(actual, expected, ulps: float = 4.0, floor: float = 0.0):
    """|actual - expected| <= ulps * eps * max(|expected|, floor), elementwise."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    scale = np.maximum(np.abs(expected), floor)
    err = np.abs(actual - expected)
    worst = float(np.max(err / np.where(scale > 0, scale, 1.0) / EPS))
    assert np.all(err <= ulps * EPS * scale), f"off by up to {worst:.1f} ulps"


# --- layers ---------------------------------------------------------------------------------


def test_linear_kernel_is_the_reference_linear(rng):
    layer = hg.Linear(7, 5, seed=0)
    layer.bias.value[:] = rng.standard_normal(5)
    x, g = rng.standard_normal((6, 7)), rng.standard_normal((6, 5))
    y_ref = layer.forward(x)
    dx_ref = layer.backward(g)
    dW_ref, db_ref = layer.weight.grad.copy(), layer.bias.grad.copy()
    grads = [layer.weight.grad, layer.bias.grad]

    kernel = fast_layers.LinearKernel(layer, np.float64, input_grad=True)
    y = kernel.forward(x)
    assert np.array_equal(y, y_ref)  # bit for bit: the same BLAS call
    dx = kernel.backward(g)
    assert np.array_equal(dx, dx_ref) and np.array_equal(layer.weight.grad, dW_ref)
    assert_ulps(layer.bias.grad, db_ref, floor=1.0)  # 1^T G sums in another order
    assert [layer.weight.grad, layer.bias.grad] == grads  # written in place, same objects
    # the same batch size writes into the same arrays; the first layer skips dx
    assert kernel.forward(x) is y
    first = fast_layers.LinearKernel(layer, np.float64, input_grad=False)
    first.forward(x)
    assert first.backward(g) is None and np.array_equal(layer.weight.grad, dW_ref)


def test_relu_kernel_is_the_reference_relu(rng):
    relu, kernel = hg.ReLU(), fast_layers.ReLUKernel(np.float64)
    z = rng.standard_normal((8, 6))
    z[0, :3] = [0.0, -0.0, 5e-324]  # the kink and the smallest positive number
    g = rng.standard_normal((8, 6))
    assert np.array_equal(kernel.forward(z), relu.forward(z))
    assert np.array_equal(kernel.backward(g), relu.backward(g))


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("in_place", [(False, False), (True, False), (False, True), (True, True)])
def test_relu_kernel_in_place_gives_the_reference_bits(rng, dtype, in_place):
    """Forward over its input and backward over its upstream gradient: the same bits as the
    reference ReLU, signed zeros, infinities and NaN included (the mask taken from the
    output is the input's: x > 0 exactly where max(x, 0) > 0)."""
    tiny = np.finfo(dtype).smallest_subnormal
    z = rng.standard_normal((9, 7)).astype(dtype)
    z[0] = [0.0, -0.0, tiny, -tiny, np.inf, -np.inf, np.nan]
    g = rng.standard_normal((9, 7)).astype(dtype)
    g[1] = [-0.0, 0.0, np.inf, -np.inf, -1.0, np.nan, -tiny]
    g[0] = -1.0  # g * 0 is -0.0 where the mask is off
    relu = hg.ReLU()
    with np.errstate(invalid="ignore"):
        y_ref, dx_ref = relu.forward(z.copy()), relu.backward(g.copy())
        kernel = fast_layers.ReLUKernel(dtype, *in_place)
        zz, gg = z.copy(), g.copy()
        y = kernel.forward(zz)
        dx = kernel.backward(gg)
    assert (y is zz) == in_place[0] and (dx is gg) == in_place[1]
    assert np.array_equal(_bits(y), _bits(y_ref)) and np.array_equal(_bits(dx), _bits(dx_ref))


def test_a_relu_works_in_place_only_between_two_linear_layers():
    """In place where nothing else reads the array: forward after a Linear (its output
    buffer), backward before one (its dx buffer); a ReLU after another activation (whose
    output that activation may keep) or before the loss copies."""
    lin = [hg.Linear(4, 4, seed=i) for i in range(3)]
    model = hg.Sequential(
        hg.ReLU(), lin[0], hg.ReLU(), lin[1], hg.Tanh(), hg.ReLU(), lin[2], hg.ReLU()
    )
    relus = [
        k for k in fast_layers.Model(model, np.float64).kernels if type(k) is fast_layers.ReLUKernel
    ]
    assert [(k.in_place_forward, k.in_place_backward) for k in relus] == [
        (False, True),
        (True, True),
        (False, True),
        (True, False),
    ]
    mlp = fast_layers.Model(hg.mlp([5, 16, 8, 3], "relu", seed=1), np.float64)
    assert all(k.in_place_forward and k.in_place_backward for k in mlp.kernels[1::2])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "identity"])
def test_fast_model_matches_the_reference_model(rng, activation):
    model = hg.mlp([5, 16, 8, 3], activation, seed=1)
    x, g = rng.standard_normal((10, 5)), rng.standard_normal((10, 3))
    y_ref = model.forward(x)
    model.backward(g)
    ref = [p.grad.copy() for p in model.parameters()]
    fast = fast_layers.Model(model, np.float64)
    y = fast.forward(x)
    fast.backward(g)
    assert np.array_equal(y, y_ref)
    for p, expected in zip(model.parameters(), ref):
        assert_ulps(p.grad, expected, ulps=8, floor=1.0)
    # the public path never hands out a buffer
    assert not np.shares_memory(model.forward(x), fast.forward(x))


# --- losses ---------------------------------------------------------------------------------


def plain_softmax_ce(z: np.ndarray, labels: np.ndarray):
    """The textbook formulas: l = logsumexp(z) - z_k; dl/dz = softmax(z) - onehot(k)."""
    n = z.shape[0]
    per_sample = F.logsumexp(z, axis=1) - z[np.arange(n), labels]
    grad = F.softmax(z, axis=1) - F.one_hot(labels, z.shape[1])
    return per_sample.mean(), grad / n


def fused(loss, z, target):
    """The fast path's loss on a target in the form fit prepares once."""
    prepared = loss.prepare_target(target, z.shape, z.dtype)
    return LossKernel(loss)(z, prepared)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_ce_kernel_matches_the_reference_and_plain_math(rng, reduction):
    z = 3.0 * rng.standard_normal((64, 10))
    labels = rng.integers(0, 10, 64)
    labels[:20] = np.argmax(z[:20], axis=1)  # rows where the label is the max, and not
    loss = hg.SoftmaxCrossEntropyLoss(reduction=reduction)
    value, grad = fused(loss, z, labels)
    ref_value = loss.forward(z, labels)
    assert abs(value - ref_value) <= 4 * EPS * abs(ref_value)
    scale = 1 / 64 if reduction == "mean" else 1.0
    assert_ulps(grad, loss.backward(), ulps=4, floor=scale / 8)
    expected_value, expected_grad = plain_softmax_ce(z, labels)
    expected_value *= 64 * scale
    assert abs(value - expected_value) <= 8 * EPS * abs(expected_value)
    assert_ulps(grad, expected_grad * 64 * scale, ulps=8, floor=scale / 8)


def test_softmax_ce_kernel_and_reference_keep_the_exact_tail():
    # the true class ahead by 40: loss = log1p(9 e^-40) and dl/dz_k = -9e^-40 / (1 + 9e^-40),
    # both ~3.8e-17, which "p - 1" or "logsumexp - z_k" would round to 0
    z = np.zeros((2, 10))
    z[:, 3] = 40.0
    labels = np.array([3, 3])
    s = 9.0 * np.exp(-40.0)
    loss = hg.SoftmaxCrossEntropyLoss(reduction="sum")
    value, grad = fused(loss, z, labels)
    for v, g in ((value, grad), (loss.forward(z, labels), loss.backward())):
        assert abs(v - 2 * np.log1p(s)) <= 4 * EPS * 2 * s
        assert_ulps(g[:, 3], np.full(2, -s / (1 + s)))


def test_softmax_ce_kernel_reuses_its_buffers_across_batch_sizes(rng):
    """One kernel, batches of 32, 7 and 32 rows again (a full and a short batch): every call
    equals the reference, including rows whose label is the max and rows with a tie."""
    kernel = SoftmaxCEKernel()
    loss = hg.SoftmaxCrossEntropyLoss()
    for n in (32, 7, 32):
        z = 2.0 * rng.standard_normal((n, 10))
        labels = rng.integers(0, 10, n)
        labels[: n // 2] = np.argmax(z[: n // 2], axis=1)
        z[-1, :2] = 5.0  # a tie for the max in the last row
        value, grad = kernel(z, labels, 1.0 / n, True)
        assert abs(value - loss.forward(z, labels)) <= 4 * EPS * abs(value)
        assert_ulps(grad, loss.backward(), ulps=4, floor=1 / n / 8)


def test_softmax_ce_soft_targets_match_plain_math(rng):
    z = rng.standard_normal((12, 4))
    q = rng.random((12, 4))
    q /= q.sum(axis=1, keepdims=True)
    loss = hg.SoftmaxCrossEntropyLoss()
    value, grad = fused(loss, z, q)
    expected = np.mean(-np.sum(q * F.log_softmax(z, axis=1), axis=1))
    assert abs(value - expected) <= 8 * EPS * abs(expected)
    assert_ulps(grad, (F.softmax(z, axis=1) - q) / 12, ulps=8, floor=1 / 12 / 8)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_bce_is_the_reference_bce_bit_for_bit(rng, reduction):
    z = np.concatenate([5 * rng.standard_normal(200), [0.0, -0.0, 40, -40, 800, -800]])
    y = np.concatenate([rng.integers(0, 2, 200), [0, 1, 1, 0, 1, 0]]).astype(np.float64)
    loss = hg.BCEWithLogitsLoss(reduction=reduction)
    value, grad = fused(loss, z, y)
    assert value == loss.forward(z, y)
    assert np.array_equal(grad, loss.backward())  # == treats -0.0 and 0.0 alike
    # the tails keep full relative precision: at z = 40, y = 1 the loss is softplus(-40)
    # = 4.25e-18 and the gradient -sigmoid(-40), not 0
    sum_grad = fused(hg.BCEWithLogitsLoss(reduction="sum"), z, y)[1]
    assert sum_grad[202] == -F.sigmoid(np.array(-40.0)) < 0


def test_fused_mse_is_the_reference_mse(rng):
    pred, target = rng.standard_normal((9, 2)), rng.standard_normal((9, 2))
    loss = hg.MSELoss()
    value, grad = fused(loss, pred, target)
    assert value == loss.forward(pred, target)
    assert np.array_equal(grad, loss.backward())


# --- optimizers -----------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda ps: hg.SGD(ps, lr=0.05),
    "sgd_wd": lambda ps: hg.SGD(ps, lr=0.05, weight_decay=0.1),
    "momentum": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    "nesterov": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam": lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.1),
    "adamw": lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.1, decoupled=True),
    "rmsprop": lambda ps: hg.RMSProp(ps, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fast_update_is_the_reference_step_bit_for_bit(rng, name):
    """Same operations in the same order, into buffers: the same bits, step after step."""
    ref = [hg.Parameter(rng.standard_normal((4, 3))), hg.Parameter(rng.standard_normal(3))]
    ref[1].regularize = False
    fast = [hg.Parameter(p.value.copy(), p.name, p.regularize) for p in ref]
    ref_opt, fast_opt = OPTIMIZERS[name](ref), OPTIMIZERS[name](fast)
    update = Update(fast_opt)
    for _ in range(5):
        for p, q in zip(ref, fast):
            p.grad[...] = q.grad[...] = rng.standard_normal(p.grad.shape)
        ref_opt.step()
        update.step()
        for p, q in zip(ref, fast):
            assert np.array_equal(p.value, q.value)
    assert ref_opt.t == fast_opt.t == 5
    for a, b in zip(ref_opt.state, fast_opt.state):
        assert all(np.array_equal(a[k], b[k]) for k in a)


# --- the whole loop -------------------------------------------------------------------------


def plain_training(weights, biases, X, y, lr, epochs, batch_size, seed, loss):
    """SGD on an MLP (ReLU) with the textbook formulas, over the batches fit would draw."""
    weights = [W.copy() for W in weights]
    biases = [b.copy() for b in biases]
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for idx in batches(X.shape[0], batch_size, rng=rng):
            xb, yb = X[idx], y[idx]
            inputs, pre, a = [], [], xb
            for i, (W, b) in enumerate(zip(weights, biases)):
                inputs.append(a)
                pre.append(a @ W + b)
                a = np.maximum(pre[-1], 0) if i < len(weights) - 1 else pre[-1]
            if loss == "ce":
                value, grad = plain_softmax_ce(a, yb)
            else:
                z = a[:, 0]
                value = np.mean(yb * F.softplus(-z) + (1 - yb) * F.softplus(z))
                grad = ((F.sigmoid(z) - yb) / len(idx))[:, None]
            losses.append(value)
            grads = []
            for i in range(len(weights) - 1, -1, -1):
                grads.append((inputs[i].T @ grad, grad.sum(axis=0)))
                if i > 0:
                    grad = F.relu_backward(grad @ weights[i].T, pre[i - 1])
            for i, (dW, db) in enumerate(reversed(grads)):
                weights[i] -= lr * dW
                biases[i] -= lr * db
    return np.array(losses), weights, biases


@pytest.mark.parametrize("loss_name", ["ce", "bce"])
def test_fit_matches_a_plain_loop_over_the_same_batches(rng, loss_name):
    n, sizes = 90, [6, 12, 8, 3 if loss_name == "ce" else 1]
    X = rng.standard_normal((n, 6))
    if loss_name == "ce":
        y, loss = rng.integers(0, 3, n), hg.SoftmaxCrossEntropyLoss()
    else:
        y, loss = rng.integers(0, 2, n).astype(np.float64), hg.BCEWithLogitsLoss()
    model = hg.mlp(sizes, "relu", seed=3)
    linears = [m for m in model if isinstance(m, hg.Linear)]
    for layer in linears:  # nonzero biases, so their gradients matter from the start
        layer.bias.value[:] = 0.1 * rng.standard_normal(layer.out_features)
    weights = [m.weight.value.copy() for m in linears]
    biases = [m.bias.value.copy() for m in linears]

    history = hg.fit(
        model, loss, hg.SGD(model.parameters(), lr=0.05), X, y, epochs=4, batch_size=16, seed=7
    )
    losses, w_ref, b_ref = plain_training(weights, biases, X, y, 0.05, 4, 16, 7, loss_name)

    assert len(history.step_loss) == len(losses) == 4 * 6  # 90 rows: 5 batches of 16 + 10
    assert_ulps(np.array(history.step_loss), losses, ulps=8)
    for layer, W, b in zip(linears, w_ref, b_ref):
        assert_ulps(layer.weight.value, W, ulps=8, floor=1.0)
        assert_ulps(layer.bias.value, b, ulps=8, floor=1.0)


def test_fit_memory_is_the_data_plus_small_buffers():
    """No copy of X per epoch or per fit: what fit allocates is far below X's size."""
    X = np.random.default_rng(0).standard_normal((20_000, 100))  # 16 MB
    y = (X[:, 0] > 0).astype(np.int64)
    model = hg.mlp([100, 32, 2], seed=0)
    opt = hg.SGD(model.parameters(), lr=0.01)
    loss = hg.SoftmaxCrossEntropyLoss()
    tracemalloc.start()
    try:
        hg.fit(model, loss, opt, X, y, epochs=2, batch_size=64, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # per-epoch permutation (8 bytes a row) and the per-step history are O(N) but small;
    # a single copy of X would be 16 MB
    assert peak < X.nbytes / 10, f"fit allocated up to {peak / 2**20:.1f} MiB"


# --- what still takes the public path -------------------------------------------------------


def test_a_subclass_that_overrides_forward_is_still_called(rng):
    calls = []

    class Scaled(hg.Linear):
        def forward(self, x):
            calls.append(len(x))
            return 2.0 * super().forward(x)

    model = hg.Sequential(Scaled(3, 1, seed=0))
    assert not fastpath.supports(model, hg.MSELoss(), hg.SGD(model.parameters()), np.float64)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    hg.fit(model, hg.MSELoss(), hg.SGD(model.parameters(), lr=0.01), X, y, epochs=1, batch_size=8)
    # one row first: fit learns the output width from it; the last batch again at the end,
    # where the divergence guard tries the final weights
    assert calls == [1, 8, 8, 4, 4]


def test_a_loss_with_its_own_forward_is_still_called(rng):
    calls = []

    class Recorded(hg.MSELoss):
        def forward(self, prediction, target):
            calls.append(prediction.shape)
            return super().forward(prediction, target)

    model = hg.mlp([3, 1], seed=0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    hg.fit(model, Recorded(), hg.SGD(model.parameters(), lr=0.01), X, y, epochs=1, batch_size=10)
    # once on dummy outputs to validate y up front, then once per step, and once more on
    # the last batch to try the final weights (the divergence guard)
    assert calls == [(20, 1), (10, 1), (10, 1), (10, 1)]


def test_a_minus_inf_logit_for_a_wrong_class_is_an_exact_limit_and_trains(rng):
    """p = 0 for that class: loss and gradients are finite, so fit does not call it diverged."""
    model = hg.mlp([2, 4, 3], seed=0)
    model[2].bias.value[2] = -np.inf  # class 2 switched off; the labels are 0 and 1 only
    X, y = rng.standard_normal((64, 2)), rng.integers(0, 2, 64)
    loss = hg.SoftmaxCrossEntropyLoss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence warning, no floating-point warning
        h = hg.fit(model, loss, hg.SGD(model.parameters(), lr=0.5), X, y, epochs=20, seed=0)
    assert h.stop_reason is None and h.epochs == 20
    assert h.epoch_loss[-1] < h.epoch_loss[0]
    assert np.all(np.isfinite(h.step_loss))
    assert model[2].bias.value[2] == -np.inf  # its gradient was exactly 0
    assert all(np.isfinite(p.value).all() for p in model.parameters() if p is not model[2].bias)


def test_an_inf_logit_on_the_wrong_side_is_reported_by_name(rng):
    model = hg.mlp([2, 1], seed=0)
    model[0].bias.value[0] = np.inf  # every prediction says "1" infinitely sure
    X, y = rng.standard_normal((8, 2)), np.zeros(8)
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = hg.fit(model, hg.BCEWithLogitsLoss(), hg.SGD(model.parameters(), lr=0.1), X, y)
    assert h.stop_reason == "diverged" and "prediction contains inf" in h.message
    assert model[0].bias.value[0] == np.inf and np.all(np.isfinite(model[0].weight.value))


def test_nan_in_a_hidden_layer_is_reported_as_nan_logits(rng):
    model = hg.mlp([2, 4, 3], seed=0)
    model[2].weight.value[0, 0] = np.nan  # only the second Linear sees it
    before = [p.value.copy() for p in model.parameters()]
    X, y = rng.standard_normal((8, 2)), rng.integers(0, 3, 8)
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1), X, y)
    assert h.stop_reason == "diverged" and "prediction contains NaN" in h.message
    for p, old in zip(model.parameters(), before):
        assert np.array_equal(p.value, old, equal_nan=True)


def test_a_duck_typed_optimizer_gets_the_same_divergence_guard(rng):
    """Any object with step() can train; fit then checks the model's gradients itself."""

    class PlainSGD:
        def __init__(self, params, lr):
            self.params, self.lr = params, lr

        def step(self):
            for p in self.params:
                p.value -= self.lr * p.grad

    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model, twin = hg.mlp([3, 4, 2], seed=0), hg.mlp([3, 4, 2], seed=0)
    loss = hg.SoftmaxCrossEntropyLoss()
    h = hg.fit(model, loss, PlainSGD(model.parameters(), 0.1), X, y, epochs=3, seed=1)
    h_twin = hg.fit(twin, loss, hg.SGD(twin.parameters(), lr=0.1), X, y, epochs=3, seed=1)
    # the duck-typed optimizer trains through the reference path: the same losses, to the
    # few ulps by which the fast path's sums (BLAS products with ones) may differ
    assert_ulps(np.array(h.step_loss), np.array(h_twin.step_loss), ulps=8)
    # finite outputs and loss, but the weight gradient overflows: x ~ 1e308 times an error
    # of ~1e5 (MSE), so only the gradient check can stop the step
    for make in (lambda ps: PlainSGD(ps, 0.1), lambda ps: hg.SGD(ps, lr=0.1)):
        line = hg.Linear(1, 1, bias=False)
        line.weight.value[...] = 1e-308
        X_big, y_far = np.full((4, 1), 1e308), np.full(4, 1e5)
        with pytest.warns(RuntimeWarning, match="a gradient is not finite"):
            h = hg.fit(line, hg.MSELoss(), make(line.parameters()), X_big, y_far, epochs=1)
        assert h.stop_reason == "diverged" and line.weight.value[0, 0] == 1e-308


# --- whole trajectories: fit on the fast path and on the reference path ----------------------


def reference_fit(*args, **kwargs):
    """``hg.fit`` with the fast path switched off: the module protocol and nothing else."""
    return hg.fit(*args, **kwargs, fast=False)


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize(
    ("loss_name", "activation"),
    [("ce", "relu"), ("bce", "tanh"), ("mse", "leaky_relu"), ("ce_sum", "sigmoid")],
)
def test_fit_trajectories_of_the_two_paths_agree_to_a_few_ulps(
    rng, opt_name, loss_name, activation
):
    n = 70
    X = rng.standard_normal((n, 5))
    out = 1 if loss_name in ("bce", "mse") else 3
    y, loss = {
        "ce": (rng.integers(0, 3, n), hg.SoftmaxCrossEntropyLoss()),
        "ce_sum": (rng.integers(0, 3, n), hg.SoftmaxCrossEntropyLoss(reduction="sum")),
        "bce": (rng.integers(0, 2, n).astype(float), hg.BCEWithLogitsLoss()),
        "mse": (rng.standard_normal(n), hg.MSELoss()),
    }[loss_name]
    models = [hg.mlp([5, 8, 6, out], activation, seed=4) for _ in range(2)]
    opts = [OPTIMIZERS[opt_name](m.parameters()) for m in models]
    kwargs = dict(epochs=3, batch_size=16, seed=5, metrics=["accuracy"] if out == 3 else ["mae"])
    assert fastpath.supports(models[0], loss, opts[0], np.float64)
    fast = hg.fit(models[0], loss, opts[0], X, y, **kwargs, l2=hg.L2Penalty(1e-3))
    ref = reference_fit(models[1], loss, opts[1], X, y, **kwargs, l2=hg.L2Penalty(1e-3))
    assert len(fast.step_loss) == len(ref.step_loss) == 15
    assert_ulps(np.array(fast.step_loss), np.array(ref.step_loss), ulps=64)
    assert fast.metrics.keys() == ref.metrics.keys()
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert_ulps(p.value, q.value, ulps=64, floor=1.0)
    assert opts[0].t == opts[1].t == 15
    for a, b in zip(opts[0].state, opts[1].state):
        for k in a:
            assert_ulps(a[k], b[k], ulps=64, floor=float(np.max(np.abs(b[k]))))


def test_float32_trajectories_of_the_two_paths_agree_closely(rng):
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    models = [hg.mlp([4, 8, 3], seed=0, dtype=np.float32) for _ in range(2)]
    opts = [hg.Adam(m.parameters(), lr=0.01) for m in models]
    loss = hg.SoftmaxCrossEntropyLoss()
    fast = hg.fit(models[0], loss, opts[0], X, y, epochs=3, seed=0)
    ref = reference_fit(models[1], loss, opts[1], X, y, epochs=3, seed=0)
    np.testing.assert_allclose(fast.step_loss, ref.step_loss, rtol=1e-5)
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert p.value.dtype == q.value.dtype == np.float32
        np.testing.assert_allclose(p.value, q.value, rtol=1e-4, atol=1e-5)


def test_fast_false_takes_the_reference_step_bit_for_bit():
    """``fit(fast=False)`` is the textbook step: the same bits as a run whose optimizer has
    a method replaced on the instance (which ``supports`` refuses), and close to the fused
    step's."""

    def run(fast=True, patch=False):
        model = hg.mlp([4, 8, 3], "relu", seed=1)
        opt = hg.Adam(model.parameters(), lr=0.01)
        if patch:
            opt.step = opt.step  # an instance attribute: the reference path
        X = np.random.default_rng(0).standard_normal((40, 4))
        y = np.arange(40) % 3
        loss = hg.SoftmaxCrossEntropyLoss()
        h = hg.fit(model, loss, opt, X, y, epochs=3, batch_size=8, seed=2, fast=fast)
        return h.step_loss, [p.value.copy() for p in model.parameters()]

    reference, patched, fused = run(fast=False), run(patch=True), run()
    assert reference[0] == patched[0]
    assert all(np.array_equal(a, b) for a, b in zip(reference[1], patched[1]))
    np.testing.assert_allclose(reference[0], fused[0], rtol=1e-12)


@pytest.mark.parametrize("fast", ["no", 1, None])
def test_fast_must_be_a_bool_and_is_checked_first(fast):
    model = hg.mlp([2, 3, 1], "tanh", seed=0)
    before = [p.value.copy() for p in model.parameters()]
    opt = hg.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="fast must be True or False"):
        hg.fit(model, hg.MSELoss(), opt, np.ones((4, 2)), np.ones(4), fast=fast)
    assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
