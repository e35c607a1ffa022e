"""The minibatch loop's divergence guard (``estimators._rewind``): a snapshot every
``STEPS_PER_SNAPSHOT`` updates and a replay give what a copy before every update gave: the
weights before the last update (the last whose loss was finite), the same bits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from handgrad.estimators import MLPRegressor, _rewind

RNG = np.random.default_rng(0)
X = RNG.standard_normal((100, 3))
Y = X @ [1e3, 2e3, -1e3]  # far from unit scale: sgd diverges after a few to 30 steps

DIVERGING = {
    "sgd shuffled": dict(solver="sgd", learning_rate_init=0.0008, batch_size=10),
    "sgd momentum in order": dict(
        solver="sgd",
        learning_rate_init=0.0008,
        batch_size=10,
        momentum=0.5,
        nesterovs_momentum=False,
        shuffle=False,
    ),
    "nesterov, 33 steps": dict(solver="sgd", learning_rate_init=0.0005, batch_size=10),
    "invscaling, an epoch a step": dict(
        solver="sgd",
        learning_rate_init=0.004,
        batch_size=100,
        learning_rate="invscaling",
        power_t=0.05,
    ),
    "adaptive float32": dict(
        solver="sgd",
        learning_rate_init=0.0012,
        batch_size=10,
        learning_rate="adaptive",
        dtype="float32",
    ),
    "plain sgd, 23 steps": dict(
        solver="sgd", learning_rate_init=0.00075, batch_size=10, momentum=0.0
    ),
}


def _fit(params: dict) -> MLPRegressor:
    reg = MLPRegressor(**{"hidden_layer_sizes": (8,), "random_state": 0, "max_iter": 100} | params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reg.fit(X, Y)


def _state(reg: MLPRegressor) -> dict:
    optimizer = reg._optimizer.optimizer
    return {
        "weights": [a.tolist() for a in reg.coefs_ + reg.intercepts_],
        "optimizer": [a.tolist() for s in optimizer.state for a in s.values()],
        "lr": (reg._optimizer.learning_rate, optimizer.lr),
        "loss_curve_": list(reg.loss_curve_),
        "step_loss": list(reg.history_.step_loss),
        "message": reg.history_.message,
        "n_iter_": reg.n_iter_,
    }


@pytest.mark.parametrize("params", DIVERGING.values(), ids=DIVERGING.keys())
def test_a_snapshot_every_k_steps_and_a_replay_equal_a_copy_before_every_step(params, monkeypatch):
    """STEPS_PER_SNAPSHOT = 1 is a copy before every update (nothing replayed): the old
    guard, with the optimizer's state. Every k gives its bits."""
    seen = {}
    for k in (1, 5, 32):
        monkeypatch.setattr(_rewind, "STEPS_PER_SNAPSHOT", k)
        reg = _fit(params)
        assert reg.history_.stop_reason == "diverged"
        assert all(np.isfinite(W).all() for W in reg.coefs_ + reg.intercepts_)
        seen[k] = _state(reg)
    assert seen[5] == seen[1] and seen[32] == seen[1]
    assert len(seen[1]["step_loss"]) >= 6  # updates replayed: several, across snapshots


def test_the_weights_kept_are_those_before_the_last_update():
    """An epoch a step (batch_size = n): a fit that diverges at step k keeps the weights of
    k - 2 updates, which a fit stopped after k - 2 epochs computes on its own."""
    params = DIVERGING["invscaling, an epoch a step"] | {"n_iter_no_change": 1000}
    diverged = _fit(params)
    finite_steps = len(diverged.history_.step_loss)  # steps 1 .. k-1 had a finite loss
    assert diverged.history_.stop_reason == "diverged" and finite_steps >= 4
    stopped = _fit(params | {"max_iter": finite_steps - 1})
    assert stopped.history_.stop_reason is None
    for a, b in zip(diverged.coefs_ + diverged.intercepts_, stopped.coefs_ + stopped.intercepts_):
        assert np.array_equal(a, b)


class _Param:
    def __init__(self, value):
        self.value = value


class _Optimizer:
    """Adds 1 to every weight per step; its third step writes -inf into one weight."""

    def __init__(self, params):
        self.params, self.lr, self.t = params, 0.1, 0
        self.state = [{"m": np.zeros_like(p.value)} for p in params]

    def step(self):
        self.t += 1
        for p, s in zip(self.params, self.state):
            p.value += 1.0
            s["m"] += 2.0
        if self.t == 3:
            self.params[0].value[0] = -np.inf


class _Solver:
    def __init__(self, params):
        self.optimizer, self.learning_rate = _Optimizer(params), 0.1

    def set_learning_rate(self, lr):
        self.learning_rate = self.optimizer.lr = lr


@pytest.mark.parametrize("k", [1, 2, 32])
def test_undo_finds_an_earlier_update_that_made_a_weight_infinite(k, monkeypatch):
    """A ReLU can hide a -inf weight from the loss; found at the end of an epoch, the guard
    undoes back to before the update that made it: no snapshot records non-finite weights,
    and the replay checks every update it makes."""
    monkeypatch.setattr(_rewind, "STEPS_PER_SNAPSHOT", k)
    params = [_Param(np.zeros(2)), _Param(np.zeros(3))]
    solver = _Solver(params)
    replayed = []
    rewind = _rewind.Rewind(params, solver, replayed.append)
    for step in range(5):
        rewind.before_update(step)
        solver.optimizer.step()
    assert params[0].value[0] == -np.inf
    rewind.undo_last_update()
    assert params[0].value.tolist() == [2.0, 2.0] and params[1].value.tolist() == [2.0] * 3
    assert solver.optimizer.t == 2 and solver.optimizer.state[0]["m"].tolist() == [4.0] * 2
    assert replayed[-1] == 2  # the third batch: its update replayed, then undone
    assert replayed == list(range(3 - len(replayed), 3))


def test_nothing_is_undone_before_the_first_update():
    params = [_Param(np.ones(2))]
    rewind = _rewind.Rewind(params, _Solver(params), lambda idx: None)
    rewind.undo_last_update()
    assert params[0].value.tolist() == [1.0, 1.0]
