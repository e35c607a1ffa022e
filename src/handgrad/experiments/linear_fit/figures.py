"""Chapter 1's figures: the fit, the loss for three learning rates, the learning-rate sweep,
and the approach of w and b with x near zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ..base import Figure
from .measure import (
    COMPARED_LRS,
    LR,
    N_POINTS,
    NEAR_ZERO_HALF_WIDTH,
    STEPS,
    TRUE_B,
    TRUE_W,
    Measured,
)


def fit_figure(m: Measured, out_dir: Path) -> Figure:
    """``linear_fit_data.png``: the data, the true line and the fitted one."""
    fig, ax = plots.new_figure()
    plots.plot_fit(
        ax,
        m.x,
        m.y,
        {f"gradient descent (w={m.w_gd:.3f}, b={m.b_gd:.3f})": m.w_gd * m.x + m.b_gd},
        truth=TRUE_W * m.x + TRUE_B,
        title=f"Line fitted by gradient descent (lr {LR:g}, {STEPS} steps)",
        xlabel="x (input, arbitrary units)",
        ylabel="y (target, arbitrary units)",
    )
    path = plots.save_figure(fig, out_dir / "linear_fit_data.png")
    return Figure(path, f"The {N_POINTS} noisy points, the true line y = 2.5x - 0.7 and the fit.")


def mse_figure(m: Measured, out_dir: Path) -> Figure:
    """``linear_fit_mse.png``: the MSE per step (left) and above the minimum (right) for the
    three compared learning rates."""
    fig, (ax, ax2) = plots.new_figure(ncols=2)
    series, excess_series = {}, {}
    for k, lr in enumerate(COMPARED_LRS):
        losses = m.compared["loss"][:, k]
        losses = losses[~np.isnan(losses)]
        label = f"lr {lr:g} ({m.behaviours[f'{lr:g}']['kind']})"
        series[label] = losses[:40]
        excess_series[label] = np.maximum(losses - m.loss_min, 1e-16)[:300]
    plots.plot_curves(
        ax,
        series,
        title="MSE per step, first 40 steps",
        xlabel="gradient-descent step",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    ax.axhline(m.loss_min, color="k", linestyle=":", linewidth=1, label="least-squares minimum")
    ax.legend()
    plots.plot_curves(
        ax2,
        excess_series,
        title="MSE above the minimum (floor 1e-16 = round-off)",
        xlabel="gradient-descent step",
        ylabel="MSE − min MSE (log scale)",
        logy=True,
    )
    fig.suptitle("Three learning rates from the same start")
    path = plots.save_figure(fig, out_dir / "linear_fit_mse.png")
    return Figure(
        path, "Training MSE per step; a diverging run is drawn until its loss passes 1e8."
    )


def sweep_figure(m: Measured, out_dir: Path) -> Figure:
    """``linear_fit_lr_sweep.png``: measured against predicted per-step factor per lr."""
    s, lr_limit = m.sweep, m.curvature.lr_limit
    fig, ax = plots.new_figure()
    ax.plot(s.lrs, s.theory_rate, "k-", linewidth=1, label="predicted max |1 − lr·λ|")
    ax.plot(s.lrs[~s.diverged], s.measured_rate[~s.diverged], "o", ms=3, label="converged")
    ax.plot(
        s.lrs[s.diverged], s.measured_rate[s.diverged], "x", color="red", ms=4,
        label="diverging (error grew)",
    )  # fmt: skip
    ax.axhline(1.0, color="gray", linestyle=":", linewidth=1)
    ax.axvline(lr_limit, color="k", linestyle="--", label=f"2 / λ_max = {lr_limit:.3f}")
    ax.set_title("Error shrink factor per step vs learning rate")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("per-step factor of the parameter error")
    ax.grid(True, alpha=0.3)
    ax.legend()
    path = plots.save_figure(fig, out_dir / "linear_fit_lr_sweep.png")
    return Figure(
        path, "Learning-rate sweep: the measured edge of convergence against 2 / λ_max of H."
    )


def near_zero_figure(m: Measured, out_dir: Path) -> Figure:
    """``linear_fit_near_zero.png``: |w - w*| and |b - b*| per step, wide and narrow x."""
    fig, ax = plots.new_figure()
    steps_axis = np.arange(STEPS + 1)
    narrow = f"x on [-{NEAR_ZERO_HALF_WIDTH:g}, {NEAR_ZERO_HALF_WIDTH:g}]"
    gaps = {
        "|w - w*|, x on [-2, 2]": np.abs(m.main["w"][:, 0] - m.w_ls),
        "|b - b*|, x on [-2, 2]": np.abs(m.main["b"][:, 0] - m.b_ls),
        f"|w - w*|, {narrow}": np.abs(m.near.w - m.near.w_ls),
        f"|b - b*|, {narrow}": np.abs(m.near.b - m.near.b_ls),
    }
    plots.plot_curves(
        ax,
        {k: np.maximum(v, 1e-17) for k, v in gaps.items()},
        x=dict.fromkeys(gaps, steps_axis),
        title="Distance to the least-squares (w*, b*) per step",
        xlabel="gradient-descent step",
        ylabel="absolute parameter error (log scale)",
        logy=True,
    )
    path = plots.save_figure(fig, out_dir / "linear_fit_near_zero.png")
    return Figure(path, "How fast w and b approach their least-squares values, wide vs. narrow x.")


def draw(m: Measured, out_dir: Path) -> list[Figure]:
    """All four figures, in the order the report shows them."""
    return [
        fit_figure(m, out_dir),
        mse_figure(m, out_dir),
        sweep_figure(m, out_dir),
        near_zero_figure(m, out_dir),
    ]
