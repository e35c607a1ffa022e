"""Chapter 4's figures: the decision boundaries on the moons and the training losses."""

from __future__ import annotations

from pathlib import Path

from ... import plots
from ...reference import binary_classifier as net
from ..base import Figure
from .measure import COMPARED_ACTIVATIONS, DISPLAY, HIDDEN, Measured


def _probability_of_one(params: dict, activation: str):
    """P(y = 1 | x) for (M, 2) points under the trained parameters."""
    return lambda P: net.forward(P, params, activation)["p"][:, 0]


def boundary_figure(m: Measured, out_dir: Path) -> Figure:
    moons = m.datasets["moons"]
    fig, axes = plots.new_figure(ncols=2, size=(5.6, 4.4))
    for ax, act in zip(axes, COMPARED_ACTIVATIONS):
        r = m.results[f"moons/{act}"]
        plots.plot_decision_boundary(
            ax,
            _probability_of_one(r["params"], act),
            moons.X_test,
            moons.y_test.astype(int),
            title=f"{DISPLAY[act]}: held-out accuracy {r['test_accuracy']:.1%}",
            xlabel="x1 (standardized)",
            ylabel="x2 (standardized)",
            resolution=150,
        )
    fig.suptitle(f"Two moons, 2-{HIDDEN}-1 network: P(y = 1 | x) and held-out points")
    path = plots.save_figure(fig, out_dir / "binary_boundary.png")
    return Figure(path, "Decision boundaries (P = 0.5 in black) on the two-moons set.")


def loss_figure(m: Measured, out_dir: Path) -> Figure:
    fig, axes = plots.new_figure(ncols=2)
    for ax, (dname, d) in zip(axes, m.datasets.items()):
        plots.plot_curves(
            ax,
            {act: m.results[f"{dname}/{act}"]["losses"] for act in COMPARED_ACTIVATIONS},
            title=f"{dname}: training loss (lr {d.settings['lr']:g})",
            xlabel="epoch (full-batch gradient descent)",
            ylabel="mean BCE (nats, log scale)",
            logy=True,
        )
    path = plots.save_figure(fig, out_dir / "binary_loss.png")
    return Figure(path, "Mean binary cross-entropy per epoch, ReLU vs tanh.")
