"""fit's final check of the weights takes a short cut only where it gives the same verdict.

After the last update fit tries the final weights on the last batch: a non-finite output or
loss is divergence. The fast step's loss may be vouched for without computing it
(``guard.surely_finite_loss``: softmax cross-entropy on labels, every |z| <= max / (4 N));
anything it does not vouch for is computed as before. The short cut must never vouch for
a loss that is not finite, and fit's verdicts (histories, messages, weights) must be those
of the computed loss.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import fast
from handgrad.train import guard as guard_module
from handgrad.train.fast_losses import LossKernel
from handgrad.train.guard import surely_finite_loss


def _kernel(reduction: str = "mean") -> LossKernel:
    return LossKernel(hg.SoftmaxCrossEntropyLoss(reduction=reduction))


def _vouched(kernel: LossKernel, z: np.ndarray, labels: np.ndarray) -> bool:
    return surely_finite_loss(kernel.loss, z, labels)


def _logits(dtype, rows: int, classes: int, seed: int) -> np.ndarray:
    """Logits mixing ordinary values with ones at and around the bound, the largest
    floats, infinities and NaN."""
    rng = np.random.default_rng(seed)
    largest = float(np.finfo(dtype).max)
    bound = largest / (4 * rows)
    pool = np.array(
        [0.0, 1.0, -3.5, bound, -bound, bound * 0.999, -bound * 0.999, bound * 1.001,
         -bound * 1.001, largest, -largest, largest / 2, -largest / 2, math.inf, -math.inf,
         math.nan],
        dtype=np.float64,
    )  # fmt: skip
    with np.errstate(over="ignore"):
        z = rng.standard_normal((rows, classes)).astype(dtype)
        picks = rng.random((rows, classes)) < 0.3
        z[picks] = pool[rng.integers(0, len(pool), picks.sum())].astype(dtype)
    return z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("rows,classes", [(1, 1), (1, 3), (5, 10), (32, 10), (200, 2)])
def test_the_short_cut_never_vouches_for_a_non_finite_loss(dtype, reduction, rows, classes):
    kernel = _kernel(reduction)
    vouched = computed_finite = 0
    for seed in range(60):
        z = _logits(dtype, rows, classes, seed)
        labels = np.random.default_rng(seed + 1000).integers(0, classes, rows)
        with np.errstate(all="ignore"):
            value, _ = kernel(z.copy(), labels)
        computed_finite += math.isfinite(value)
        if _vouched(kernel, z, labels):
            vouched += 1
            assert math.isfinite(value), (seed, z, labels)
    # ordinary logits are vouched for (the short cut is taken), and not only those
    ordinary = np.random.default_rng(0).standard_normal((rows, classes)).astype(dtype)
    assert _vouched(kernel, ordinary, np.zeros(rows, np.intp)) is True
    assert computed_finite >= vouched


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_short_cut_refuses_nan_inf_and_values_past_the_bound(dtype):
    kernel, labels = _kernel(), np.zeros(4, np.intp)
    largest = float(np.finfo(dtype).max)
    bound = largest / 16
    for bad in (math.nan, math.inf, -math.inf, bound * 1.01, -bound * 1.01, largest):
        z = np.zeros((4, 3), dtype)
        z[2, 1] = bad
        assert _vouched(kernel, z, labels) is False
    z = np.full((4, 3), bound * 0.99, dtype)
    assert _vouched(kernel, z, labels) is True


def test_the_short_cut_is_for_labels_of_the_built_in_loss_only():
    z, labels = np.zeros((4, 3)), np.zeros(4, np.intp)
    assert surely_finite_loss(hg.SoftmaxCrossEntropyLoss(), z, labels) is True
    assert surely_finite_loss(hg.SoftmaxCrossEntropyLoss(), z, np.full((4, 3), 1 / 3)) is False
    assert surely_finite_loss(hg.SoftmaxCrossEntropyLoss(), z, (labels, np.ones(4))) is False
    assert surely_finite_loss(hg.BCEWithLogitsLoss(), z, np.zeros((4, 3))) is False
    assert surely_finite_loss(hg.MSELoss(), z, np.zeros((4, 3))) is False

    class Mine(hg.SoftmaxCrossEntropyLoss):  # a subclass may compute another loss
        pass

    assert surely_finite_loss(Mine(), z, labels) is False
    assert surely_finite_loss(hg.SoftmaxCrossEntropyLoss(), z.astype(np.float16), labels) is False


def _fit_once(scale: float, shortcut: bool, lr: float, l2: bool):
    """One epoch on 37 rows (a last batch of 5) from weights scaled by ``scale``; the
    history, the warnings and the final weights."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((37, 4)), rng.integers(0, 3, 37)
    model = hg.mlp([4, 5, 3], "relu", seed=1)
    for p in model.parameters():
        p.value *= scale
    loss, opt = hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=lr)
    original = guard_module.surely_finite_loss
    if not shortcut:
        guard_module.surely_finite_loss = lambda loss, outputs, target: False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = hg.fit(
                model, loss, opt, X, y, epochs=1, batch_size=8, seed=0,
                l2=hg.L2Penalty(1e-3) if l2 else None,
            )  # fmt: skip
    finally:
        guard_module.surely_finite_loss = original
    record = history.as_dict()
    assert len(record.pop("epoch_seconds")) == len(record["epoch_loss"])  # (times differ)
    return (
        record,
        [str(w.message) for w in caught],
        [p.value.copy() for p in model.parameters()],
    )


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e40, 1e75, 1e100, 1e120, 1e150, 1e154, 1e160])
@pytest.mark.parametrize("lr", [0.1, 50.0])
@pytest.mark.parametrize("l2", [False, True])
def test_fit_gives_the_verdicts_of_the_computed_loss(scale, lr, l2):
    with np.errstate(all="ignore"):
        short = _fit_once(scale, True, lr, l2)
        long = _fit_once(scale, False, lr, l2)
    assert _same_with_nans(short[0], long[0]), (short[0], long[0])
    assert short[1] == long[1]
    for a, b in zip(short[2], long[2]):
        np.testing.assert_array_equal(a, b)


def _same_with_nans(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        if isinstance(a[k], list):
            if not np.array_equal(np.array(a[k], float), np.array(b[k], float), equal_nan=True):
                return False
        elif a[k] != b[k]:
            return False
    return True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", [0.01, 0.1, 0.24, 0.26, 0.5, 0.51, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_final_check_computes_the_loss_it_cannot_vouch_for(dtype, spread, reduction):
    """Final weights whose outputs on the last batch are finite but far apart (past the
    short cut's bound from a spread of max / 24 on, 6 rows): the loss is computed, and
    ``final_problem``'s verdict is that of the loss (which overflows from a spread of
    max / 10 on with the sum; the mean is computed so that it does not)."""
    from handgrad.train.guard import DivergenceGuard, final_problem

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)).astype(dtype), np.array([1, 1, 1, 0, 1, 1])
    model = hg.Linear(4, 2, seed=0, dtype=dtype)
    loss = hg.SoftmaxCrossEntropyLoss(reduction=reduction)
    opt = hg.SGD(model.parameters(), lr=0.1)
    step = fast.fast_step(model, loss, opt, None, X, y.astype(np.intp), None)
    the_guard = DivergenceGuard(step, step.params, opt, True)
    the_guard.before_step(np.arange(6))
    largest = float(np.finfo(dtype).max)
    model.weight.value[...] = 0
    model.bias.value[...] = [spread * largest, -spread * largest]  # z = (+s, -s) max each row
    verdicts = []
    for shortcut in (True, False):
        original = guard_module.surely_finite_loss
        if not shortcut:
            guard_module.surely_finite_loss = lambda loss, outputs, target: False
        try:
            with np.errstate(all="ignore"):
                verdicts.append(final_problem(step, the_guard, "prediction", loss=loss))
        finally:
            guard_module.surely_finite_loss = original
    assert verdicts[0] == verdicts[1]
    with np.errstate(all="ignore"):
        value = loss.forward(model.forward(X), y)
    assert (verdicts[0] is None) == math.isfinite(value), (verdicts, value)
    if reduction == "sum" and spread >= 0.24:  # five rows labelled 1 cost 10 s max
        assert verdicts[0] == "the loss is inf"
    assert surely_finite_loss(loss, model.forward(X), y) == (spread <= 1 / 24)


# --- the guard's first scan, asked only when a check fails -----------------------------------


def _guard_on(values: list[np.ndarray]):
    from handgrad.nn.layers import Parameter
    from handgrad.train.guard import DivergenceGuard

    params = [Parameter(v) for v in values]
    return DivergenceGuard(None, params, hg.SGD(params, lr=0.1), True), params


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("large", [False, True])
def test_the_first_scan_sees_the_weights_training_began_with(bad, large):
    """check_weights says whether every weight was finite when training began, whenever
    it is asked: after updates (from the first snapshot), and after that snapshot was
    taken again at a later epoch (scanned just before)."""
    shape = (120, 100) if large else (4, 3)
    with np.errstate(invalid="ignore", over="ignore"):  # (as inside fit)
        began_bad = [np.ones(shape), np.ones(3)]
        began_bad[0][1, 2] = bad
        guard, params = _guard_on(began_bad)
        guard.before_step(np.arange(2))  # the first snapshot: the weights training began with
        params[0].value[1, 2] = 0.5  # an "update" makes every weight finite
        assert guard.weights_wrong() is False
        guard.renew = True
        guard.before_step(np.arange(2))  # a later epoch's snapshot
        params[0].value[0, 0] = bad  # ...and an update makes one non-finite
        assert guard.check_weights is False and guard.weights_wrong() is False

        guard, params = _guard_on([np.ones(shape), np.ones(3)])
        guard.before_step(np.arange(2))
        params[1].value[2] = bad  # an update breaks a weight
        assert guard.weights_wrong() is True and guard.check_weights is True
        guard, params = _guard_on([np.ones(shape), np.ones(3)])
        guard.before_step(np.arange(2))
        guard.renew = True
        guard.before_step(np.arange(2))
        params[0].value[3, 1] = bad
        assert guard.weights_wrong() is True and guard.check_weights is True


@pytest.mark.parametrize("epochs", [1, 2, 3])
@pytest.mark.parametrize("fast_path", [True, False])
def test_a_minus_inf_weight_before_training_is_kept_in_calls_of_any_length(epochs, fast_path):
    """A -inf weight of a unit the inputs never switch on (an exact limit) turns the weight
    checks off for the whole call, however many epochs and on either step."""
    rng = np.random.default_rng(3)
    X, y = np.abs(rng.standard_normal((40, 6))), rng.integers(0, 3, 40)
    model = hg.mlp([6, 8, 3], "relu", seed=0)
    model.layers[0].weight.value[:, 5] = -math.inf  # unit 5 is off for non-negative inputs
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence warning
        history = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.05),
                         X, y, epochs=epochs, batch_size=8, seed=0, fast=fast_path)  # fmt: skip
    assert history.stop_reason is None and history.epochs == epochs
    assert np.isneginf(model.layers[0].weight.value[:, 5]).all()


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_weight_an_update_breaks_is_still_found_and_undone(epochs):
    """Finite weights before training, then an update that makes a weight -inf where the
    ReLU hides it from the loss (an optimizer's ``step`` of one's own: the reference step,
    weights checked after each update): found, rolled back; the weights end finite."""
    rng = np.random.default_rng(0)
    X, y = np.abs(rng.standard_normal((32, 3))), rng.integers(0, 2, 32)
    model = hg.mlp([3, 4, 2], "relu", seed=0)
    opt = hg.SGD(model.parameters(), lr=0.1)
    real_step = opt.step

    def step_that_breaks():
        real_step()
        model.layers[0].bias.value[0] = -math.inf  # unit 0 dead from now on

    opt.step = step_that_breaks  # type: ignore[method-assign]
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=epochs,
                   batch_size=8, seed=0)  # fmt: skip
    assert h.stop_reason == "diverged" and "step 1: an update made a weight NaN or inf" in h.message
    assert all(np.isfinite(p.value).all() for p in model.parameters())
