"""Divergence: fit stops with a warning and keeps the last weights whose loss and outputs
were finite, with the optimizer state that goes with them, on both paths, with or without
validation data, whatever overflowed (the outputs, the update, the final weights)."""

import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import _optim_base
from handgrad.nn.constraints import Real
from handgrad.train import Callback, predict_outputs


@pytest.fixture(autouse=True)
def _absurd_learning_rates_allowed(monkeypatch):
    """These tests make an update overflow on purpose, with a learning rate the optimizers
    refuse (beyond ``optim.MAX_LR``): the quickest way to see what fit does when one does."""
    monkeypatch.setattr(_optim_base, "LEARNING_RATE", Real(0.0, low_open=True))


OPTIMIZERS = {
    "sgd": lambda ps: hg.SGD(ps, lr=1e308),
    "momentum": lambda ps: hg.SGD(ps, lr=1e300, momentum=0.9),
    "adam": lambda ps: hg.Adam(ps, lr=1e300),
    "rmsprop": lambda ps: hg.RMSProp(ps, lr=1e300),
}


class Spy(Callback):
    """Records the weights and the optimizer's step count after every step. Acting between
    steps, it also makes fit keep a snapshot before every update instead of replaying."""

    def __init__(self):
        self.weights, self.t = [], []

    def on_batch_end(self, ctx):
        self.weights.append([p.value.copy() for p in ctx.model.parameters()])
        self.t.append(ctx.optimizer.t)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1


# slower divergences (ReLU network): the epoch and step where each one blows up, so that
# replay has whole epochs to go through, and a first step of an epoch that fails
LATER = {
    "sgd-epoch2-step4": lambda ps: hg.SGD(ps, lr=0.5),
    "sgd-epoch2-step1": lambda ps: hg.SGD(ps, lr=1.0),
    "momentum-epoch3-step1": lambda ps: hg.SGD(ps, lr=0.2, momentum=0.9),
    "momentum-epoch6-step2": lambda ps: hg.SGD(ps, lr=0.1, momentum=0.9),
}


def diverge(make_opt, *, reference=False, callbacks=(), act="tanh", **kwargs):
    X, y = data()
    model = hg.mlp([3, 8, 1], act, seed=0)
    opt = make_opt(model.parameters())
    kwargs = {"epochs": 20, "batch_size": 8, "seed": 0, "fast": not reference, **kwargs}
    with pytest.warns(RuntimeWarning, match="training diverged") as record:
        h = hg.fit(model, hg.MSELoss(), opt, X, y, callbacks=list(callbacks), **kwargs)
    ours = [w for w in record if "diverged" in str(w.message)]
    assert len(ours) == 1
    return model, opt, h


def assert_good_end(model, opt, h):
    assert h.stop_reason == "diverged" and "the model keeps" in h.message
    assert all(np.isfinite(p.value).all() for p in model.parameters())
    for s in opt.state:
        assert all(np.isfinite(a).all() for a in s.values())
    X, _ = data()
    assert np.isfinite(predict_outputs(model, X)).all()


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
def test_an_overflowing_update_leaves_the_last_finite_weights(name, reference):
    spy = Spy()
    model, opt, h = diverge(OPTIMIZERS[name], reference=reference, callbacks=[spy])
    assert_good_end(model, opt, h)
    # the last recorded loss was computed at the weights after the step before the last
    # one; the last update (which made the loss non-finite) is undone, state included
    k = len(h.step_loss)
    expected = spy.weights[k - 2] if k >= 2 else None
    if expected is not None:
        assert all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), expected))
        assert opt.t == spy.t[k - 2] == k - 1


@pytest.mark.parametrize("name", [*OPTIMIZERS, *LATER])
def test_replay_on_the_fast_path_gives_the_same_bits_as_a_snapshot_per_step(name):
    """Without callbacks between steps the fast path keeps one snapshot per epoch and replays
    the epoch's batches on divergence: the weights and the optimizer state it ends with are
    bit for bit those of a run that kept a snapshot before every update."""
    make, act = (OPTIMIZERS[name], "tanh") if name in OPTIMIZERS else (LATER[name], "relu")
    if name in LATER:
        epoch, step = name.split("-")[1:]  # "epoch2", "step4"
        message = diverge(make, act=act)[2].message
        assert f"epoch {epoch[5:]}, step {step[4:]}:" in message
    replayed, opt_r, h_r = diverge(make, act=act)
    snapped, opt_s, h_s = diverge(make, callbacks=[Spy()], act=act)
    assert h_r.step_loss == h_s.step_loss
    for p, q in zip(replayed.parameters(), snapped.parameters()):
        assert np.array_equal(p.value, q.value)
    assert opt_r.t == opt_s.t
    for a, b in zip(opt_r.state, opt_s.state):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
def test_divergence_with_validation_data_warns_instead_of_raising(reference):
    X, y = data(seed=1)
    for kwargs in ({"validation_data": (X, y)}, {"validation_fraction": 0.25}):
        model, opt, h = diverge(OPTIMIZERS["sgd"], reference=reference, **kwargs)
        assert_good_end(model, opt, h)


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
def test_final_weights_whose_outputs_overflow_are_rolled_back(reference):
    """One step, one epoch: the update is finite but so large that the next prediction is
    not. The final weights are tried once on the last batch, and put back."""
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = np.array([1e150, 1e150, 1e150, 1e150])
    model = hg.mlp([1, 2, 1], "identity", seed=0)
    before = [p.value.copy() for p in model.parameters()]
    with pytest.warns(RuntimeWarning, match="end of training"):
        h = hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=1.0),
            X,
            y,
            epochs=1,
            batch_size=4,
            seed=0,
            fast=not reference,
        )
    assert h.stop_reason == "diverged" and np.isfinite(h.step_loss).all()
    assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
    assert np.isfinite(predict_outputs(model, X)).all()


def test_no_divergence_no_warning_and_nothing_changes_in_the_result():
    """The guard costs nothing visible on a healthy run: same bits with and without a
    callback between steps (snapshot per step vs per epoch)."""
    X, y = data()
    out = []
    for callbacks in ([], [Spy()]):
        model = hg.mlp([3, 8, 1], "tanh", seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            h = hg.fit(
                model,
                hg.MSELoss(),
                hg.Adam(model.parameters(), lr=0.01),
                X,
                y,
                epochs=3,
                seed=0,
                callbacks=callbacks,
            )
        assert h.stop_reason is None
        out.append([p.value.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*out))


@pytest.mark.parametrize(
    "solver, lr, reason",
    [
        # the estimators score the held-out rows themselves (scikit-learn's early stopping), so
        # the guard sees the divergence in training: a weight or the loss (which comes first
        # for sgd depends on the initial draw: an update to inf, or finite ~1e307 weights whose
        # forward overflows)
        ("sgd", 1e308, ("an update made a weight NaN or inf", "the loss is nan")),
        ("adam", 1e300, ("the loss is nan",)),
    ],
    ids=["sgd", "adam"],
)
def test_estimators_with_early_stopping_warn_and_keep_finite_weights(solver, lr, reason):
    """Before, the validation split of early_stopping=True raised NonFiniteError."""
    X, y = data(100)
    model = hg.MLPRegressor(
        early_stopping=True, solver=solver, learning_rate_init=lr, max_iter=20, random_state=0
    )
    with pytest.warns(RuntimeWarning, match="training diverged") as record:
        model.fit(X, y)
    assert any(r in str(w.message) for w in record for r in reason)
    assert np.isfinite(model.predict(X)).all()
    assert all(np.isfinite(p.value).all() for p in model.model_.parameters())


def test_a_duck_typed_optimizer_is_rolled_back_in_place():
    """An optimizer of your own: its attributes are snapshot before every update and put
    back into the same arrays and objects (a reference it holds stays the same object)."""

    class Momentum:
        def __init__(self, model, lr):
            self.model, self.params, self.lr = model, model.parameters(), lr
            self.velocity = [np.zeros_like(p.value) for p in self.params]
            self.steps = 0

        def step(self):
            for p, v in zip(self.params, self.velocity):
                v *= 0.9
                v += p.grad
                p.value -= self.lr * v
            self.steps += 1

    X, y = data()
    model = hg.mlp([3, 8, 1], "relu", seed=0)
    opt = Momentum(model, 0.2)
    velocity = opt.velocity[0]
    spy = Spy.__new__(Spy)
    spy.weights, spy.t = [], []

    class Record(Callback):
        def on_batch_end(self, ctx):
            spy.weights.append([p.value.copy() for p in ctx.model.parameters()])
            spy.t.append([v.copy() for v in opt.velocity])

    with pytest.warns(RuntimeWarning, match="training diverged"):
        h = hg.fit(
            model, hg.MSELoss(), opt, X, y, epochs=20, batch_size=8, seed=0, callbacks=[Record()]
        )
    k = len(h.step_loss)
    assert k >= 3 and opt.steps == k - 1 and opt.model is model and opt.velocity[0] is velocity
    assert all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), spy.weights[k - 2]))
    assert all(np.array_equal(v, w) for v, w in zip(opt.velocity, spy.t[k - 2]))
