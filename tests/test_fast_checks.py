"""The fast step's checks: every NaN/inf in a gradient or an input is found and huge finite
values pass (small gradients by a dot product, large ones by the BLAS's sum of |g|,
``blas.all_finite``; inputs by a sum, einsum's when large, one value for a broadcast
scalar), and the final check of fit still scans the weights when a callback ran after
the epoch's own scan."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn._checks import check_finite, surely_finite
from handgrad.train import fast as fastpath
from handgrad.train.steps import gradients_finite


def test_gradient_check_finds_nan_and_inf_but_not_large_finite_sums():
    params = [hg.Parameter(np.zeros((3, 2))), hg.Parameter(np.zeros(2))]
    assert gradients_finite(params)
    params[0].grad[:] = 1e308  # finite, but their sum overflows
    with np.errstate(over="ignore"):
        assert gradients_finite(params)
        for bad in (np.nan, np.inf, -np.inf):
            params[1].grad[1] = bad
            assert not gradients_finite(params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_step_s_gradient_check_on_small_and_large_gradients(dtype):
    """Small gradients by a dot product, large ones (beyond ``DOT_CHECK_MAX``) by the sum of
    their absolute values: both find every NaN/inf wherever it is, and accept huge finite values."""
    model = hg.mlp([300, 40, 3], "relu", seed=0, dtype=dtype)  # 12000, 40, 120, 3 elements
    loss, opt = hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1)
    X = np.zeros((4, 300), dtype)
    step = fastpath.fast_step(model, loss, opt, None, X, np.zeros(4, np.intp), None)
    assert len(step._large) == 1 and len(step._checks) == 3
    huge = np.finfo(dtype).max / 2
    with np.errstate(over="ignore", invalid="ignore"):
        for p in model.parameters():
            p.grad[...] = huge  # finite; every sum of two overflows
        assert step.gradients_finite()
        for p in model.parameters():
            for where in (0, p.grad.size // 2, p.grad.size - 1):
                for bad in (np.nan, np.inf, -np.inf):
                    flat = p.grad.reshape(-1)
                    flat[where] = bad
                    assert not step.gradients_finite()
                    flat[where] = huge
        assert step.gradients_finite()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_finiteness_check_of_large_arrays(dtype, layout):
    """The einsum path for large contiguous arrays (and np.add.reduce for strided ones)
    finds every NaN/inf and accepts huge finite values."""
    base = np.ones((300, 250), dtype=dtype, order="F" if layout == "F" else "C")
    x = base[:, ::2] if layout == "strided" else base  # strided: the np.add.reduce path
    with np.errstate(all="raise"):  # and no floating-point warning on the way
        check_finite(x, "x")
        # finite, but the sum overflows (the strided view's sum does not)
        x[...] = np.finfo(dtype).max / (1e6 if layout == "strided" else 4)
        check_finite(x, "x")
        for bad, kind in ((np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")):
            y = x.copy(order="K")
            y[7, 9] = bad
            assert not surely_finite(y)
            with pytest.raises(hg.nn.NonFiniteError, match=rf"x contains {kind} .*\(7, 9\)"):
                check_finite(y, "x")


@pytest.mark.parametrize("shape", [(), (5,), (1797, 10)])
def test_a_broadcast_scalar_is_decided_by_its_one_value(shape):
    """Every stride 0: the one value it holds decides, as the element-wise scan would."""
    for value, finite in ((0.0, True), (-3e300, True), (np.nan, False), (-np.inf, False)):
        x = np.broadcast_to(np.array(value), shape)
        assert surely_finite(x) is finite
        assert bool(np.isfinite(x).all()) is finite


def test_targets_are_checked_against_shared_read_only_zero_outputs():
    """prepare_target's dummy outputs: zeros of the outputs' shape, built once, read-only;
    a label out of range or a NaN target is still named."""
    loss = hg.SoftmaxCrossEntropyLoss()
    labels = loss.prepare_target(np.array([0, 2, 1]), (3, 3), np.float64)
    np.testing.assert_array_equal(labels, [0, 2, 1])
    zeros = hg.nn.losses.zero_outputs((3, 3), np.float64)
    assert zeros is hg.nn.losses.zero_outputs((3, 3), np.float64)
    assert zeros.shape == (3, 3) and not zeros.flags.writeable and not zeros.any()
    with pytest.raises(ValueError, match="label"):
        loss.prepare_target(np.array([0, 3, 1]), (3, 3), np.float64)
    with pytest.raises(hg.nn.NonFiniteError, match="NaN"):
        hg.MSELoss().prepare_target(np.array([[0.0], [np.nan]]), (2, 1), np.float64)


def test_a_weight_a_callback_breaks_at_the_last_epoch_end_is_still_found():
    """The final check skips its weight scan only when nothing ran after the epoch's own
    scan: a callback that writes -inf into a bias (hidden by the ReLU, so the outputs and
    the loss stay finite) is caught by the final check."""

    class Break(hg.train.Callback):
        def on_epoch_end(self, ctx):
            if ctx.epoch == 1:
                ctx.model.layers[0].bias.value[0] = -np.inf

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = hg.mlp([3, 4, 2], "relu", seed=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1),
                   X, y, epochs=2, batch_size=8, seed=0, callbacks=[Break()])  # fmt: skip
    assert h.stop_reason == "diverged" and "NaN or inf" in h.message
    assert all(np.isfinite(p.value).all() for p in model.parameters())


@pytest.mark.parametrize("outer", ["raise", "warn", "ignore"])
def test_fits_error_state_is_quiet_inside_and_the_users_after(outer):
    """Inside fit's block NumPy ignores overflow and invalid operations (the loop reports them
    as divergence); the other settings, and everything after the block, are the user's."""
    from handgrad.train.interrupt import deferred_interrupt

    with np.errstate(all=outer):
        before = np.geterr()
        with deferred_interrupt(quiet_overflow=True):
            inside = np.geterr()
            assert np.isinf(np.float64(1e308) * np.float64(10.0))  # no warning, no raise
            assert np.isnan(np.float64(np.inf) - np.float64(np.inf))
        assert np.geterr() == before
    assert inside == {**before, "over": "ignore", "invalid": "ignore"}
