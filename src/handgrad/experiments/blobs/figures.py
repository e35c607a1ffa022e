"""Chapter 7's figures: the decision regions and the learning curves."""

from __future__ import annotations

from pathlib import Path

from ... import plots
from ...nn import functional as F
from ..base import Figure
from .measure import Measured


def regions_figure(m: Measured, out_dir: Path) -> Figure:
    """``blobs_regions.png``: the predicted class over the plane, with the held-out points."""
    model, X_test, y_test, test_acc = m.model, m.X_test, m.y_test, m.test_acc
    fig, ax = plots.new_figure(size=(6.4, 5.0))
    plots.plot_decision_boundary(
        ax,
        lambda P: F.softmax(model.forward(P)),
        X_test,
        y_test,
        title=f"Blobs: decision regions of [2, 32, 3], held-out points ({test_acc:.1%})",
        xlabel="x1 (feature 1)",
        ylabel="x2 (feature 2)",
        resolution=150,
    )
    path = plots.save_figure(fig, out_dir / "blobs_regions.png")
    return Figure(path, "Predicted class over the plane, with the held-out points.")


def curves_figure(m: Measured, out_dir: Path) -> Figure:
    """``blobs_curves.png``: loss and accuracy per epoch, training and held out."""
    history = m.history
    fig, (ax1, ax2) = plots.new_figure(ncols=2)
    plots.plot_curves(
        ax1,
        {"training": history.epoch_loss, "held-out": history.val_loss},
        title="Softmax cross-entropy per epoch",
        xlabel="epoch (full batch of 150)",
        ylabel="mean cross-entropy (nats, log scale)",
        logy=True,
    )
    plots.plot_curves(
        ax2,
        {"training": history.metrics["accuracy"], "held-out": history.val_metrics["accuracy"]},
        title="Accuracy per epoch",
        xlabel="epoch (full batch of 150)",
        ylabel="accuracy (fraction correct)",
    )
    path = plots.save_figure(fig, out_dir / "blobs_curves.png")
    return Figure(path, "Learning curves on the training blobs and a held-out draw.")
