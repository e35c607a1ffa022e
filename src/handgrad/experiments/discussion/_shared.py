"""Shared by the parts of the discussion: sizes, seeds, data, training, figure and prose helpers."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import ticker

from ... import plots
from ...data import Standardizer, make_moons
from ...nn.layers import LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from ...nn.losses import BCEWithLogitsLoss
from ...nn.optim import SGD
from ...train import Callback, History, fit
from ..base import fmt


@dataclass(frozen=True)
class Config:
    """Sizes of every measurement; ``quick`` shrinks them, never changes what is measured."""

    z_dense: int  # points of the BCE logit grid on [-50, 50]
    z_tail: int  # points on each tail [50, 1000]
    complement_points: int  # points on [0, 40]
    init_width: int
    init_depth: int
    init_samples: int
    train_points: int  # moons used for the training comparisons
    init_epochs: int
    act_epochs: int
    depth_list: tuple[int, ...]
    depth_seeds: int
    dead_epochs: int
    bias_seeds: int
    var_points: int
    var_draws: int
    lr_points: int
    lr_epochs: int
    lr_seeds: int


FULL = Config(
    z_dense=801,
    z_tail=80,
    complement_points=401,
    init_width=256,
    init_depth=10,
    init_samples=256,
    train_points=400,
    init_epochs=40,
    act_epochs=60,
    depth_list=(1, 2, 4, 8, 12),
    depth_seeds=6,
    dead_epochs=30,
    bias_seeds=20,
    var_points=1024,
    var_draws=400,
    lr_points=1024,
    lr_epochs=20,
    lr_seeds=3,
)


QUICK = Config(
    z_dense=401,
    z_tail=40,
    complement_points=201,
    init_width=128,
    init_depth=10,
    init_samples=128,
    train_points=240,
    init_epochs=10,
    act_epochs=15,
    depth_list=(1, 2, 4, 8),
    depth_seeds=3,
    dead_epochs=15,
    bias_seeds=8,
    var_points=512,
    var_draws=120,
    lr_points=512,
    lr_epochs=12,
    lr_seeds=1,
)


def part_rng(seed: int, *tags: int) -> np.random.Generator:
    """An independent Generator per (seed, part) pair, so parts never share a stream."""
    return np.random.default_rng([seed, *tags])


def moons(n: int, rng: np.random.Generator, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Two moons, standardized: X (n, 2) float64, y (n,) float64 in {0, 1}."""
    X, y = make_moons(n, noise, rng=rng)
    order = rng.permutation(n)
    return Standardizer().fit_transform(X[order]), y[order].astype(np.float64)


def pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def pcts(values) -> str:
    """Per-layer fractions as "0.0%, 6.2%"; "diverged" when a run left nothing to measure."""
    return "diverged" if values is None else ", ".join(pct(v) for v in values)


# activation name -> layer class, for networks built with any initializer
ACTIVATION_LAYERS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}


def net(sizes: Sequence[int], activation: str, init, rng: np.random.Generator) -> Sequential:
    """Linear / activation stack like ``hg.mlp``, with any initializer (callables too)."""
    layers: list[Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, init=init, rng=rng))
        if i < len(sizes) - 2:
            layers.append(ACTIVATION_LAYERS[activation]())
    return Sequential(*layers)


class GradNorm(Callback):
    """Records ||g|| (all parameters) at every step: a monitor for too-large steps."""

    def __init__(self):
        self.norms: list[float] = []

    def on_batch_end(self, ctx) -> None:
        total = sum(float(np.vdot(p.grad, p.grad)) for p in ctx.model.parameters())
        self.norms.append(math.sqrt(total))


def train_sgd(
    model: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    epochs: int,
    rng: np.random.Generator,
    batch_size: int = 32,
    momentum: float = 0.0,
    validation=None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Plain minibatch SGD through ``hg.fit``; a divergence is recorded, not raised."""
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # fit warns on divergence; we record it
        return fit(
            model,
            BCEWithLogitsLoss(),
            opt,
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            rng=rng,
            validation_data=validation,
            metrics=["accuracy"],
            callbacks=callbacks,
        )


def activation_outputs(model: Sequential, X: np.ndarray) -> list[np.ndarray]:
    """The (N, units) output of every hidden activation layer for inputs X."""
    outs, h = [], X
    for layer in model.layers:
        h = layer.forward(h)
        if not isinstance(layer, Linear):
            outs.append(h)
    return outs


def dead_fractions(model: Sequential, X: np.ndarray) -> list[float]:
    """Per hidden layer: fraction of units whose output is <= 0 on every example of X.

    For ReLU that is an output of exactly 0 everywhere (a dead unit); for leaky ReLU, a unit
    stuck on its negative side (its output is small but not 0, and it still gets gradient).
    """
    return [float(np.mean(np.all(a <= 0.0, axis=0))) for a in activation_outputs(model, X)]


FLOOR = 1e-17  # relative errors of exactly 0 are drawn here on log axes


CAP = 1e3  # and errors above this (the patches' ~1e-15 floor on a loss of e^-1000) here


def save(fig, path: Path) -> Path:
    """``plots.save_figure`` with lighter log axes: plain "1e-05" labels, fewer minor ticks.

    Matplotlib's default log-axis labels are typeset as mathtext, and every minor tick is an
    object to lay out; on axes spanning many decades that was most of the drawing time.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                low, high = axis.get_view_interval()
                axis.set_major_formatter(ticker.LogFormatter())
                if high > 100 * low:  # several decades: the major ticks say enough
                    axis.set_minor_locator(ticker.NullLocator())
                else:  # a short range: label the minor ticks too
                    axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False))
            elif axis.get_scale() == "symlog":
                axis.set_major_formatter(ticker.ScalarFormatter())
                axis.set_minor_locator(ticker.NullLocator())
    return plots.save_figure(fig, path)


def say(*parts: str) -> str:
    """Sentences (or pieces) joined by single spaces, empty pieces dropped."""
    return " ".join(p.strip() for p in parts if p and p.strip())


def factor(r: float) -> str:
    """ "shrinks by a factor of 26" or "grows by a factor of 1.3" for a ratio new / old."""
    if r < 1:
        return f"shrinks by a factor of {fmt(1 / r)}"
    return f"grows by a factor of {fmt(r)}"
