"""What a model's cached fast step remembers from call to call is forgotten when what it
depends on changes.

The step keeps, besides its buffers, what ``fit`` learned of the model's inputs and
outputs from the layers (X's dtype and width, the output shape), the guard's snapshot
buffers and the layout of its weight checks. Each test changes one thing between two
calls (a weight array swapped, the dtype, a layer's width, the optimizer, the loss's
reduction, a callback that changes a piece as training begins, the optimizer's state
arrays) and compares the second call with the same call made after the cache was
emptied: the same losses, weights and optimizer state, bit for bit, or the same error
raised before anything changed. Integer labels accepted by the two-pass short cut equal
what the loss's own checks return, and everything else gets the loss's own error.
"""

from __future__ import annotations

import gc
import warnings
import weakref
from typing import Any

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn.layers import Linear, Parameter
from handgrad.train import fast, inputs


def _setup(dtype: Any = np.float64, classes: int = 3):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 6)), rng.integers(0, classes, 60)
    model = hg.mlp([6, 8, classes], "relu", seed=0, dtype=dtype)
    return model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1), X, y


def _state(model, opt, history) -> tuple[Any, ...]:
    arrays = [p.value.copy() for p in model.parameters()]
    arrays += [a.copy() for s in opt.state for a in s.values()]
    return history.step_loss, history.stop_reason, [a.dtype for a in arrays], arrays


def _assert_same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert a[:3] == b[:3]
    for x, y in zip(a[3], b[3]):
        np.testing.assert_array_equal(x, y)


def _twice(change, second: dict[str, Any] | None = None) -> None:
    """A first call, ``change``, a second call: with the cache kept, then with it emptied
    between the calls; the second calls' outcomes are equal (``change`` may return new
    pieces or arrays to train with)."""
    outcomes = []
    for clear in (False, True):
        model, loss, opt, X, y = _setup()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
        model, loss, opt, X, y = change(model, loss, opt, X, y)
        if clear:
            fast._CACHE.clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = hg.fit(
                model, loss, opt, X, y, epochs=2, batch_size=16, seed=1, **(second or {})
            )
        outcomes.append((_state(model, opt, history), [str(w.message) for w in caught]))
    _assert_same(outcomes[0][0], outcomes[1][0])
    assert outcomes[0][1] == outcomes[1][1]


def _all_float32(model, loss, opt, X, y):
    for p in model.parameters():
        p.value, p.grad = p.value.astype(np.float32), np.zeros(p.value.shape, np.float32)
    return model, loss, opt, X, y


def _narrower_output(model, loss, opt, X, y):
    model.layers[-1] = Linear(8, 2, rng=np.random.default_rng(3))
    return model, loss, hg.SGD(model.parameters(), lr=0.1), X, y % 2


def _swapped_weight(model, loss, opt, X, y):
    p = model.parameters()[2]
    p.value = p.value * 1.5
    return model, loss, opt, X, y


def _new_optimizer(model, loss, opt, X, y):
    return model, loss, hg.Adam(model.parameters(), lr=0.01), X, y


def _sum_reduction(model, loss, opt, X, y):
    loss.reduction = "sum"
    return model, loss, opt, X, y


def _new_loss(model, loss, opt, X, y):
    return model, hg.SoftmaxCrossEntropyLoss(reduction="sum"), opt, X, y


def _int8_labels(model, loss, opt, X, y):
    return model, loss, opt, X, y.astype(np.int8)


@pytest.mark.parametrize(
    "change",
    [
        _all_float32,
        _narrower_output,
        _swapped_weight,
        _new_optimizer,
        _sum_reduction,
        _new_loss,
        _int8_labels,
    ],
)
def test_a_change_between_calls_trains_as_with_an_empty_cache(change):
    _twice(change)


def test_float32_weights_after_float64_calls_train_in_float32():
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    _all_float32(model, loss, opt, X, y)
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    step = fast._CACHE[model]
    assert step.batch._plans[16][1][0].dtype == np.float32  # X's batches: the model's dtype
    assert all(p.value.dtype == np.float32 for p in model.parameters())


class _OnBegin(hg.train.Callback):
    """Changes a piece as training begins (after fit checked its inputs)."""

    def __init__(self, act):
        self.act = act

    def on_train_begin(self, ctx) -> None:
        self.act(ctx.model, ctx.optimizer)


def _swap_on_begin(model, opt):
    p = model.parameters()[0]
    p.value = p.value - 0.25


def _poison_on_begin(model, opt):
    p = model.parameters()[1]
    p.value = np.full_like(p.value, np.inf)  # a new array, not finite: the guard must see it


@pytest.mark.parametrize("act", [_swap_on_begin, _poison_on_begin])
def test_a_callback_changing_a_weight_as_training_begins_is_seen(act):
    """The pieces fit found before the callbacks ran are found again after them."""
    _twice(lambda *pieces: pieces, {"callbacks": [_OnBegin(act)]})


def test_a_callback_changing_the_reduction_as_training_begins_is_seen():
    def act(model, opt):
        ctx_loss.reduction = "sum"

    outcomes = []
    for clear in (False, True):
        model, loss, opt, X, y = _setup()
        ctx_loss = loss
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
        if clear:
            fast._CACHE.clear()
        history = hg.fit(
            model, loss, opt, X, y, epochs=1, batch_size=16, seed=1, callbacks=[_OnBegin(act)]
        )
        outcomes.append(_state(model, opt, history))
    _assert_same(*outcomes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.layers.__setitem__(0, Linear(5, 8)), "X has 6 features per row, expected 5"),
        (lambda m: m.layers.__setitem__(-1, Linear(8, 2)), "label 2 is out of range [0, 2)"),
    ],
    ids=["input width", "output width"],
)
def test_a_layer_of_another_width_gets_its_error_before_anything_changes(change, message):
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    change(model)
    opt = hg.SGD(model.parameters(), lr=0.1)
    before = [p.value.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    for a, b in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, b.value)


def test_a_swapped_weight_is_let_go_at_the_models_next_call():
    """The cached step's weight checks view the values it was built for, so a value
    swapped out lives until the model's next call, which builds a step of its own."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    p = model.parameters()[0]
    old = weakref.ref(p.value)
    p.value = p.value.copy()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    gc.collect()
    assert old() is None


def test_rebound_optimizer_state_is_snapshot_and_rolled_back_as_with_an_empty_cache():
    """The snapshot buffers a step keeps follow the optimizer's state arrays when they
    are rebound between calls: a divergence in the second call puts back the state of
    its own snapshot (the run diverges: lr 1e150 after one quiet call)."""

    def setup():
        model, loss, _, X, y = _setup()
        return model, loss, hg.SGD(model.parameters(), lr=0.05, momentum=0.9), X, y

    outcomes = []
    for clear in (False, True):
        model, loss, opt, X, y = setup()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
        opt.state = [{k: v.copy() * 0.5 for k, v in s.items()} for s in opt.state]
        opt.lr = 1e150
        if clear:
            fast._CACHE.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=1)
        assert history.stop_reason == "diverged"
        outcomes.append(_state(model, opt, history))
    _assert_same(*outcomes)


def test_the_gathers_plans_serve_the_next_call_without_holding_its_data():
    """The batch gather keeps its per-size plans (buffers and the list it returns) from
    call to call; a released step refers to no array of the call's (X, y)."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    gather = fast._CACHE[model].batch
    plans = dict(gather._plans)
    assert gather._takes == [] and all(a is None for a in gather.arrays)
    X2, y2 = X.copy(), y.copy()
    history = hg.fit(model, loss, opt, X2, y2, epochs=1, batch_size=16, seed=0)
    assert fast._CACHE[model].batch is gather and gather._plans.keys() == plans.keys()
    assert all(gather._plans[k] is plans[k] for k in plans)
    model2, loss2, opt2, _, _ = _setup()
    hg.fit(model2, loss2, opt2, X, y, epochs=1, batch_size=16, seed=0)
    fast._CACHE.clear()
    again = hg.fit(model2, loss2, opt2, X2, y2, epochs=1, batch_size=16, seed=0)
    assert history.step_loss == again.step_loss  # (as with a gather of its own)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_kept_snapshot_rolls_back_to_the_weights_this_call_began_with(momentum):
    """The step keeps its last call's snapshot buffers; a later call re-takes them before
    its first update, so a divergence rolls back to that call's own weights and optimizer
    state (the run diverges: lr 1e300 after calls that moved the weights), as with an
    empty cache."""
    outcomes = []
    for clear in (False, True):
        model, loss, _, X, y = _setup()
        opt = hg.SGD(model.parameters(), lr=0.05, momentum=momentum)
        hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=0)
        assert fast._CACHE[model].snapshot is not None  # (kept from that call)
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=3)
        began = [p.value.copy() for p in model.parameters()]
        opt.lr = 1e300
        if clear:
            fast._CACHE.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=1)
        assert history.stop_reason == "diverged"
        assert len(history.step_loss) == 1  # (the first update undone: the weights began so)
        for p, value in zip(model.parameters(), began):
            np.testing.assert_array_equal(p.value, value)
        outcomes.append(_state(model, opt, history))
    _assert_same(*outcomes)


def test_numpy_error_settings_inside_fit_and_after_it():
    """Overflow and invalid are ignored inside fit, the other settings are the caller's,
    and everything is the caller's again after fit (also when fit raises)."""
    seen = []

    class Record(hg.train.Callback):
        def on_epoch_end(self, ctx) -> None:
            seen.append(np.geterr())

    model, loss, opt, X, y = _setup()
    with np.errstate(all="raise", under="warn"):
        outside = np.geterr()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, callbacks=[Record()])
        assert np.geterr() == outside
        with pytest.raises(ValueError):
            hg.fit(model, loss, opt, X, y[:-1], epochs=1)
        assert np.geterr() == outside
    assert seen == [{"divide": "raise", "over": "ignore", "under": "warn", "invalid": "ignore"}]


# --- integer labels: the two-pass short cut against the loss's own checks --------------------


def _both(y, classes: int = 4, loss=None) -> list[Any]:
    """What prepare_target_and_form gives (or raises) with the short cut and without it."""
    loss = loss or hg.SoftmaxCrossEntropyLoss()
    X = np.zeros((len(y) if np.ndim(y) else 3, 2))
    results = []
    for short_cut in (True, False):
        saved = inputs._plain_labels
        if not short_cut:
            inputs._plain_labels = lambda *args: None
        try:
            y_arr, form = inputs.prepare_target_and_form(loss, y, X, (classes,))
            results.append(("returns", y_arr.dtype, y_arr.tolist(), form.dtype, form.tolist()))
        except Exception as exc:  # noqa: BLE001  (the error itself is compared)
            results.append(("raises", type(exc).__name__, str(exc)))
        finally:
            inputs._plain_labels = saved
    return results


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
)
@pytest.mark.parametrize(
    "labels", [[0, 1, 2, 3], [3, 3, 3], [0], [1, 0, 3, 2, 1], [0, 4, 1], [0, 1, -1], [9, 0, 0]]
)
def test_integer_labels_are_accepted_and_refused_as_the_loss_does(dtype, labels):
    y = np.array(labels).astype(dtype)  # (negative labels wrap around in unsigned types)
    with_short_cut, without = _both(y)
    assert with_short_cut == without


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint32])
@pytest.mark.parametrize("labels", [[0, 3, 1, 2, 2, 0], [0, 3, -1, 2, 2, 0], [1, 7, 2, 9, 3, 1]])
def test_strided_integer_labels_are_accepted_and_refused_as_the_loss_does(dtype, labels):
    y = np.array(labels).astype(dtype)[::2]  # (a view: every other label)
    with_short_cut, without = _both(y)
    assert with_short_cut == without
    assert with_short_cut[0] == ("returns" if 0 <= min(labels[::2]) else "raises")


@pytest.mark.parametrize(
    "y",
    [
        np.array([0.0, 1.0, 2.0]),
        np.array([True, False, True]),
        np.array([[0], [1], [2]]),
        np.eye(4)[[0, 1, 2]],
        [0, 1, 2],
        np.array([0, 1]),
        np.array(1),
        np.array([0, 1, 5]),
    ],
    ids=["floats", "bools", "column", "one-hot", "list", "rows", "scalar", "out of range"],
)
def test_other_targets_go_through_the_loss_checks(y):
    with_short_cut, without = _both(y)
    assert with_short_cut == without


def test_a_subclass_of_the_loss_checks_its_target_itself():
    calls = []

    class Counted(hg.SoftmaxCrossEntropyLoss):
        def forward(self, logits, target, sample_weight=None):
            calls.append(np.shape(logits))
            return super().forward(logits, target, sample_weight)

    assert inputs._plain_labels(Counted(), np.array([0, 1]), np.zeros((2, 2)), (3,)) is None
    model, _, opt, X, y = _setup()
    hg.fit(model, Counted(), opt, X, y, epochs=1, batch_size=60)
    assert calls[0] == (60, 3)  # the target checked on dummy outputs of every row


# --- Ctrl-C: a handler in the main thread only ----------------------------------------------


def test_the_ctrl_c_handler_is_installed_in_the_main_thread_only():
    """In the main thread fit's handler replaces the caller's while training and the
    caller's is back after; in another thread (where Python cannot set one) fit trains
    and leaves the handlers as they were."""
    import signal
    import threading

    seen: list[Any] = []

    class Record(hg.train.Callback):
        def on_epoch_end(self, ctx) -> None:
            seen.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, callbacks=[Record()])
    assert seen[-1] is not before and callable(seen[-1])
    assert signal.getsignal(signal.SIGINT) is before

    results: list[Any] = []

    def train() -> None:
        m, lo, o, X_, y_ = _setup()
        results.append(hg.fit(m, lo, o, X_, y_, epochs=2, seed=0, callbacks=[Record()]))

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    assert len(results) == 1 and len(results[0].epoch_loss) == 2
    assert seen[-2:] == [before, before]  # (no handler of fit's while it trained there)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_model_of_your_own_without_weak_references_trains():
    """fit looks for a cached step only for built-in models: a module of one's own that
    cannot be weakly referenced (``__slots__``) trains as before, on the reference path."""

    class Kept:
        __slots__ = ("w", "x")

        def __init__(self) -> None:
            self.w = Parameter(np.ones((6, 3)))

        def forward(self, x):
            self.x = x
            return x @ self.w.value

        def backward(self, g):
            self.w.grad[...] = self.x.T @ g
            return g @ self.w.value.T

        def parameters(self):
            return [self.w]

    model = Kept()
    with pytest.raises(TypeError):
        weakref.ref(model)
    _, loss, _, X, y = _setup()
    history = hg.fit(model, loss, hg.SGD(model.parameters(), lr=0.1), X, y, epochs=2, seed=0)
    assert len(history.epoch_loss) == 2 and history.epoch_loss[1] < history.epoch_loss[0]


def test_a_step_taken_meanwhile_by_another_call_is_not_taken_twice():
    """A call found the model's step before checking its data; another call took it (and
    left a step of its own) before the first took it: the first builds its own step, and
    the other call's step stays in the cache."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    found = fast.serving(model, loss, opt)
    assert found is not None
    del fast._CACHE[model]  # (the other call takes it ...)
    other = fast.FastStep(model, loss, opt, None, X, y.astype(np.intp), None, key=found.key)
    fast.release(model, other)  # (... and leaves its own)
    assert fast.take(model, found, None, X, y.astype(np.intp), None) is None
    assert fast._CACHE[model] is other
    history = hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    assert len(history.step_loss) == 4


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop", "folded"])
def test_a_dropped_model_frees_its_step_without_the_cycle_collector(optimizer):
    """The cached step holds no reference cycle: dropping the model frees it (and the
    model, loss and optimizer) at once; nothing is left for the cycle collector."""
    sizes = [300, 256, 4] if optimizer == "folded" else [6, 8, 3]
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, sizes[0])), rng.integers(0, sizes[-1], 64)
    model = hg.mlp(sizes, "relu", seed=0)
    params = model.parameters()
    opt = {
        "sgd": lambda: hg.SGD(params, lr=0.1),
        "momentum": lambda: hg.SGD(params, lr=0.1, momentum=0.9),
        "adam": lambda: hg.Adam(params),
        "rmsprop": lambda: hg.RMSProp(params),
        "folded": lambda: hg.SGD(params, lr=0.01),
    }[optimizer]()
    hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=2, batch_size=16, seed=0)
    step = fast._CACHE[model]
    assert (step._fold is not None) == (optimizer == "folded")
    freed = [weakref.ref(a) for a in (model, opt, step, step._update, step._model, step.batch)]
    del model, opt, step
    assert [r() for r in freed] == [None] * len(freed)
