"""Chapter 5's measurements: XOR trained from several initializations with SGD + momentum
(ReLU and tanh) and with Adam (two hidden layers), the symmetric initializations, and a
one-hidden-unit reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...nn.layers import Sequential, mlp
from ...nn.losses import BCEWithLogitsLoss
from ...nn.optim import SGD, Adam
from ..base import bias_of, linear

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0.0, 1.0, 1.0, 0.0])

SGD_SETTINGS: dict[str, Any] = {"lr": 0.5, "momentum": 0.9}  # the classic setting for this network
ADAM_LR = 0.01
FULL = {"inits": 6, "sgd_epochs": 2000, "adam_epochs": 1000}
QUICK = {"inits": 2, "sgd_epochs": 300, "adam_epochs": 300}
SINGLE_UNIT_INITS, SINGLE_UNIT_EPOCHS = 3, 500  # the one-hidden-unit reference


@dataclass
class Result:
    label: str
    model: Sequential
    losses: list[float] = field(default_factory=list)
    accuracy: float = 0.0
    first_perfect_epoch: int | None = None


def _accuracy(model: Sequential) -> float:
    return float(np.mean((model.forward(X)[:, 0] > 0) == (Y == 1)))


def train(model: Sequential, optimizer, epochs: int, label: str) -> Result:
    """Full-batch training on the 4 XOR points; the loss is measured before each step."""
    loss = BCEWithLogitsLoss()
    res = Result(label, model)
    for epoch in range(epochs):
        logits = model.forward(X)
        res.losses.append(loss.forward(logits, Y))
        if res.first_perfect_epoch is None and np.all((logits[:, 0] > 0) == (Y == 1)):
            res.first_perfect_epoch = epoch
        model.backward(loss.backward())
        optimizer.step()
    res.accuracy = _accuracy(model)
    return res


def hidden_spread(model: Sequential) -> float:
    """Largest difference between any two hidden units of the first hidden layer.

    Compares each unit's incoming weights (a column of W1), its bias and its outgoing
    weights (a row of W2): 0 means all units are exact copies of one another.
    """
    W1, b1 = linear(model[0]).weight.value, bias_of(model[0]).value
    W2 = linear(model[2]).weight.value
    return float(max(np.ptp(W1, axis=1).max(), np.ptp(b1), np.ptp(W2, axis=0).max()))


def dead_units(model: Sequential) -> int:
    """Hidden ReLU units whose pre-activation is <= 0 on all four inputs (they pass no gradient)."""
    z1 = model[0].forward(X)
    return int(np.sum(np.all(z1 <= 0, axis=0)))


def _summary(results: list[Result]) -> dict[str, Any]:
    perfect = [r for r in results if r.accuracy == 1.0]
    firsts = [r.first_perfect_epoch for r in perfect if r.first_perfect_epoch is not None]
    return {
        "runs": len(results),
        "perfect": len(perfect),
        "accuracies": [r.accuracy for r in results],
        "final_losses": [r.losses[-1] for r in results],
        "median_first_perfect_epoch": float(np.median(firsts)) if firsts else None,
        "max_final_loss_of_perfect": max((r.losses[-1] for r in perfect), default=None),
    }


def _init_rng(seed: int, k: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part, k])


def train_groups(seed: int, K: int, sgd_epochs: int, adam_epochs: int) -> dict[str, list[Result]]:
    """K initializations each of [2, 8, 1] ReLU and tanh with SGD + momentum, and
    [2, 8, 8, 1] ReLU with Adam."""

    groups: dict[str, list[Result]] = {"relu_sgd": [], "tanh_sgd": [], "adam_two_hidden": []}
    for k in range(K):
        for key, act in (("relu_sgd", "relu"), ("tanh_sgd", "tanh")):
            model = mlp([2, 8, 1], act, rng=_init_rng(seed, k, 1))
            sgd = SGD(model.parameters(), **SGD_SETTINGS)
            groups[key].append(train(model, sgd, sgd_epochs, f"[2, 8, 1] {act}, SGD momentum"))
        model = mlp([2, 8, 8, 1], "relu", rng=_init_rng(seed, k, 2))
        adam = Adam(model.parameters(), lr=ADAM_LR)
        groups["adam_two_hidden"].append(train(model, adam, adam_epochs, "[2, 8, 8, 1] ReLU, Adam"))
    return groups


def symmetric_runs(seed: int, sgd_epochs: int) -> dict[str, dict[str, Any]]:
    """Every weight and bias set to one value (0 or 0.5), ReLU and tanh, trained like the
    others; keyed "value/activation"."""
    symmetric: dict[str, dict[str, Any]] = {}
    for value in (0.0, 0.5):
        for act in ("relu", "tanh"):
            model = mlp([2, 8, 1], act, rng=_init_rng(seed, 0, 3))
            for p in model.parameters():
                p.value[...] = value
            start = [p.value.copy() for p in model.parameters()]
            opt = SGD(model.parameters(), **SGD_SETTINGS)
            res = train(model, opt, sgd_epochs, f"all weights {value:g}, {act}")
            moved = max(
                float(np.max(np.abs(p.value - s))) for p, s in zip(model.parameters(), start)
            )
            symmetric[f"{value:g}/{act}"] = {
                "value": value,
                "activation": act,
                "spread_start": 0.0,
                "spread_end": hidden_spread(model),
                "accuracy": res.accuracy,
                "final_loss": res.losses[-1],
                "largest_parameter_change": moved,
                "result": res,
            }
    return symmetric


def single_unit_best(seed: int) -> float:
    """The best accuracy a [2, 1, 1] tanh network reaches over a few initializations."""
    single = []
    for k in range(SINGLE_UNIT_INITS):
        model = mlp([2, 1, 1], "tanh", rng=_init_rng(seed, k, 4))
        opt = SGD(model.parameters(), **SGD_SETTINGS)
        single.append(train(model, opt, SINGLE_UNIT_EPOCHS, "[2, 1, 1]"))
    return max(r.accuracy for r in single)


@dataclass
class Measured:
    """Everything chapter 5 measured."""

    K: int
    sgd_epochs: int
    adam_epochs: int
    groups: dict[str, list[Result]]
    symmetric: dict[str, dict[str, Any]]
    single_best: float
    failed_relu: list[Result] = field(default_factory=list)
    dead_in_failed: list[int] = field(default_factory=list)
    dead_in_perfect: list[int] = field(default_factory=list)


def measure(seed: int, quick: bool) -> Measured:
    cfg = QUICK if quick else FULL
    K, sgd_epochs, adam_epochs = cfg["inits"], cfg["sgd_epochs"], cfg["adam_epochs"]
    groups = train_groups(seed, K, sgd_epochs, adam_epochs)
    failed_relu = [r for r in groups["relu_sgd"] if r.accuracy < 1.0]
    dead_in_failed = [dead_units(r.model) for r in failed_relu]
    dead_in_perfect = [dead_units(r.model) for r in groups["relu_sgd"] if r.accuracy == 1.0]
    return Measured(
        K, sgd_epochs, adam_epochs, groups, symmetric_runs(seed, sgd_epochs),
        single_unit_best(seed), failed_relu, dead_in_failed, dead_in_perfect,
    )  # fmt: skip


def metrics(m: Measured) -> dict[str, Any]:
    """The JSON-ready numbers of ``m``."""
    K, sgd_epochs, adam_epochs, groups = m.K, m.sgd_epochs, m.adam_epochs, m.groups
    dead_in_failed, dead_in_perfect = m.dead_in_failed, m.dead_in_perfect
    symmetric, single_best = m.symmetric, m.single_best
    return {
        "inits_per_config": K,
        "sgd": {"epochs": sgd_epochs, **SGD_SETTINGS},
        "adam": {"epochs": adam_epochs, "lr": ADAM_LR},
        "relu_sgd": _summary(groups["relu_sgd"]),
        "tanh_sgd": _summary(groups["tanh_sgd"]),
        "adam_two_hidden": _summary(groups["adam_two_hidden"]),
        "dead_units_in_failed_relu": dead_in_failed,
        "dead_units_in_perfect_relu": dead_in_perfect,
        "symmetric": {
            k: {kk: v for kk, v in d.items() if kk != "result"} for k, d in symmetric.items()
        },
        "single_unit_best_accuracy": single_best,
    }
