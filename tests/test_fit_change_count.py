"""The cached fast step's quick check: one count of the changes made to modules,
Parameters, losses and optimizers (``nn._changes``), compared with the count when the step
last found its pieces unchanged.

Each change a user can make between two ``fit`` calls is made after a first call, then a
second call runs: with the cache kept, and again with it emptied before the second call.
Both give the same losses, weights, gradients and optimizer state, bit for bit: the change
either made the step be rebuilt or was honoured by it. Changes of values inside the arrays
(an in-place edit of the weights) keep the step and are seen by it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import _changes
from handgrad.nn.layers import Linear, Parameter
from handgrad.train import fast
from handgrad.train.fast_pieces import KeptPieces


def _sgd(model):
    return hg.SGD(model.parameters(), lr=0.1)


def _momentum(model):
    return hg.SGD(model.parameters(), lr=0.05, momentum=0.9)


def _adam(model):
    return hg.Adam(model.parameters(), lr=0.01)


def _setup(optimizer=_sgd):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 6)), rng.integers(0, 3, 60)
    model = hg.mlp([6, 8, 3], "relu", seed=0)
    return model, hg.SoftmaxCrossEntropyLoss(), optimizer(model), X, y


def _state(model, opt, history) -> tuple[Any, ...]:
    params = model.parameters()
    arrays = [p.value.copy() for p in params] + [p.grad.copy() for p in params]
    arrays += [a.copy() for s in opt.state for a in s.values()]
    return history.step_loss, history.stop_reason, [a.dtype for a in arrays], arrays


def _second_call(change, optimizer=_sgd, clear: bool = False):
    """A first call, ``change``, a second call (the cache emptied before it if ``clear``):
    the second call's outcome, and whether it ran on the first call's step."""
    model, loss, opt, X, y = _setup(optimizer)
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    first = fast._CACHE.get(model)
    model, loss, opt, X, y = change(model, loss, opt, X, y)
    if clear:
        fast._CACHE.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=1)
    outcome = (_state(model, opt, history), [str(w.message) for w in caught])
    return outcome, first is not None and fast._CACHE.get(model) is first


def _assert_as_with_an_empty_cache(change, optimizer=_sgd) -> bool:
    (kept, _), (emptied, _) = (_second_call(change, optimizer, clear) for clear in (False, True))
    assert kept[0][:3] == emptied[0][:3]
    for a, b in zip(kept[0][3], emptied[0][3]):
        np.testing.assert_array_equal(a, b)
    assert kept[1] == emptied[1]
    return _second_call(change, optimizer)[1]


# --- changes a user can make between calls --------------------------------------------------


def _new_weight_parameter(model, loss, opt, X, y):
    layer = model.layers[0]
    layer.weight = Parameter(layer.weight.value * 1.5, "weight")  # (opt trains the old one)
    return model, loss, opt, X, y


def _rebound_weight_array(model, loss, opt, X, y):
    p = model.layers[2].weight
    p.value = p.value.copy()
    return model, loss, opt, X, y


def _rebound_gradient_array(model, loss, opt, X, y):
    p = model.layers[0].weight
    p.grad = np.zeros_like(p.grad)
    return model, loss, opt, X, y


def _float32(model, loss, opt, X, y):
    for p in model.parameters():
        p.value, p.grad = p.value.astype(np.float32), np.zeros(p.value.shape, np.float32)
    return model, loss, opt, X, y


def _new_activation_in_the_list(model, loss, opt, X, y):
    model.layers[1] = hg.Tanh()
    return model, loss, opt, X, y


def _new_layer_list(model, loss, opt, X, y):
    model.layers = [model.layers[0], hg.Sigmoid(), model.layers[2]]
    return model, loss, opt, X, y


def _added_layer(model, loss, opt, X, y):
    model.layers.append(hg.Tanh())
    return model, loss, opt, X, y


def _activation_of_another_class(model, loss, opt, X, y):
    model.layers[1].__class__ = hg.Tanh
    return model, loss, opt, X, y


def _patched_forward(model, loss, opt, X, y):
    relu = model.layers[1]
    forward = relu.forward
    relu.forward = lambda x: 2.0 * forward(x)  # (the ReLU's own backward is kept)
    return model, loss, opt, X, y


def _patched_step(model, loss, opt, X, y):
    opt.step = lambda: None  # (an optimizer that does not move)
    return model, loss, opt, X, y


def _patch_removed(model, loss, opt, X, y):
    _patched_forward(model, loss, opt, X, y)
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=2)
    del model.layers[1].forward
    return model, loss, opt, X, y


def _sum_reduction(model, loss, opt, X, y):
    loss.reduction = "sum"
    return model, loss, opt, X, y


def _new_lr(model, loss, opt, X, y):
    opt.lr = 0.02
    return model, loss, opt, X, y


def _new_momentum(model, loss, opt, X, y):
    opt.momentum, opt.nesterov = 0.5, True
    return model, loss, opt, X, y


def _new_betas(model, loss, opt, X, y):
    opt.beta1, opt.beta2 = 0.5, 0.9
    return model, loss, opt, X, y


def _other_optimizer_params(model, loss, opt, X, y):
    opt.params[0] = Parameter(opt.params[0].value.copy(), "weight")
    return model, loss, opt, X, y


def _fewer_optimizer_params(model, loss, opt, X, y):
    opt.params.pop()  # (no new object made: the last bias is no longer trained)
    opt.state.pop()
    return model, loss, opt, X, y


def _rebound_to_infinity(model, loss, opt, X, y):
    p = model.layers[2].bias
    p.value = np.full_like(p.value, np.inf)  # (the guard's checks must see the new array)
    return model, loss, opt, X, y


REBUILT, KEPT, REFERENCE = False, True, None  # the step after the second call


@pytest.mark.parametrize(
    ("change", "optimizer", "step"),
    [
        (_new_weight_parameter, _sgd, REBUILT),
        (_rebound_weight_array, _sgd, REBUILT),
        (_rebound_to_infinity, _sgd, REBUILT),
        (_rebound_gradient_array, _sgd, REBUILT),
        (_float32, _sgd, REBUILT),
        (_new_activation_in_the_list, _sgd, REBUILT),
        (_new_layer_list, _sgd, REBUILT),
        (_added_layer, _sgd, REBUILT),
        (_activation_of_another_class, _sgd, REBUILT),
        (_patched_forward, _sgd, REFERENCE),
        (_patched_step, _sgd, REFERENCE),
        (_patch_removed, _sgd, KEPT),
        (_sum_reduction, _sgd, REBUILT),
        (_new_lr, _sgd, KEPT),  # (read at every step)
        (_new_momentum, _momentum, KEPT),
        (_new_betas, _adam, KEPT),
        (_other_optimizer_params, _sgd, REBUILT),
        (_fewer_optimizer_params, _sgd, REBUILT),
        (_fewer_optimizer_params, _momentum, REBUILT),
    ],
    ids=lambda f: getattr(f, "__name__", "").strip("_"),
)
def test_a_change_between_calls_trains_as_with_an_empty_cache(change, optimizer, step):
    """Either the step is rebuilt, or the change is one the step reads at every step
    (REFERENCE: the pieces are no longer built-in, the reference step trains)."""
    kept = _assert_as_with_an_empty_cache(change, optimizer)
    if step is not REFERENCE:
        assert kept is step


def _edited_in_place(model, loss, opt, X, y):
    for p in model.parameters():
        p.value *= 0.5  # (the same arrays: no change of the pieces)
    model.layers[0].weight.value[0, 0] = 3.0
    return model, loss, opt, X, y


def _momentum_edited_in_place(model, loss, opt, X, y):
    for state in opt.state:
        state["velocity"][...] = 1.0
    return model, loss, opt, X, y


@pytest.mark.parametrize(
    ("change", "optimizer"), [(_edited_in_place, _sgd), (_momentum_edited_in_place, _momentum)]
)
def test_values_edited_in_place_keep_the_step_and_are_seen_by_it(change, optimizer):
    assert _assert_as_with_an_empty_cache(change, optimizer)  # (the first call's step served)


def test_an_unchanged_model_is_served_by_the_count_alone(monkeypatch):
    """Nothing set since the last call: the step serves without asking every piece; after
    an unrelated change (another model made), asking every piece keeps the step, and the
    call after that is quick again."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    step = fast._CACHE[model]
    asked = []
    unchanged = KeptPieces.unchanged
    monkeypatch.setattr(KeptPieces, "unchanged", lambda *a: asked.append(1) or unchanged(*a))
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    assert asked == [] and fast._CACHE[model] is step
    _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    assert asked == [1] and fast._CACHE[model] is step
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    assert asked == [1] and fast._CACHE[model] is step


def test_what_counts_as_a_change():
    layer, relu = Linear(3, 2, seed=0), hg.ReLU()
    loss, opt = hg.MSELoss(), hg.SGD(layer.parameters(), lr=0.1)
    p = layer.weight

    def counted(act) -> bool:
        before = _changes.count
        act()
        return _changes.count != before

    # counted: what a cached step is built from
    assert counted(lambda: setattr(p, "value", p.value.copy()))
    assert counted(lambda: setattr(p, "grad", p.grad.copy()))
    assert counted(lambda: setattr(layer, "weight", Parameter(p.value)))
    assert counted(lambda: setattr(layer, "in_features", 4))
    assert not counted(lambda: setattr(layer, "in_features", 4))  # (the very same object)
    layer.in_features = 3
    assert counted(lambda: setattr(relu, "forward", relu.forward))
    assert counted(lambda: delattr(relu, "forward"))
    assert counted(lambda: setattr(relu, "__class__", hg.Tanh))
    assert counted(lambda: setattr(loss, "reduction", "sum"))
    assert counted(lambda: setattr(opt, "lr", 0.5))
    # not counted: values written in place, what forward keeps, the step count
    w = layer.weight

    def in_place() -> None:
        w.value -= 0.1

    assert not counted(in_place)
    assert not counted(lambda: layer.forward(np.ones((4, 3))))
    assert not counted(lambda: setattr(layer, "_x", None))
    assert not counted(lambda: setattr(opt, "t", 7))
    assert not counted(lambda: loss.forward(np.zeros((2, 1)), np.ones((2, 1))))


# --- X's check: the address the BLAS's sum reads ----------------------------------------------


@pytest.mark.parametrize("writeable", [True, False])
@pytest.mark.parametrize("offset", [0, 1, 777])
def test_the_sum_of_x_reads_the_array_s_own_elements(writeable, offset):
    """The address taken from the buffer (or, read-only, from ``x.ctypes``) is the first
    element's, also for a view starting inside another array: a NaN anywhere is found."""
    from handgrad.train import blas

    base = np.ones(offset + 300 * 64)
    x = base[offset:].reshape(300, 64)
    x.flags.writeable = writeable
    assert blas._address(x) == x.ctypes.data
    assert blas.all_finite(x)
    for where in (0, x.size // 2, x.size - 1):
        base.flags.writeable = True
        base[offset + where] = np.nan
        assert not blas.all_finite(x)
        base[offset + where] = 1.0
    base[:offset] = np.inf  # (outside x)
    assert blas.all_finite(x)
