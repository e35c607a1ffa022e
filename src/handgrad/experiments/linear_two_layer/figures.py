"""Chapter 2's figures: the loss, and the hidden units with the collapsed line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ..base import Figure
from .measure import HIDDEN, LR, Measured
from .prose import line_formula


def loss_figure(m: Measured, out_dir: Path) -> Figure:
    """``two_layer_loss.png``: training MSE per epoch against the least-squares minimum."""
    losses, loss_min = m.losses, m.loss_min
    fig, ax = plots.new_figure()
    plots.plot_curves(
        ax,
        {f"two-layer linear net (lr {LR:g})": losses},
        title=f"Training MSE of Linear(1,{HIDDEN}) → Linear({HIDDEN},1)",
        xlabel="epoch (full batch)",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    ax.axhline(loss_min, color="k", linestyle=":", linewidth=1, label="least-squares line")
    ax.legend()
    path = plots.save_figure(fig, out_dir / "two_layer_loss.png")
    return Figure(path, "Training MSE per epoch against the least-squares minimum.")


def composition_figure(m: Measured, out_dir: Path) -> Figure:
    """``two_layer_composition.png``: every hidden unit, the output and the collapsed line."""
    x, y, x_new, lin1, model, W, b = m.x, m.y, m.x_new, m.lin1, m.model, m.W, m.b
    w_eff, b_eff = m.w_eff, m.b_eff
    fig, ax = plots.new_figure()
    xs = x_new[:, 0]
    keep = np.abs(xs) <= 3
    hidden = lin1.forward(x_new)
    for j in range(HIDDEN):
        ax.plot(xs[keep], hidden[keep, j], linewidth=1, alpha=0.7, label=f"hidden unit h{j + 1}")
    ax.plot(xs[keep], model.forward(x_new)[keep, 0], "k", linewidth=2, label="network output")
    ax.plot(
        xs[keep],
        (x_new @ W + b)[keep, 0],
        "--",
        color="orange",
        linewidth=1.5,
        label=f"one Linear: {line_formula(w_eff, b_eff)}",
    )
    ax.scatter(x, y, s=5, alpha=0.3, color="gray", label="data")
    ax.set_title("Every hidden unit, and the output, is a straight line in x")
    ax.set_xlabel("x (input, arbitrary units)")
    ax.set_ylabel("value (arbitrary units)")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.22))  # lines fill the plot
    path = plots.save_figure(fig, out_dir / "two_layer_composition.png")
    return Figure(path, "Hidden units, network output and the collapsed single linear map.")
