"""fit's quiet inner loop (``loop._train_steps`` with nothing acting between steps: a
replayed fast step and no callback's ``on_batch_end``) trains exactly as when something
acts (counters, sums and logs brought up to date and the callbacks called after each step).

A ``ProgressBar`` that is not live does nothing between steps but sends fit down the
step-by-step loop while keeping replay: the two runs must end with the same history
(but the seconds), the same weights and optimizer state, the same messages and warnings,
whether training ends normally, diverges (a non-finite loss, a non-finite gradient) or
stops on Ctrl-C.
"""

from __future__ import annotations

import io
import signal
import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import _optim_base
from handgrad.nn.constraints import Real
from handgrad.train import Callback, ProgressBar, loop


@pytest.fixture(autouse=True)
def _absurd_learning_rates_allowed(monkeypatch):
    """Divergence on purpose needs learning rates the optimizers refuse."""
    monkeypatch.setattr(_optim_base, "LEARNING_RATE", Real(0.0, low_open=True))


class Seen(Callback):
    """Records what a callback sees at the end of each epoch and of training (no
    ``on_batch_end``: the loop stays quiet)."""

    def __init__(self):
        self.seen = []

    def _record(self, ctx, when):
        self.seen.append((when, ctx.epoch, ctx.step, dict(ctx.logs), ctx.stop_reason))

    def on_epoch_end(self, ctx):
        self._record(ctx, "epoch")

    def on_interrupt(self, ctx):
        self._record(ctx, "interrupt")

    def on_train_end(self, ctx):
        self._record(ctx, "end")


def _train(make, quiet, spy_paths, **kwargs):
    """(history, weights, optimizer state, warnings, what callbacks saw) of one fit."""
    model, loss, opt, X, y, fit_kwargs = make()
    seen = Seen()
    callbacks = [seen] if quiet else [seen, ProgressBar(stream=io.StringIO(), live=False)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        h = hg.fit(model, loss, opt, X, y, callbacks=callbacks, **{**fit_kwargs, **kwargs})
    state = [{k: np.array(v, copy=True) for k, v in s.items()} for s in opt.state]
    messages = [str(w.message) for w in record]
    history = {k: v for k, v in h.as_dict().items() if k != "epoch_seconds"}
    return history, [p.value.copy() for p in model.parameters()], state, opt.t, messages, seen.seen


def _assert_same(make, spy_paths=None, **kwargs):
    acting = []
    original = loop._train_steps

    def recording(run, order, acts):
        acting.append(acts)
        return original(run, order, acts)

    loop._train_steps = recording
    try:
        quiet = _train(make, True, spy_paths, **kwargs)
        assert acting and not any(acting), "the quiet loop was not used"
        acting.clear()
        stepwise = _train(make, False, spy_paths, **kwargs)
        assert acting and all(acting), "the step-by-step loop was not used"
    finally:
        loop._train_steps = original
    history_q, weights_q, state_q, t_q, messages_q, seen_q = quiet
    history_s, weights_s, state_s, t_s, messages_s, seen_s = stepwise
    assert history_q == history_s
    assert all(np.array_equal(a, b) for a, b in zip(weights_q, weights_s))
    assert t_q == t_s
    for a, b in zip(state_q, state_s):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert messages_q == messages_s
    assert seen_q == seen_s
    return history_q


def _classifier(opt=lambda ps: hg.SGD(ps, lr=0.1), rows=70, **fit_kwargs):
    def make():
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((rows, 5)), rng.integers(0, 3, rows)
        model = hg.mlp([5, 8, 3], "relu", seed=0)
        kwargs = {"epochs": 4, "batch_size": 16, "seed": 1, **fit_kwargs}
        return model, hg.SoftmaxCrossEntropyLoss(), opt(model.parameters()), X, y, kwargs

    return make


def _regression(opt, act="tanh", **fit_kwargs):
    def make():
        rng = np.random.default_rng(0)
        X = rng.standard_normal((64, 3))
        y = X @ np.array([1.0, -2.0, 0.5]) + 0.1
        model = hg.mlp([3, 8, 1], act, seed=0)
        kwargs = {"epochs": 20, "batch_size": 8, "seed": 0, **fit_kwargs}
        return model, hg.MSELoss(), opt(model.parameters()), X, y, kwargs

    return make


OPTIMIZERS = {
    "sgd": lambda ps: hg.SGD(ps, lr=0.1),
    "momentum": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: hg.Adam(ps, lr=0.01),
    "rmsprop": lambda ps: hg.RMSProp(ps, lr=0.01),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"metrics": ["accuracy"]},
        {"drop_last": True},
        {"shuffle": False},
        {"validation_fraction": 0.2, "metrics": ["accuracy", lambda o, t: float(o[0, 0])]},
    ],
    ids=["plain", "metrics", "drop_last", "no-shuffle", "validation+metrics"],
)
def test_a_normal_run_is_the_same(name, kwargs):
    h = _assert_same(_classifier(OPTIMIZERS[name], **kwargs))
    assert h["stop_reason"] is None and len(h["epoch_loss"]) == 4


@pytest.mark.parametrize(
    "opt",
    [
        lambda ps: hg.SGD(ps, lr=1e308),  # the first update overflows
        lambda ps: hg.SGD(ps, lr=0.5),  # a ReLU network blows up in its second epoch
        lambda ps: hg.SGD(ps, lr=0.2, momentum=0.9),
        lambda ps: hg.Adam(ps, lr=1e300),
    ],
    ids=["sgd-at-once", "sgd-later", "momentum-later", "adam"],
)
def test_a_divergence_is_the_same(opt):
    h = _assert_same(_regression(opt, act="relu"))
    assert h["stop_reason"] == "diverged" and "training diverged at epoch" in h["message"]


def test_a_non_finite_gradient_is_the_same():
    """Finite outputs and loss, but the weight gradient overflows (x ~ 1e308)."""

    def make():
        line = hg.Linear(1, 1, bias=False)
        line.weight.value[...] = 1e-308
        X, y = np.full((8, 1), 1e308), np.full(8, 1e5)
        kwargs = {"epochs": 2, "batch_size": 4, "seed": 0}
        return line, hg.MSELoss(), hg.SGD(line.parameters(), lr=0.1), X, y, kwargs

    h = _assert_same(make)
    assert h["stop_reason"] == "diverged" and "a gradient is not finite" in h["message"]


@pytest.mark.parametrize("at", [(0, 1), (1, 3), (2, 5)])
def test_ctrl_c_is_the_same(at):
    """Ctrl-C pressed inside a metric (called after each step's update) at a given step:
    the loop stops after that step, with the same message, history and weights."""
    epoch, step = at
    calls = []

    def press_ctrl_c(outputs, target):
        calls.append(1)
        # (fit tries each metric once before training) 70 rows in batches of 16: 5 steps
        if len(calls) == 1 + epoch * 5 + step:
            signal.raise_signal(signal.SIGINT)
        return 0.0

    def make():
        calls.clear()
        return _classifier(metrics=[press_ctrl_c])()

    h = _assert_same(make)
    assert h["stop_reason"] == "interrupted"
    assert f"interrupted at epoch {epoch + 1}, step {step};" in h["message"]
    assert len(h["step_loss"]) == epoch * 5 + step


def test_an_on_batch_end_set_on_an_instance_is_called_after_every_step():
    """A hook set on a callback instance acts between steps as a subclass's does: the loop
    calls it after each step (and keeps a snapshot before every update)."""
    model, loss, opt, X, y, kwargs = _classifier()()
    seen = []
    cb = Callback()
    cb.on_batch_end = lambda ctx: seen.append((ctx.epoch, ctx.step, ctx.logs["loss"]))
    h = hg.fit(model, loss, opt, X, y, callbacks=[cb], **kwargs)
    assert [(e, s) for e, s, _ in seen] == [(e, s) for e in range(4) for s in range(1, 6)]
    assert [value for _, _, value in seen] == h.step_loss


def test_an_on_batch_end_set_at_an_epoch_end_is_called_from_the_next_epoch_on():
    model, loss, opt, X, y, kwargs = _classifier()()
    seen = []

    class LateHook(Callback):
        def on_epoch_end(self, ctx):
            if ctx.epoch == 1:
                self.on_batch_end = lambda c: seen.append((c.epoch, c.step))

    hg.fit(model, loss, opt, X, y, callbacks=[LateHook()], **kwargs)
    assert seen == [(e, s) for e in (2, 3) for s in range(1, 6)]


class _Poison(hg.SGD):
    """An SGD of your own (the reference step, a snapshot before every update) whose third
    update leaves an inf in the first weight."""

    def step(self):
        super().step()
        if self.t == 3:
            self.params[0].value[0, 0] = np.inf


def test_without_replay_a_weight_made_non_finite_is_found_at_its_step():
    model, loss, _, X, y, kwargs = _classifier()()
    opt = _Poison(model.parameters(), lr=0.1)
    with pytest.warns(RuntimeWarning, match="training diverged"):
        h = hg.fit(model, loss, opt, X, y, **kwargs)
    assert "epoch 1, step 3: an update made a weight NaN or inf" in h.message
    assert all(np.isfinite(p.value).all() for p in model.parameters())
