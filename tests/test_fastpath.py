"""The training loop's fast path computes the same numbers as the plain math.

``fit`` validates once and then runs ``_forward``/``_backward`` with reused buffers, the
flat-index softmax cross-entropy and the fused BCE. Here each piece is compared with the
textbook formula written out in NumPy (float64, to a few ulps), and a whole ``fit`` with a
hand-written loop over the same batches. Also: buffers are reused (no per-step allocation
that grows with N), the public methods still return fresh arrays, and modules or losses
that replace ``forward`` keep being called.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F
from handgrad.nn._checks import check_finite, surely_finite
from handgrad.train import _gradients_finite, batches

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


def test_linear_fast_path_is_the_affine_map_and_its_gradients(rng):
    layer = hg.Linear(7, 5, seed=0)
    layer.bias.value[:] = rng.standard_normal(5)
    x, g = rng.standard_normal((6, 7)), rng.standard_normal((6, 5))
    W, b = layer.weight.value, layer.bias.value

    y = layer._forward(x)
    assert np.array_equal(y, layer.forward(x))  # bit for bit: the same BLAS calls
    assert_ulps(y, x @ W + b, floor=1.0)
    dx = layer._backward(g)
    assert_ulps(layer.weight.grad, x.T @ g, floor=1.0)
    assert_ulps(layer.bias.grad, g.sum(axis=0), floor=1.0)
    assert_ulps(dx, g @ W.T, floor=1.0)
    assert np.array_equal(dx, layer.backward(g))
    assert layer._backward(g, input_grad=False) is None


def test_relu_fast_path_matches_functional(rng):
    relu = hg.ReLU()
    z = rng.standard_normal((8, 6))
    z[0, :3] = [0.0, -0.0, 5e-324]  # the kink and the smallest positive number
    g = rng.standard_normal((8, 6))
    assert np.array_equal(relu._forward(z), F.relu(z))
    assert np.array_equal(relu._backward(g), F.relu_backward(g, z))


def test_sequential_fast_path_matches_public_path_and_reuses_buffers(rng):
    model = hg.mlp([5, 16, 8, 3], "relu", seed=1)
    x, g = rng.standard_normal((10, 5)), rng.standard_normal((10, 3))
    public_y = model.forward(x)
    public_dx = model.backward(g)
    public_grads = [p.grad.copy() for p in model.parameters()]

    y = model._forward(x)
    dx = model._backward(g)
    assert np.array_equal(y, public_y) and np.array_equal(dx, public_dx)
    for p, expected in zip(model.parameters(), public_grads):
        assert np.array_equal(p.grad, expected)

    # the same batch size writes into the same arrays; another size gets its own
    assert model._forward(x) is y
    assert model._forward(x[:4]) is not y and model._forward(x[:4]).shape == (4, 3)
    # the public path never hands out a buffer
    assert model.forward(x) is not y and not np.shares_memory(model.forward(x), y)


def test_other_activations_fall_back_to_their_public_methods(rng):
    for activation in ("tanh", "sigmoid", "leaky_relu"):
        model = hg.mlp([4, 6, 2], activation, seed=0)
        x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
        assert model._has_training_path()
        assert np.array_equal(model._forward(x), model.forward(x))
        assert np.array_equal(model._backward(g), model.backward(g))


# --- losses ---------------------------------------------------------------------------------


def plain_softmax_ce(z: np.ndarray, labels: np.ndarray):
    """The textbook formulas: l = logsumexp(z) - z_k; dl/dz = softmax(z) - onehot(k)."""
    n = z.shape[0]
    per_sample = F.logsumexp(z, axis=1) - z[np.arange(n), labels]
    grad = F.softmax(z, axis=1) - F.one_hot(labels, z.shape[1])
    return per_sample.mean(), grad / n


def test_softmax_ce_fast_path_matches_plain_math(rng):
    z = 3.0 * rng.standard_normal((64, 10))
    labels = rng.integers(0, 10, 64)
    labels[:20] = np.argmax(z[:20], axis=1)  # rows where the label is the max, and not
    loss = hg.SoftmaxCrossEntropyLoss()
    value = loss._forward(z, labels.astype(np.intp))
    expected_value, expected_grad = plain_softmax_ce(z, labels)
    assert abs(value - expected_value) <= 8 * EPS * abs(expected_value)
    # entries of size ~1 to a few ulps of 1, small probabilities to a few ulps of themselves
    assert_ulps(loss.backward(), expected_grad, ulps=8, floor=1.0 / 64 / 8)
    # the public path is the same computation after validation
    assert loss.forward(z, labels) == value


def test_softmax_ce_fast_path_keeps_the_exact_tail():
    # the true class ahead by 40: loss = log1p(9 e^-40) and dl/dz_k = -9e^-40 / (1 + 9e^-40),
    # both ~3.8e-17, which "p - 1" or "logsumexp - z_k" would round to 0
    z = np.zeros((2, 10))
    z[:, 3] = 40.0
    labels = np.array([3, 3], dtype=np.intp)
    loss = hg.SoftmaxCrossEntropyLoss(reduction="sum")
    value = loss._forward(z, labels)
    s = 9.0 * np.exp(-40.0)
    assert abs(value - 2 * np.log1p(s)) <= 4 * EPS * 2 * s
    assert_ulps(loss.backward()[:, 3], np.full(2, -s / (1 + s)))


def test_softmax_ce_soft_targets_match_plain_math(rng):
    z = rng.standard_normal((12, 4))
    q = rng.random((12, 4))
    q /= q.sum(axis=1, keepdims=True)
    loss = hg.SoftmaxCrossEntropyLoss()
    value = loss.forward(z, q)
    expected = np.mean(-np.sum(q * F.log_softmax(z, axis=1), axis=1))
    assert abs(value - expected) <= 8 * EPS * abs(expected)
    assert_ulps(loss.backward(), (F.softmax(z, axis=1) - q) / 12, ulps=8, floor=1 / 12 / 8)


def test_fused_bce_is_the_two_branch_formula_bit_for_bit(rng):
    z = np.concatenate([5 * rng.standard_normal(200), [0.0, -0.0, 40, -40, 800, -800]])
    y = np.concatenate([rng.integers(0, 2, 200), [0, 1, 1, 0, 1, 0]]).astype(np.float64)
    loss = hg.BCEWithLogitsLoss(reduction="sum")
    value = loss._forward(z, y)
    per_sample = y * F.softplus(-z) + (1 - y) * F.softplus(z)
    grad = (1 - y) * F.sigmoid(z) - y * F.sigmoid(-z)
    assert value == float(np.sum(per_sample))
    assert np.array_equal(loss.backward(), grad)  # == treats -0.0 and 0.0 alike
    # the tails keep full relative precision: at z = 40, y = 1 the loss is softplus(-40)
    # = 4.25e-18 and the gradient -sigmoid(-40), not 0
    assert per_sample[202] == F.softplus(np.array(-40.0)) > 0
    assert loss.backward()[202] == -F.sigmoid(np.array(-40.0)) < 0


# --- optimizer and the gradient check -------------------------------------------------------


def test_sgd_step_is_w_minus_lr_g(rng):
    p = hg.Parameter(rng.standard_normal((4, 3)))
    p.grad[:] = rng.standard_normal((4, 3))
    expected = p.value - 0.01 * p.grad
    hg.SGD([p], lr=0.01).step()
    assert np.array_equal(p.value, expected)


def test_gradient_check_finds_nan_and_inf_but_not_large_finite_sums():
    params = [hg.Parameter(np.zeros((3, 2))), hg.Parameter(np.zeros(2))]
    assert _gradients_finite(params)
    params[0].grad[:] = 1e308  # finite, but their sum overflows
    with np.errstate(over="ignore"):
        assert _gradients_finite(params)
        for bad in (np.nan, np.inf, -np.inf):
            params[1].grad[1] = bad
            assert not _gradients_finite(params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_finiteness_check_of_large_arrays(dtype, layout):
    """The BLAS path for large arrays finds every NaN/inf and accepts huge finite values."""
    base = np.ones((300, 250), dtype=dtype, order="F" if layout == "F" else "C")
    x = base[:, ::2] if layout == "strided" else base  # strided: the np.add.reduce path
    with np.errstate(all="raise"):  # and no floating-point warning on the way
        check_finite(x, "x")
        # finite, but the squares overflow (the sum of the strided view does not)
        x[...] = np.finfo(dtype).max / (1e6 if layout == "strided" else 4)
        check_finite(x, "x")
        for bad, kind in ((np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")):
            y = x.copy(order="K")
            y[7, 9] = bad
            assert not surely_finite(y)
            with pytest.raises(hg.nn.NonFiniteError, match=rf"x contains {kind} .*\(7, 9\)"):
                check_finite(y, "x")


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
    assert not model._has_training_path()
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    hg.fit(model, hg.MSELoss(), hg.SGD(model.parameters(), lr=0.01), X, y, epochs=1, batch_size=8)
    assert calls == [8, 8, 4]


def test_a_loss_with_its_own_forward_is_still_called(rng):
    calls = []

    class Recorded(hg.MSELoss):
        def forward(self, prediction, target):
            calls.append(prediction.shape)
            return super().forward(prediction, target)

    model = hg.mlp([3, 1], seed=0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    hg.fit(model, Recorded(), hg.SGD(model.parameters(), lr=0.01), X, y, epochs=1, batch_size=10)
    # once on dummy outputs to validate y up front, then once per step
    assert calls == [(20, 1), (10, 1), (10, 1)]


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
    assert h.step_loss == h_twin.step_loss
    # finite outputs and loss, but the weight gradient overflows: x ~ 1e308 times an error
    # of ~1e5 (MSE), so only the gradient check can stop the step
    for make in (lambda ps: PlainSGD(ps, 0.1), lambda ps: hg.SGD(ps, lr=0.1)):
        line = hg.Linear(1, 1, bias=False)
        line.weight.value[...] = 1e-308
        X_big, y_far = np.full((4, 1), 1e308), np.full(4, 1e5)
        with pytest.warns(RuntimeWarning, match="a gradient is not finite"):
            h = hg.fit(line, hg.MSELoss(), make(line.parameters()), X_big, y_far, epochs=1)
        assert h.stop_reason == "diverged" and line.weight.value[0, 0] == 1e-308
