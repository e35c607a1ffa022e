"""A zoo of trained models for gradcheck's verdict, and the wrong backwards injected into them.

problem(loss, scale, seed)         spirals-like data at a scale, with that loss's targets
trajectory(setting, checkpoints)   trains a model with Adam; yields (step, model, ...) at
                                   each checkpoint (the same model object, trained on)
INJECTIONS                         name -> function(model) returning a model that shares
                                   the trained parameters but has one wrong backward
GRID, attack(seeds, tally, attack_module)
                                   the whole grid (activation x loss x dtype x shape, to
                                   3000 steps), one cell per seed, as the attack harnesses;
                                   `make attack-grid` runs its 72 cells, `make test` a sample
                                   (tests/nn/test_gradcheck_verdict.py)
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

import handgrad as hg

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
LOSSES = ("bce", "softmax_ce", "mse")
OUTPUTS = {"bce": 1, "softmax_ce": 3, "mse": 2}


@dataclass(frozen=True)
class Setting:
    activation: str
    loss: str
    dtype: str  # "float64" or "float32"
    depth: int  # hidden layers, all of width WIDTH (so hidden-to-hidden weights are square)
    scale: float  # of the inputs (and of MSE's targets)
    seed: int = 0

    def __str__(self) -> str:
        return f"{self.activation}-{self.loss}-{self.dtype}-depth{self.depth}-x{self.scale:g}"


DTYPES = ("float64", "float32")
SHAPES = ((2, 1.0), (5, 0.1), (2, 10.0))  # (hidden layers, input scale)
WIDTH = 8
BATCH = 48


def problem(loss: str, scale: float, seed: int, n: int = BATCH):
    """Two interleaved spirals (three for softmax CE), inputs times ``scale``; targets."""
    rng = np.random.default_rng(seed)
    classes = 3 if loss == "softmax_ce" else 2
    k = rng.integers(0, classes, n)
    r = rng.uniform(0.1, 1.0, n)
    angle = 3.0 * r + 2 * np.pi * k / classes + rng.normal(0, 0.2, n)
    X = scale * np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    if loss == "bce":
        return X, k.astype(np.float64), hg.BCEWithLogitsLoss()
    if loss == "softmax_ce":
        return X, k, hg.SoftmaxCrossEntropyLoss()
    y = scale * np.stack([np.sin(3 * r), np.cos(2 * angle)], axis=1)
    return X, y, hg.MSELoss()


def trajectory(setting: Setting, checkpoints: tuple[int, ...], lr: float = 0.01) -> Iterator:
    """(step, model, loss, X, y) after each checkpoint's number of Adam steps (0 = at init)."""
    dtype = np.dtype(setting.dtype)
    X, y, loss = problem(setting.loss, setting.scale, setting.seed)
    X = X.astype(dtype)
    if y.dtype.kind == "f":
        y = y.astype(dtype)
    sizes = [2] + [WIDTH] * setting.depth + [OUTPUTS[setting.loss]]
    model = hg.mlp(sizes, setting.activation, seed=setting.seed, dtype=dtype)
    opt = hg.Adam(model.parameters(), lr=lr)
    step = 0
    for target in checkpoints:
        while step < target:
            loss.forward(model.forward(X), y)
            model.backward(loss.backward())
            opt.step()
            step += 1
        yield step, model, loss, X, y


# --- wrong backwards ------------------------------------------------------------------------


def _linears(model: hg.Sequential) -> list[int]:
    return [i for i, m in enumerate(model.layers) if isinstance(m, hg.Linear)]


def _replace(model: hg.Sequential, index: int, backward) -> hg.Sequential:
    """A model sharing every layer (and parameter) but layer ``index``, whose backward is
    ``backward(layer, grad_y)``; the replaced layer shares its parameters too."""
    layer = copy.copy(model.layers[index])
    layer.backward = types.MethodType(backward, layer)
    layers = list(model.layers)
    layers[index] = layer
    return hg.Sequential(*layers)


def weight_one_percent_too_large(model):
    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        self.weight.grad *= 1.01
        return dx

    return _replace(model, _linears(model)[0], backward)


def bias_entry_sign_flipped(model):
    """The sign of the output layer's bias entry with the largest gradient (a zero one has no
    sign to show). In the output layer, because finite differences cannot probe an entry
    whose every step moves some ReLU input across its kink (gradcheck counts it as a kink),
    and a hidden bias moves every unit after it: trained ReLU nets hold inputs within 1e-7
    of a kink, so the largest hidden-bias entry is sometimes one of those."""

    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        j = int(np.argmax(np.abs(self.bias.grad)))
        self.bias.grad[j] = -self.bias.grad[j]
        return dx

    return _replace(model, _linears(model)[-1], backward)


def square_weight_transposed(model):
    square = [
        i
        for i in _linears(model)
        if model.layers[i].in_features == WIDTH == model.layers[i].out_features
    ]

    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        self.weight.grad[...] = self.weight.grad.T.copy()
        return dx

    return _replace(model, square[0], backward)


def activation_derivative_missing(model):
    def backward(self, grad_y):
        return grad_y

    return _replace(model, _linears(model)[0] + 1, backward)


def bias_not_summed(model):
    """db = the first sample's gradient only (the batch's others not added)."""

    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        self.bias.grad[...] = np.asarray(grad_y)[0]
        return dx

    return _replace(model, _linears(model)[-1], backward)


def bias_averaged(model):
    """db = the mean over the batch where the sum belongs."""

    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        self.bias.grad[...] = np.asarray(grad_y).mean(axis=0)
        return dx

    return _replace(model, _linears(model)[0], backward)


INJECTIONS = {
    "weight gradient 1% too large": weight_one_percent_too_large,
    "one bias entry's sign flipped": bias_entry_sign_flipped,
    "square weight gradient transposed": square_weight_transposed,
    "activation derivative missing": activation_derivative_missing,
    "bias gradient not summed (one sample)": bias_not_summed,
    "bias gradient averaged, not summed": bias_averaged,
}


# --- the whole grid, as an attack -----------------------------------------------------------

GRID = [
    (activation, loss, dtype, k)
    for activation in ACTIVATIONS
    for loss in LOSSES
    for dtype in DTYPES
    for k in range(len(SHAPES))
]


def cell(activation: str, loss: str, dtype: str, k: int) -> tuple[Setting, tuple[int, ...]]:
    """The grid cell's setting and checkpoints: the first shape at four stages of training,
    the others at initialization and after 3000 steps."""
    depth, scale = SHAPES[k]
    checkpoints = (0, 30, 300, 3000) if k == 0 else (0, 3000)
    return Setting(activation, loss, dtype, depth, scale, seed=k), checkpoints


def attack(seeds, tally, attack_module):
    """Adds grid cell ``seed`` (of GRID) to ``tally`` for each seed: every checkpoint's
    correct model (a FAIL is a false alarm) and, at the last, every injection (each changes
    gradients far beyond what the check resolves: a PASS is a miss)."""
    for seed in seeds:
        setting, checkpoints = cell(*GRID[seed % len(GRID)])
        for step, model, loss, X, y in trajectory(setting, checkpoints):
            wrongs = None
            if step == checkpoints[-1]:
                wrongs = ((name, inject(model), loss) for name, inject in INJECTIONS.items())
            attack_module.judge_case(tally, f"{setting} step {step}", model, loss, X, y, 0,
                                     wrongs, visible=_always)  # fmt: skip
    return tally


def _always(grads, correct, report=None) -> bool:
    return True
