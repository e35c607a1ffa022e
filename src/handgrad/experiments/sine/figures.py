"""Chapter 3's figures: the fits against the truth, and the learning curves."""

from __future__ import annotations

from pathlib import Path

from ... import plots
from ..base import Figure
from .measure import LARGER_LR, SEED_LR, Measured


def fit_figure(m: Measured, out_dir: Path) -> Figure:
    """``sine_fit.png``: each network's prediction on the grid, the small lr left, the
    larger lr right."""
    fig, axes = plots.new_figure(ncols=2, size=(6.0, 5.0))
    fig.suptitle(f"Predictions against the ground truth after {m.long:,} epochs")
    for ax, group, title in (
        (axes[0], m.runs[:2], f"The small learning rate: lr {SEED_LR:g}"),
        (axes[1], m.runs[2:], f"lr {LARGER_LR:g}, {LARGER_LR / SEED_LR:g} times larger"),
    ):
        ax.scatter(m.x[:, 0], m.y[:, 0], s=5, alpha=0.35, color="gray", label="data")
        ax.plot(m.x_grid[:, 0], m.f_grid[:, 0], "k--", linewidth=1.2, label="ground truth sin(2πx)")
        for r in group:
            ax.plot(
                m.x_grid[:, 0], r.snapshots[m.long]["prediction_grid"], linewidth=1.6, label=r.label
            )
        ax.set_title(title)
        ax.set_xlabel("x (input)")
        ax.set_ylabel("y (target)")
        ax.grid(True, alpha=0.3)
        plots.legend_below(ax)  # inside, it hid the fits around the trough at x = -0.25
    path = plots.save_figure(fig, out_dir / "sine_fit.png")
    return Figure(path, "Each network's prediction on a noise-free grid, against the truth.")


def curves_figure(m: Measured, out_dir: Path) -> Figure:
    """``sine_curves.png``: train MSE per epoch (left) and MSE against the truth (right),
    with the noise floor and the best line marked."""
    fig, axes = plots.new_figure(ncols=2, size=(6.0, 4.2))
    plots.plot_curves(
        axes[0],
        {r.label: r.train_mse for r in m.runs},
        title="Training MSE per epoch",
        xlabel="epoch (full batch, log scale)",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    plots.plot_curves(
        axes[1],
        {r.label: r.truth_mse for r in m.runs},
        x={r.label: r.eval_epochs for r in m.runs},
        title="MSE against the noise-free truth (held-out grid)",
        xlabel="epoch (full batch, log scale)",
        ylabel="MSE vs sin(2πx) (log scale)",
        logy=True,
    )
    for ax, level, label in (
        (axes[0], m.noise_var, "noise floor σ̂²"),
        (axes[0], m.line_mse, "best straight line"),
        (axes[1], m.line_mse - m.noise_var, "best straight line"),
    ):
        ax.axhline(level, color="gray", linestyle=":", linewidth=1)
        ax.text(0.99, level, label, transform=ax.get_yaxis_transform(), fontsize=10,
                color="gray", va="bottom", ha="right")  # fmt: skip
    for ax in axes:
        ax.set_xscale("log")
        ax.axvline(m.short, color="k", linewidth=0.6, alpha=0.5)
        ax.legend()
    path = plots.save_figure(fig, out_dir / "sine_curves.png")
    return Figure(path, f"Learning curves; the vertical line marks epoch {m.short:,}.")
