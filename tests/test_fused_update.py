"""Plain SGD's update of a large first layer folded into its weight-gradient product
(``handgrad.train.fast_fold``, ``blas.fold_update``, ``blas.product_bounded``): the numbers
of the unfolded fast step and, to a few ulps, of the textbook step; the divergence guard's
verdicts and kept weights; ``.grad`` after ``fit`` as the unfolded step leaves it; the
same bits at one and two BLAS threads; folding only where nothing reads ``.grad``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import blas, fast, fast_fold

pytestmark = pytest.mark.skipif(
    not blas.can_fold(np.float64), reason="NumPy's BLAS has no usable gemm: nothing folds"
)

EPS = {np.dtype(np.float64): np.finfo(np.float64).eps, np.dtype(np.float32): 2.0**-23}
# a 256 x 256 first layer: 65,536 weights, a BLAS update (blas.MIN_SIZE); batches of 32
# make its product (2.1 M multiply-adds) larger than OpenBLAS's small-matrix path takes
# (about 1 M), so the fold gives the unfolded step's bits (see the test after the first)
WIDTH = 256


def assert_ulps(actual, expected, ulps: float = 64.0):
    """|actual - expected| <= ulps * eps * max(|expected|, 1), elementwise."""
    scale = np.maximum(np.abs(expected.astype(np.float64)), 1.0)
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = float(np.max(err / scale / EPS[expected.dtype]))
    assert worst <= ulps, f"off by up to {worst:.1f} ulps"


@pytest.fixture
def folds(monkeypatch):
    """Counts the folded updates (``blas.fold_update`` calls that did the update)."""
    calls = {"n": 0}
    real = blas.fold_update

    def counted(*args):
        done = real(*args)
        calls["n"] += done
        return done

    monkeypatch.setattr(blas, "fold_update", counted)
    return calls


@pytest.fixture
def unfolded(monkeypatch):
    """A function running its argument with folding switched off (the step as before)."""

    def run(fn, *args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(fast_fold.FoldedUpdate, "of", classmethod(lambda cls, *a: None))
            return fn(*args, **kwargs)

    return run


def _data(dtype=np.float64, n=96, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, WIDTH)) * scale).astype(dtype)
    y = rng.integers(0, 3, n)
    return X, y


def _train(dtype=np.float64, lr=0.05, epochs=2, n=96, fast_path=True, scale=1.0, **kwargs):
    """A 200-200-3 ReLU network trained with plain SGD; (history, model, optimizer)."""
    X, y = _data(dtype, n, scale)
    model = hg.mlp([WIDTH, WIDTH, 3], "relu", seed=1, dtype=dtype)
    opt = kwargs.pop("optimizer", hg.SGD)(model.parameters(), lr=lr, **kwargs.pop("opt", {}))
    loss = hg.SoftmaxCrossEntropyLoss()
    h = hg.fit(
        model, loss, opt, X, y, epochs=epochs, batch_size=32, seed=2, fast=fast_path, **kwargs
    )
    return h, model, opt


def _same_bits(a, b):
    (ha, ma, _), (hb, mb, _) = a, b
    assert ha.step_loss == hb.step_loss
    assert ha.stop_reason == hb.stop_reason and ha.message == hb.message
    for p, q in zip(ma.parameters(), mb.parameters()):
        assert np.array_equal(p.value, q.value, equal_nan=True)
        assert np.array_equal(p.grad, q.grad, equal_nan=True)


# --- the BLAS pieces -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(128, 784, 256), (32, 200, 200), (300, 97, 61), (1, 256, 128)])
def test_fold_update_is_the_product_then_axpy(dtype, shape):
    n, i, o = shape
    rng = np.random.default_rng(n + i)
    x, g = rng.standard_normal((n, i)).astype(dtype), rng.standard_normal((n, o)).astype(dtype)
    w = rng.standard_normal((i, o)).astype(dtype)
    expected, grad = w.copy(), np.empty_like(w)
    x.T.dot(g, grad)
    blas.axpy(-0.01, grad, expected, np.empty_like(w))
    assert blas.fold_update(-0.01, x, g, w)
    # (the same bits on OpenBLAS's fused multiply-add kernels while the batch fits one of
    # its k-blocks; a few ulps allowed: 300 rows may be two blocks)
    assert_ulps(w, expected, ulps=4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 200, 200), (24, 200, 200), (2, 784, 256), (8, 784, 128)])
def test_a_small_fold_rounds_as_the_textbook_update_or_as_axpy(dtype, shape):
    """OpenBLAS's small-matrix path rounds lr * (X^T G) before subtracting: the textbook
    ``W - lr * g``'s two roundings (the unfolded fast step's axpy rounds once). Each
    element is one or the other, within 2 ulps of max(|W|, |lr g|) either way."""
    n, i, o = shape
    rng = np.random.default_rng(n)
    x, g = rng.standard_normal((n, i)).astype(dtype), rng.standard_normal((n, o)).astype(dtype)
    w = rng.standard_normal((i, o)).astype(dtype)
    grad = x.T @ g
    lr = dtype(0.05)
    textbook, fused = w - lr * grad, w.copy()
    unfolded = w.copy()
    blas.axpy(-0.05, grad, unfolded, np.empty_like(w))
    assert blas.fold_update(-0.05, x, g, fused)
    assert np.all((fused == textbook) | (fused == unfolded))
    scale = np.maximum(np.abs(w), np.abs(lr * grad)).astype(np.float64)
    assert np.all(np.abs(fused.astype(np.float64) - unfolded) <= 2 * EPS[w.dtype] * scale)


def test_fold_update_refuses_what_the_blas_cannot_take():
    rng = np.random.default_rng(0)
    x, g, w = rng.standard_normal((8, 5)), rng.standard_normal((8, 3)), rng.standard_normal((5, 3))
    before = w.copy()
    assert not blas.fold_update(-0.1, x.T.copy().T, g, w)  # X not C-contiguous
    assert not blas.fold_update(-0.1, x, g.astype(np.float32), w)  # dtypes differ
    assert not blas.fold_update(-0.1, x, g[:7], w)  # rows differ
    assert not blas.fold_update(-0.1, x, g, w.T.copy())  # W's shape is not (in, out)
    w.flags.writeable = False
    assert not blas.fold_update(-0.1, x, g, w)
    assert np.array_equal(w, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_product_bounded_says_finite_only_when_the_product_is(dtype):
    """Over many scales around the bound (and with NaN or inf put in X or G) a True is
    never followed by a product with a NaN or inf; ordinary arrays get True."""
    rng = np.random.default_rng(1)
    top = np.log2(np.finfo(dtype).max)
    trues = 0
    with np.errstate(all="ignore"):
        for k in range(300):
            x = rng.standard_normal((16, 40)).astype(dtype)
            g = rng.standard_normal((16, 30)).astype(dtype)
            x *= dtype(2.0 ** rng.uniform(0, top / 2 + 2))
            g *= dtype(2.0 ** rng.uniform(0, top / 2 + 2))
            if k % 5 == 0:
                (x if k % 2 else g).flat[rng.integers(0, 480)] = [np.nan, np.inf, -np.inf][k % 3]
            if blas.product_bounded(x, g):
                trues += 1
                assert np.isfinite(x.T @ g).all()
            if not (np.isfinite(x).all() and np.isfinite(g).all()):
                assert not blas.product_bounded(x, g)
    assert trues > 30
    x, g = rng.standard_normal((128, 784)).astype(dtype), rng.standard_normal((128, 256))
    assert blas.product_bounded(x, g.astype(dtype))


# --- fit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_folded_fit_is_the_unfolded_fast_step_and_near_the_textbook_step(folds, unfolded, dtype):
    folded = _train(dtype)
    assert folds["n"] == 6  # every step of 2 epochs x 3 batches
    before = unfolded(_train, dtype)
    assert folds["n"] == 6
    _same_bits(folded, before)  # (OpenBLAS: one fused multiply-add either way)
    h, model, _ = folded
    h_ref, model_ref, _ = _train(dtype, fast_path=False)
    if dtype is np.float64:
        assert_ulps(np.array(h.step_loss), np.array(h_ref.step_loss))
        for p, q in zip(model.parameters(), model_ref.parameters()):
            assert_ulps(p.value, q.value)
            assert_ulps(p.grad, q.grad)
    else:
        np.testing.assert_allclose(h.step_loss, h_ref.step_loss, rtol=1e-5)
        for p, q in zip(model.parameters(), model_ref.parameters()):
            np.testing.assert_allclose(p.value, q.value, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(p.grad, q.grad, rtol=1e-3, atol=1e-5)


def test_a_short_last_batch_stays_within_a_few_ulps(folds, unfolded):
    """100 rows in batches of 32: the last batch of 4 takes OpenBLAS's small-matrix path,
    which rounds as the textbook update does: a few ulps from either step."""
    folded = _train(n=100)
    assert folds["n"] == 8
    for other in (unfolded(_train, n=100), _train(n=100, fast_path=False)):
        assert_ulps(np.array(folded[0].step_loss), np.array(other[0].step_loss))
        for p, q in zip(folded[1].parameters(), other[1].parameters()):
            assert_ulps(p.value, q.value)
            assert_ulps(p.grad, q.grad)


def test_grad_after_fit_is_the_last_steps_gradient(folds):
    """The first weight's .grad after fit is X^T G of the last batch trained, as the
    textbook backward of that batch on the weights before its update writes it."""
    h, model, opt = _train(epochs=1, n=80)  # batches 32, 32, 16: the last one short
    assert folds["n"] == 3
    X, y = _data(n=80)
    rng = np.random.default_rng(2)
    last = hg.train.batches(80, 32, rng=rng)
    idx = [*last][-1]
    # the weights before the last update: W + lr * grad undoes it to within rounding;
    # redo the last step from there with the textbook modules
    twin = hg.mlp([WIDTH, WIDTH, 3], "relu", seed=1)
    for p, q in zip(twin.parameters(), model.parameters()):
        p.value[...] = q.value + opt.lr * q.grad
    loss = hg.SoftmaxCrossEntropyLoss()
    loss.forward(twin.forward(X[idx]), y[idx])
    twin.backward(loss.backward())
    for p, q in zip(twin.parameters(), model.parameters()):
        assert_ulps(q.grad, p.grad, ulps=2**20)  # (the undone weights are close, not exact)
    assert np.abs(model.parameters()[0].grad).max() > 0


def test_callbacks_that_act_between_steps_see_every_gradient(folds, unfolded):
    """An on_batch_end callback may read .grad: no fold then, and every gradient it reads
    is the unfolded step's."""

    class Grads(hg.train.Callback):
        def __init__(self):
            self.seen = []

        def on_batch_end(self, ctx):
            self.seen.append(ctx.model.parameters()[0].grad.copy())

    a, b = Grads(), Grads()
    _train(callbacks=[a])
    assert folds["n"] == 0
    unfolded(_train, callbacks=[b])
    assert len(a.seen) == 6 and all(map(np.array_equal, a.seen, b.seen))


def test_an_epoch_end_callback_reads_the_written_gradient(folds, unfolded):
    class Grads(hg.train.Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, ctx):
            self.seen.append(ctx.model.parameters()[0].grad.copy())

    a, b = Grads(), Grads()
    folded = _train(epochs=3, callbacks=[a])
    assert folds["n"] == 9
    before = unfolded(_train, epochs=3, callbacks=[b])
    _same_bits(folded, before)
    assert len(a.seen) == 3 and all(map(np.array_equal, a.seen, b.seen))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"opt": {"momentum": 0.9}},
        {"opt": {"momentum": 0.9, "nesterov": True}},
        {"opt": {"weight_decay": 1e-3}},
        {"l2": hg.L2Penalty(1e-3)},
        {"optimizer": hg.Adam},
        {"verbose": True},
    ],
)
def test_nothing_folds_but_plain_sgd_without_a_penalty(folds, kwargs, capsys):
    _train(**kwargs)
    assert folds["n"] == 0


def test_repeated_calls_leave_the_gradient_of_each(folds, unfolded):
    """A cached step serves each call; after each, .grad as the unfolded step leaves it."""
    runs = []
    for run in (lambda f: f(), unfolded):
        X, y = _data()
        model = hg.mlp([WIDTH, WIDTH, 3], "relu", seed=1)
        opt = hg.SGD(model.parameters(), lr=0.05)
        loss, grads = hg.SoftmaxCrossEntropyLoss(), []
        rng = np.random.default_rng(3)
        for _ in range(3):
            args = (model, loss, opt, X, y)
            run(lambda args=args, rng=rng: hg.fit(*args, epochs=1, batch_size=32, rng=rng))
            grads.append([p.grad.copy() for p in model.parameters()])
        runs.append(grads)
    assert folds["n"] == 9
    for a, b in zip(*runs):
        assert all(map(np.array_equal, a, b))


# --- divergence ----------------------------------------------------------------------------


def test_an_overflowing_first_layer_gradient_stops_with_the_weights_kept(folds, unfolded):
    """X^T G overflows (inputs near the largest float, targets far): the bound cannot vouch
    for it, the gradient is written and found not finite; the step is refused and the
    weights are those before it, the gradient the overflowing one."""
    X, Y = np.full((64, WIDTH), 1e308), np.full((64, WIDTH), 1e5)
    results = []
    for run in (lambda f: f(), unfolded):
        model = hg.mlp([WIDTH, WIDTH, WIDTH], "relu", seed=1)
        model.layers[0].weight.value[...] = 1e-308
        start = [p.value.copy() for p in model.parameters()]
        opt = hg.SGD(model.parameters(), lr=0.05)

        def fit(model=model, opt=opt):
            return hg.fit(model, hg.MSELoss(), opt, X, Y, batch_size=32, seed=2)

        with pytest.warns(RuntimeWarning, match="a gradient is not finite"):
            h = run(fit)
        assert h.stop_reason == "diverged" and not h.step_loss
        assert all(map(np.array_equal, start, (p.value for p in model.parameters())))
        assert not np.isfinite(model.parameters()[0].grad).all()
        results.append((h, model, opt))
    assert folds["n"] == 0
    _same_bits(*results)


@pytest.mark.parametrize(
    ("lr", "scale", "steps"), [(9e5, 1e100, 1), (9e5, 1e30, 4), (40.0, 30.0, 52), (10.0, 30.0, 66)]
)
def test_a_diverging_loss_keeps_the_same_weights_and_gradients(folds, unfolded, lr, scale, steps):
    """Learning rates that make the loss non-finite at an epoch's second step (the guard
    restores its snapshot with nothing to replay, and the gradient is the undone step's,
    its batch gathered again: the first run's, the second epoch's, the 18th's) or at an
    epoch's first (the last epoch's steps replayed, the gradient the last replayed step's):
    the same verdict, history, weights and gradients as the unfolded step."""
    with pytest.warns(RuntimeWarning, match="diverged"):
        folded = _train(lr=lr, epochs=30, scale=scale)
    assert folds["n"] > 0
    with pytest.warns(RuntimeWarning, match="diverged"):
        before = unfolded(_train, lr=lr, epochs=30, scale=scale)
    _same_bits(folded, before)
    assert folded[0].stop_reason == "diverged" and len(folded[0].step_loss) == steps
    assert np.isfinite(folded[1].parameters()[0].grad).all()


def test_a_refused_bound_takes_the_checked_gradient(monkeypatch, folds, unfolded):
    """When the bound cannot vouch (here: never), each step writes and checks the gradient
    and updates from it: the unfolded step's bits."""
    monkeypatch.setattr(blas, "product_bounded", lambda x, g: False)
    checked = _train()
    assert folds["n"] == 0
    _same_bits(checked, unfolded(_train))


# --- threads -------------------------------------------------------------------------------

_THREADS = """
import numpy as np, threadpoolctl, handgrad as hg
from handgrad.train import blas
calls = []
real = blas.fold_update
blas.fold_update = lambda *a: calls.append(1) or real(*a)
def run():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((512, 300)), rng.integers(0, 4, 512)
    model = hg.mlp([300, 256, 4], "relu", seed=1)
    h = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.05), X, y,
               epochs=2, batch_size=128, seed=2)
    return h.step_loss, [(p.value.copy(), p.grad.copy()) for p in model.parameters()]
runs = []
for count in (1, 2):
    with threadpoolctl.threadpool_limits(count, user_api="blas"):
        runs.append(run())
same = runs[0][0] == runs[1][0] and all(
    np.array_equal(a, c) and np.array_equal(b, d) for (a, b), (c, d) in zip(runs[0][1], runs[1][1]))
print("folded", len(calls), "same bits at 1 and 2 BLAS threads:", same)
"""


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: the BLAS keeps one thread")
def test_folded_fit_gives_the_same_bits_at_one_and_two_blas_threads():
    pytest.importorskip("threadpoolctl")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    src = str(Path(hg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", _THREADS], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "folded 16 same bits at 1 and 2 BLAS threads: True" in done.stdout, done.stdout


def test_the_step_knows_its_fold():
    """The fold is built for plain SGD over a large first Linear followed by another
    Linear, and for nothing else."""
    X, y = _data()
    target = y
    for sizes, expected in (
        ([WIDTH, WIDTH, 3], True),
        ([WIDTH, 8, 3], False),
        ([20, 30, 3], False),
    ):
        model = hg.mlp(sizes, "relu", seed=1)
        Xs = X[:, : sizes[0]].copy()
        opt = hg.SGD(model.parameters(), lr=0.1)
        step = fast.fast_step(model, hg.SoftmaxCrossEntropyLoss(), opt, None, Xs, target, None)
        assert (step._fold is not None) is expected, sizes
    single = hg.Linear(WIDTH, WIDTH)
    opt = hg.SGD(single.parameters(), lr=0.1)
    Y = np.zeros((96, WIDTH))
    step = fast.fast_step(single, hg.MSELoss(), opt, None, X, Y, None)
    assert step._fold is None  # (its G is the loss's buffer: no second Linear)
