"""Chapter 5's figures: the decision boundaries and the losses."""

from __future__ import annotations

import math
from pathlib import Path

from ... import plots
from ...nn import functional as F
from ...nn.layers import Sequential
from ..base import Figure
from .measure import Measured, Result, X, Y


def _probability_of_one(model: Sequential):
    """P(y = 1 | x) for (M, 2) points, as the decision-boundary plot wants it."""
    return lambda P: F.sigmoid(model.forward(P))[:, 0]


def panels(m: Measured) -> list[tuple[Result, str]]:
    """The runs the figures show, with their titles."""
    groups, symmetric, failed_relu = m.groups, m.symmetric, m.failed_relu
    shown: list[tuple[Result, str]] = [
        (groups["relu_sgd"][0], "ReLU [2,8,1], SGD momentum"),
        (groups["tanh_sgd"][0], "tanh [2,8,1], SGD momentum"),
        (groups["adam_two_hidden"][0], "ReLU [2,8,8,1], Adam"),
        (symmetric["0/relu"]["result"], "all weights 0 (ReLU)"),
        (symmetric["0.5/tanh"]["result"], "all weights 0.5 (tanh)"),
    ]
    if failed_relu:
        shown.append((failed_relu[0], "ReLU [2,8,1] run that failed"))
    return shown


def boundaries_figure(m: Measured, out_dir: Path) -> Figure:
    """``xor_boundaries.png``: the regions each shown network carves."""
    shown = panels(m)
    # two columns: the report cuts a figure into its grid's columns, and a phone then shows
    # each column readable, one under the other
    fig, axes = plots.new_figure(ncols=2, nrows=math.ceil(len(shown) / 2), size=(4.8, 3.6))
    for ax, (res, title) in zip(axes, shown):
        plots.plot_decision_boundary(
            ax,
            _probability_of_one(res.model),
            X,
            Y.astype(int),
            title=f"{title}: {res.accuracy:.0%}",
            xlabel="x1 (input bit)",
            ylabel="x2 (input bit)",
            resolution=120,
        )
        ax.legend(loc="upper center", framealpha=0.8)  # between the points at x = 0 and 1
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle("XOR: decision boundaries (black line: P(y = 1) = 0.5)")
    path = plots.save_figure(fig, out_dir / "xor_boundaries.png")
    return Figure(path, "Decision boundaries of the trained networks on XOR.")


def loss_figure(m: Measured, out_dir: Path) -> Figure:
    """``xor_loss.png``: the loss per epoch of the first runs and the symmetric ones."""
    shown, symmetric = panels(m), m.symmetric
    fig, ax = plots.new_figure(size=(7.0, 5.6))
    series = {f"{title} (init 1)": res.losses for res, title in shown[:3]}
    series.update({r["result"].label: r["result"].losses for r in symmetric.values()})
    plots.plot_curves(
        ax,
        series,
        title="XOR: binary cross-entropy per epoch",
        xlabel="epoch (full batch of 4)",
        ylabel="mean BCE (log scale)",
        logy=True,
    )
    ax.axhline(math.log(2), color="gray", linestyle=":", linewidth=1)
    ax.text(0.99, math.log(2), "log 2: constant prediction 0.5", fontsize=10, color="gray",
            va="bottom", ha="right", transform=ax.get_yaxis_transform())  # fmt: skip
    plots.legend_below(ax)  # inside, it hid the first epochs of every curve
    path = plots.save_figure(fig, out_dir / "xor_loss.png")
    at_log2 = all(abs(d["final_loss"] - math.log(2)) < 1e-3 for d in symmetric.values())
    return Figure(
        path,
        "Training loss" + ("; the symmetric initializations end at log 2." if at_log2 else "."),
    )
