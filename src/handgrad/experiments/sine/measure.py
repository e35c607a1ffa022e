"""Chapter 3's measurements: the data, five trainings, and the loss's curvature.

Every run is recorded at two epochs (the short and the long budget): its train MSE, its MSE
against the noise-free truth on a held-out grid, the noise it absorbed and, for ReLU, where
its kinks lie; for tanh, how close its units are to linear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...nn.layers import Sequential, mlp
from ...nn.losses import MSELoss
from ...nn.optim import SGD
from ..base import bias_of, linear

N_POINTS = 400
NOISE_STD = 0.1
HIDDEN = 32
SEED_LR = 0.005  # the small learning rate, the textbook setting of this exercise
LARGER_LR = 0.05  # justified in the section from the measured sharpness
FULL_EPOCHS = (1500, 15000)
QUICK_EPOCHS = (200, 2000)
GRID = 1000  # held-out, noise-free evaluation points


@dataclass
class Run:
    """One training run and what was measured along the way."""

    label: str
    activation: str
    lr: float
    init: str
    model: Sequential
    train_mse: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    truth_mse: list[float] = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)  # epoch -> measurements


def make_sine_data(rng: np.random.Generator):
    """x (400, 1) on an even grid of [-1, 1]; y = sin(2 pi x) + 0.1 * noise; and the noise."""
    x = np.linspace(-1.0, 1.0, N_POINTS).reshape(-1, 1)
    noise = NOISE_STD * rng.standard_normal((N_POINTS, 1))
    return x, np.sin(2 * math.pi * x) + noise, noise


def sharpness(model: Sequential, X: np.ndarray, Y: np.ndarray, iters: int = 30) -> float:
    """Largest eigenvalue of the Hessian of the MSE in the parameters, by power iteration.

    Hessian-vector products come from central differences of the analytic gradient,
    H v ~ (g(theta + h v) - g(theta - h v)) / 2h. Gradient descent on a quadratic is stable
    for lr < 2 / lambda_max; the parameters are restored exactly afterwards.
    """
    loss = MSELoss()
    params = model.parameters()
    theta = [p.value.copy() for p in params]
    sizes = [p.value.size for p in params]

    def grad_at(step: float, v: np.ndarray) -> np.ndarray:
        for p, t, chunk in zip(params, theta, np.split(v, np.cumsum(sizes)[:-1])):
            p.value[...] = t + step * chunk.reshape(t.shape)
        loss.forward(model.forward(X), Y)
        model.backward(loss.backward())
        return np.concatenate([p.grad.ravel() for p in params])

    v = np.random.default_rng(0).standard_normal(sum(sizes))
    v /= np.linalg.norm(v)
    lam, h = 0.0, 1e-5
    for _ in range(iters):
        hv = (grad_at(h, v) - grad_at(-h, v)) / (2 * h)
        lam = float(v @ hv)
        v = hv / np.linalg.norm(hv)
    for p, t in zip(params, theta):
        p.value[...] = t
    return lam


def _kinks(model: Sequential) -> np.ndarray:
    """Where each ReLU unit switches on: x = -b / w (inf for a unit with w = 0)."""
    w, b = linear(model[0]).weight.value[0], bias_of(model[0]).value
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w != 0, -b / w, np.inf)


def _longest_gap(kinks: np.ndarray) -> float:
    """Longest stretch of [-1, 1] holding no kink: there the ReLU network is one straight line."""
    edges = np.concatenate([[-1.0], np.sort(kinks), [1.0]])
    return float(np.max(np.diff(edges)))


def _train(run: Run, x, y, f_train, noise, x_grid, f_grid, epochs, snap_at, eval_every):
    loss = MSELoss()
    opt = SGD(run.model.parameters(), lr=run.lr)
    model = run.model
    for epoch in range(1, epochs + 1):
        run.train_mse.append(loss.forward(model.forward(x), y))
        model.backward(loss.backward())
        opt.step()
        if epoch % eval_every == 0 or epoch in snap_at:
            pred_grid = model.forward(x_grid)
            run.eval_epochs.append(epoch)
            run.truth_mse.append(float(np.mean((pred_grid - f_grid) ** 2)))
        if epoch in snap_at:
            run.snapshots[epoch] = _snapshot(run, x, y, f_train, noise, pred_grid)


def _snapshot(run: Run, x, y, f_train, noise, pred_grid: np.ndarray) -> dict:
    """What a run looks like now: its errors, the noise it absorbed, its kinks or tanh slope."""
    model = run.model
    pred = model.forward(x)
    dev = pred - f_train
    snap = {
        "train_mse": float(np.mean((pred - y) ** 2)),
        "truth_mse_grid": run.truth_mse[-1],
        "truth_mse_train_x": float(np.mean(dev**2)),
        "noise_absorbed": float(2 * np.mean(dev * noise)),
        "prediction_grid": pred_grid[:, 0].copy(),
    }
    if run.activation == "relu":
        inside = np.sort(_kinks(model)[np.abs(_kinks(model)) <= 1])
        snap["kinks_inside"] = int(inside.size)
        snap["kink_range"] = [float(inside[0]), float(inside[-1])] if inside.size else None
        snap["longest_straight_stretch"] = _longest_gap(inside)
    else:
        z1 = model[0].forward(x)
        snap["mean_tanh_slope"] = float(np.mean(1 - np.tanh(z1) ** 2))
    return snap


@dataclass
class Measured:
    """Everything chapter 3 measured: the data (x, y (400, 1), the truth on a grid), the runs
    (the two at the small lr, then the three at the larger one) and the curvature."""

    short: int
    long: int
    x: np.ndarray
    y: np.ndarray
    x_grid: np.ndarray
    f_grid: np.ndarray
    noise_var: float
    line_mse: float
    runs: list[Run]
    sharp_init: dict[str, float]
    sharp_end: dict[str, float]
    initial_kinks: np.ndarray


def _best_line_mse(x: np.ndarray, y: np.ndarray) -> float:
    """Train MSE of the least-squares line through (x, y)."""
    features = np.hstack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(features, y, rcond=None)
    return float(np.mean((features @ coef - y) ** 2))


def new_model(seed: int, activation: str, spread_kinks: bool = False) -> Sequential:
    """A 1-32-1 network; with ``spread_kinks`` unit j's kink -b/w sits at a uniform point
    of the data range instead of at 0."""
    model = mlp([1, HIDDEN, 1], activation, rng=np.random.default_rng([seed, 1]))
    if spread_kinks:
        u = np.random.default_rng([seed, 2]).uniform(-1.0, 1.0, HIDDEN)
        bias_of(model[0]).value[:] = -linear(model[0]).weight.value[0] * u
    return model


# label, activation, learning rate, initialization, spread kinks
SPECS = (
    ("ReLU, lr 0.005", "relu", SEED_LR, "He normal, zero biases", False),
    ("tanh, lr 0.005", "tanh", SEED_LR, "Xavier uniform, zero biases", False),
    (f"ReLU, lr {LARGER_LR:g}", "relu", LARGER_LR, "He normal, zero biases", False),
    (f"tanh, lr {LARGER_LR:g}", "tanh", LARGER_LR, "Xavier uniform, zero biases", False),
    (
        f"ReLU spread kinks, lr {LARGER_LR:g}",
        "relu",
        LARGER_LR,
        "He normal, biases b = -w·u, u ~ U(-1, 1)",
        True,
    ),
)


def measure(seed: int, quick: bool) -> Measured:
    """Draw the data, train the five networks, and measure the curvature before and after."""
    short, long = QUICK_EPOCHS if quick else FULL_EPOCHS
    eval_every = max(1, long // 150)
    x, y, noise = make_sine_data(np.random.default_rng([seed, 0]))
    f_train = np.sin(2 * math.pi * x)
    x_grid = np.linspace(-1.0, 1.0, GRID).reshape(-1, 1)
    f_grid = np.sin(2 * math.pi * x_grid)
    runs = [
        Run(label, act, lr, init, new_model(seed, act, spread))
        for label, act, lr, init, spread in SPECS
    ]
    sharp_init = {r.activation: sharpness(r.model, x, y) for r in runs[:2]}
    initial_kinks = _kinks(runs[0].model)
    for r in runs:
        _train(r, x, y, f_train, noise, x_grid, f_grid, long, (short, long), eval_every)
    sharp_end = {r.label: sharpness(r.model, x, y) for r in runs[2:]}
    return Measured(
        short, long, x, y, x_grid, f_grid, float(np.mean(noise**2)), _best_line_mse(x, y),
        runs, sharp_init, sharp_end, initial_kinks,
    )  # fmt: skip


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers of ``m`` (the grid predictions left out)."""

    def snap_metrics(r: Run) -> dict:
        return {
            str(e): {k: v for k, v in s.items() if k != "prediction_grid"}
            for e, s in r.snapshots.items()
        }

    return {
        "epochs": [m.short, m.long],
        "noise_variance": m.noise_var,
        "best_line_mse": m.line_mse,
        "sharpness_init": m.sharp_init,
        "lr_limit_init": {k: 2 / v for k, v in m.sharp_init.items()},
        "sharpness_end": m.sharp_end,
        "initial_kinks_at_zero": int(np.sum(m.initial_kinks == 0)),
        "runs": {
            r.label: {"activation": r.activation, "lr": r.lr, "init": r.init,
                      "snapshots": snap_metrics(r)}
            for r in m.runs
        },
    }  # fmt: skip
