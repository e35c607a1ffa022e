"""Chapter 8's figures: the sweep's curves and the chosen net's learning curves.

``plots`` (matplotlib) is imported inside each function, so training needs no matplotlib.
"""

from __future__ import annotations

from pathlib import Path

from ..base import Figure
from .measure import HIDDEN, LEARNING_RATES, Measured


def final_figure(m: Measured, out_dir: Path) -> Figure:
    from ... import plots

    H, lr = m.best
    path = out_dir / "digits_curves.png"
    plots.plot_learning_curves(
        m.history, path, held_out="held-out test", title=f" (H={H}, lr={lr:g})"
    )
    return Figure(path, f"Learning curves of the chosen net (64-{H}-10 ReLU, SGD lr {lr:g}).")


def sweep_figure(m: Measured, out_dir: Path) -> Figure:
    from ... import plots

    runs, path = m.runs, out_dir / "digits_sweep.png"
    fig, axes = plots.new_figure(ncols=len(LEARNING_RATES), nrows=2, size=(4.2, 3.2))
    for j, lr in enumerate(LEARNING_RATES):
        plots.plot_curves(
            axes[j],
            {f"H={H}": runs[(H, lr)].epoch_loss for H in HIDDEN},
            title=f"Training loss, lr={lr:g}",
            xlabel="epoch",
            ylabel="mean cross-entropy (nats)",
            logy=True,
        )
        plots.plot_curves(
            axes[len(LEARNING_RATES) + j],
            {f"H={H}": runs[(H, lr)].val_metrics["accuracy"] for H in HIDDEN},
            title=f"Validation accuracy, lr={lr:g}",
            xlabel="epoch",
            ylabel="accuracy (fraction correct)",
        )
    plots.save_figure(fig, path)
    return Figure(
        path,
        "The sweep: training loss (top) and validation accuracy (bottom) per epoch, one panel "
        "per learning rate, one line per hidden width.",
    )
