"""The fast step's shortcuts for small networks keep the reference's bits and verdicts.

A W3-sized step (~40 us) pays for every NumPy call and Python line, so the fast path
keeps the buffers of the last batch size as attributes, gathers a batch through a plan
made once per size, and checks plain SGD's lr * g of every parameter with one dot
product. These tests pin what each shortcut must not change: the values (against the
reference modules, bit for bit where the operations are the same), the switch between a
full and a short batch, the verdict of the gradient check on NaN, inf and overflow, a
step replayed without a check, and that a released step keeps no reference to the data.
"""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import fast as fastpath
from handgrad.train import fast_layers
from handgrad.train.fast_updates import Update


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32)


# --- buffers of the last batch size ---------------------------------------------------------


def test_linear_and_relu_kernels_switch_buffers_with_the_batch_size(rng):
    """Full, short and full batches again through Linear -> ReLU -> Linear: each forward and
    backward equals the reference layers' on the same batch (products bit for bit), and a
    size seen before gets its own buffers back."""
    model = hg.mlp([6, 9, 4], "relu", seed=3)
    fast = fast_layers.Model(model, np.float64)
    seen: dict[int, np.ndarray] = {}
    for n in (8, 3, 8, 3, 1):
        x, g = rng.standard_normal((n, 6)), rng.standard_normal((n, 4))
        y_ref = model.forward(x)
        model.backward(g)
        ref = [p.grad.copy() for p in model.parameters()]
        y = fast.forward(x)
        fast.backward(g)
        assert np.array_equal(y, y_ref)
        assert np.array_equal(model.parameters()[0].grad, ref[0])  # X^T G: the same product
        for p, expected in zip(model.parameters(), ref):
            np.testing.assert_allclose(p.grad, expected, rtol=1e-12, atol=1e-14)
        assert seen.setdefault(n, y) is y  # the buffer of this size, reused


def test_a_backward_uses_the_buffers_of_its_own_forward(rng):
    """The guard's final check runs a forward alone; the next step's forward of another size
    must still be followed by a backward into that size's buffers."""
    layer = hg.Linear(5, 4, seed=0)
    kernel = fast_layers.LinearKernel(layer, np.float64, input_grad=True)
    kernel.forward(rng.standard_normal((7, 5)))
    x, g = rng.standard_normal((2, 5)), rng.standard_normal((2, 4))
    kernel.forward(x)
    dx = kernel.backward(g)
    layer.forward(x)
    assert dx.shape == (2, 5) and np.array_equal(dx, layer.backward(g))


# --- the batch gather -----------------------------------------------------------------------


def test_the_gather_copies_the_rows_through_one_plan_per_batch_size(rng):
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 5, 40)
    gather = fastpath.BatchGather(X, y, None)
    first = None
    for idx in (rng.permutation(40)[:16], rng.permutation(40)[:5], rng.permutation(40)[:16]):
        xb, yb, none = gather(idx)
        assert np.array_equal(xb, X[idx]) and np.array_equal(yb, y[idx]) and none is None
        if len(idx) == 16:
            first = xb if first is None else first
            assert xb is first  # the same buffer for the same size
    # new arrays: new plans, the same buffers
    X2 = rng.standard_normal((40, 3))
    gather.arrays = (X2, y, None)
    idx = rng.permutation(40)[:16]
    xb, _, _ = gather(idx)
    assert xb is first and np.array_equal(xb, X2[idx])


def test_a_released_step_keeps_no_reference_to_the_data(rng):
    """fit hands its step back without the call's data: X, y and the arrays made from them
    are freed when the caller drops them (the gather's plans hold X's ``take``)."""
    X, y = rng.standard_normal((50, 4)), rng.integers(0, 3, 50)
    model = hg.mlp([4, 8, 3], "relu", seed=0)
    opt = hg.SGD(model.parameters(), lr=0.1)
    hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=2, batch_size=16, seed=0)
    assert fastpath._CACHE.get(model) is not None
    x_ref, y_ref = weakref.ref(X), weakref.ref(y)
    del X, y
    gc.collect()
    assert x_ref() is None and y_ref() is None


# --- plain SGD of a small network: one check of lr * g ---------------------------------------


def _small_step(rng, lr: float = 0.05, dtype=np.float64):
    X = rng.standard_normal((24, 5)).astype(dtype)
    y = rng.integers(0, 3, 24)
    model = hg.mlp([5, 7, 3], "relu", seed=1, dtype=dtype)
    loss = hg.SoftmaxCrossEntropyLoss()
    opt = hg.SGD(model.parameters(), lr=lr)
    target = loss.prepare_target(y, (24, 3), X.dtype)
    step = fastpath.fast_step(model, loss, opt, None, X, target, None)
    return step, model, opt


def _exact_verdict(model) -> bool:
    return all(bool(np.isfinite(p.grad).all()) for p in model.parameters())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_check_finds_a_non_finite_gradient_anywhere(rng, bad):
    step, model, _ = _small_step(rng)
    assert step._scaled_finite is not None  # plain SGD, 69 numbers: the one-dot check
    idx = np.arange(24)
    with np.errstate(invalid="ignore"):  # (as in fit's loop)
        _find_everywhere(step, model, idx, bad)


def _find_everywhere(step, model, idx: np.ndarray, bad: float) -> None:
    for i, p in enumerate(model.parameters()):
        for at in (0, p.grad.size // 2, p.grad.size - 1):
            xb, tb, _ = step.batch(idx)
            step.loss(step.forward(xb), tb)
            step.backward()
            p.grad.reshape(-1)[at] = bad
            assert step.gradients_finite() is False, (i, at)
            step.backward()
            assert step.gradients_finite() is True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lr_times_g_overflowing_is_no_gradient_verdict(rng, dtype):
    """A finite gradient whose lr * g overflows is finite (the reference's verdict); the
    update then writes the reference's inf into the weight, bit for bit."""
    step, model, opt = _small_step(rng, lr=1e5, dtype=dtype)
    big = np.finfo(dtype).max / 2
    xb, tb, _ = step.batch(np.arange(24))
    step.loss(step.forward(xb), tb)
    step.backward()
    w = model.parameters()[0]
    w.grad.reshape(-1)[3] = big
    with np.errstate(over="ignore", invalid="ignore"):
        expected = w.value - np.multiply(w.grad, opt.lr)  # the reference's expression
        assert step.gradients_finite() is True == _exact_verdict(model)
        step.step()
    assert np.isinf(w.value.reshape(-1)[3])
    assert np.array_equal(_bits(w.value), _bits(expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_checked_and_unchecked_steps_give_the_reference_bits(rng, dtype):
    """Steps through the check (lr * g made there, subtracted by step) and steps without
    it (the guard's replay: backward then step) both equal SGD.step on the same gradients;
    a check whose step never came (training stopped) leaves nothing for the next step."""
    step, model, opt = _small_step(rng, dtype=dtype)
    ref = [hg.Parameter(p.value.copy()) for p in model.parameters()]
    ref_opt = hg.SGD(ref, lr=opt.lr)
    checked_pattern = [True, False, True, True, "stale", False, True]
    for checked in checked_pattern:
        xb, tb, _ = step.batch(rng.permutation(24)[:8])
        step.loss(step.forward(xb), tb)
        step.backward()
        if checked == "stale":  # a check, then a new backward before any step
            assert step.gradients_finite()
            step.loss(step.forward(xb[::-1].copy()), tb[::-1].copy())
            step.backward()
        elif checked:
            assert step.gradients_finite()
        for p, q in zip(ref, model.parameters()):
            p.grad[...] = q.grad
        ref_opt.step()
        step.step()
        for p, q in zip(ref, model.parameters()):
            assert np.array_equal(_bits(p.value), _bits(q.value))
    assert opt.t == ref_opt.t == len(checked_pattern)


def test_the_one_dot_check_only_for_plain_sgd_over_the_models_parameters(rng):
    """Momentum, weight decay, Adam, an optimizer over some of the parameters, or a network
    of more than DOT_CHECK_MAX numbers: the per-gradient check, which still finds a NaN."""
    model = hg.mlp([5, 7, 3], "relu", seed=1)
    params = model.parameters()
    X, y = rng.standard_normal((24, 5)), rng.integers(0, 3, 24)
    loss = hg.SoftmaxCrossEntropyLoss()
    target = loss.prepare_target(y, (24, 3), X.dtype)
    cases = {
        "momentum": (hg.SGD(params, lr=0.1, momentum=0.5), True),
        "weight decay": (hg.SGD(params, lr=0.1, weight_decay=0.1), True),
        "adam": (hg.Adam(params, lr=0.1), True),
        "some parameters": (hg.SGD(params[2:], lr=0.1), False),
    }
    for name, (opt, same_params) in cases.items():
        fastpath._CACHE.clear()
        step = fastpath.fast_step(model, loss, opt, None, X, target, None)
        assert (step._scaled_finite is not None) == same_params, name
        step.loss(step.forward(step.batch(np.arange(24))[0]), target)
        step.backward()
        params[0].grad[1, 1] = np.nan  # a parameter the partial optimizer does not hold
        assert not step.gradients_finite(), name
        assert not step._update.scaled, name
    big = hg.mlp([100, 90, 3], "relu", seed=1)  # 9,363 numbers
    assert Update(hg.SGD(big.parameters(), lr=0.1)).flat is None


def test_parameters_of_two_dtypes_keep_lr_as_given(rng):
    """No flat scratch, no lr array of one dtype: each parameter's update is NumPy's with
    the Python float, as in the reference."""
    ref = [
        hg.Parameter(rng.standard_normal(5)),
        hg.Parameter(rng.standard_normal(3).astype(np.float32)),
    ]
    fast = [hg.Parameter(p.value.copy()) for p in ref]
    ref_opt, fast_opt = hg.SGD(ref, lr=0.0123), hg.SGD(fast, lr=0.0123)
    update = Update(fast_opt)
    assert update.flat is None and update.dtype is None and not update.scaled_finite()
    for p, q in zip(ref, fast):
        p.grad[...] = q.grad[...] = rng.standard_normal(p.grad.shape)
    ref_opt.step()
    update.step()
    assert all(np.array_equal(_bits(p.value), _bits(q.value)) for p, q in zip(ref, fast))


def test_lr_changed_between_steps_is_read_at_each_step(rng):
    step, model, opt = _small_step(rng)
    ref = [hg.Parameter(p.value.copy()) for p in model.parameters()]
    ref_opt = hg.SGD(ref, lr=opt.lr)
    for lr in (0.05, 0.01, 0.01, 0.3, 1 / 3):
        opt.lr = ref_opt.lr = lr
        xb, tb, _ = step.batch(rng.permutation(24)[:8])
        step.loss(step.forward(xb), tb)
        step.backward()
        assert step.gradients_finite()
        for p, q in zip(ref, model.parameters()):
            p.grad[...] = q.grad
        ref_opt.step()
        step.step()
        assert all(np.array_equal(p.value, q.value) for p, q in zip(ref, model.parameters()))
    assert math.isclose(step._update._lr, 1 / 3)
