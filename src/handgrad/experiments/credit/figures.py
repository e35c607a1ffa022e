"""Chapter 6's figures: the training curves, and the weights with the ridge path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ..base import Figure
from .measure import FEATURES, LR, Measured


def loss_figure(m: Measured, out_dir: Path) -> Figure:
    """``credit_loss.png``: total loss per epoch, the textbook lr dashed and ours solid."""
    results = m.results
    fig, ax = plots.new_figure(size=(7.0, 5.3))
    for key, r in results.items():
        epochs_axis = np.arange(1, len(r["history"]) + 1)
        lab_axis = np.arange(1, len(r["lab_history"]) + 1)
        label = f"λ = {key}, lr {LR:g} ({r['epochs']:,} epochs)"
        (line,) = ax.semilogy(epochs_axis, r["history"], label=label)
        ax.semilogy(
            lab_axis,
            r["lab_history"],
            "--",
            color=line.get_color(),
            label=f"λ = {key}, course lr 0.01",
        )
    ax.set_title("Total loss (MSE + λ‖W‖²) per epoch")
    ax.set_xlabel("epoch (full batch, 5 people)")
    ax.set_ylabel("total loss (points², log scale)")
    ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    plots.legend_below(ax)  # inside, it hid the start of the dashed curves
    path = plots.save_figure(fig, out_dir / "credit_loss.png")
    return Figure(path, "Training curves: the textbook lr 0.01 (dashed) and lr 0.3 (solid).")


def weights_figure(m: Measured, out_dir: Path) -> Figure:
    """``credit_weights.png``: the weights per lambda, and the ridge path with its
    leave-one-out error."""
    results, path_lams, path_W, path_loo = m.results, m.path_lams, m.path_W, m.path_loo
    fig, (ax1, ax2) = plots.new_figure(ncols=2)
    plots.plot_bars(
        ax1,
        {f"λ = {k}": r["W_std"] for k, r in results.items()},
        list(FEATURES),
        title="Weights on standardized features",
        ylabel="score points per standard deviation",
        xlabel="feature",
    )
    for j, name in enumerate(FEATURES):
        ax2.semilogx(path_lams, path_W[:, j], label=f"W[{name}]")
    ax2.set_xlabel("L2 strength λ (log scale)")
    ax2.set_ylabel("weight (points per standard deviation)")
    ax2.set_title("Ridge path, with leave-one-out error")
    ax2.grid(True, alpha=0.3)
    ax3 = ax2.twinx()
    ax3.semilogx(path_lams, np.sqrt(path_loo), "k:", label="leave-one-out RMSE (points)")
    ax3.set_ylabel("leave-one-out RMSE (points)")
    lines = ax2.get_legend_handles_labels()
    extra = ax3.get_legend_handles_labels()
    ax2.legend(lines[0] + extra[0], lines[1] + extra[1])
    path = plots.save_figure(fig, out_dir / "credit_weights.png")
    return Figure(path, "Learned weights for each λ, and the ridge path over λ.")
