"""Chapter 10's figures: handgrad's and Keras's loss curves, their gap, and the weights.

``plots`` (matplotlib) is imported inside each function, so training needs no matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Figure
from ..credit import FEATURES
from .measure import LAM, Measured, pointwise_rel


def _gap_panel(ax, m: Measured, kr: dict) -> None:
    """The relative difference of the loss curves (with lam = 0.01, and float32(0.01))."""
    from ... import plots

    gaps = {"handgrad (lam = 0.01) vs Keras": pointwise_rel(m.hg_run["loss"], kr["loss"])}
    lam32_loss = m.keras.metrics.get("lam_float32", {}).get("loss_curve")
    if lam32_loss is not None:
        gaps["handgrad with lam = float32(0.01) vs Keras"] = pointwise_rel(lam32_loss, kr["loss"])
    plots.plot_curves(
        ax,
        {k: np.maximum(v, 1e-18) for k, v in gaps.items()},
        title="Relative difference of the loss curves",
        xlabel="epoch",
        ylabel="|difference| / Keras loss (floored at 1e-18)",
        logy=True,
    )


def loss_figure(m: Measured, out_dir: Path) -> Figure:
    """The loss curves, and their relative gap when Keras ran."""
    from ... import plots

    kr = m.keras.run
    curves = {"handgrad": m.hg_run["loss"]}
    if kr is not None:
        curves[f"Keras ({m.keras.backend}, {kr['dtype']})"] = kr["loss"]
    ncols = 2 if kr is not None else 1
    fig, axes = plots.new_figure(ncols=ncols)
    ax_loss = axes[0] if ncols == 2 else axes
    plots.plot_curves(
        ax_loss,
        curves,
        title=f"Total loss (MSE + {LAM:g} sum W^2) per epoch",
        xlabel="epoch (one full-batch SGD step)",
        ylabel="loss (score points^2)",
        logy=True,
    )
    ax_loss.set_xscale("log")
    if kr is not None:
        _gap_panel(axes[1], m, kr)
    path = out_dir / "framework_loss.png"
    plots.save_figure(fig, path)
    return Figure(path, "Training loss per epoch in handgrad and in Keras, and their gap.")


def weights_figure(m: Measured, out_dir: Path) -> Figure:
    """The learned weights beside the ridge optimum."""
    from ... import plots

    fig, ax = plots.new_figure()
    groups = {"handgrad": m.hg_run["W"]}
    if m.keras.run is not None:
        groups[f"Keras ({m.keras.backend})"] = m.keras.run["W"]
    groups["ridge optimum (closed form)"] = m.numbers["ridge"]["w_star"]
    plots.plot_bars(
        ax,
        groups,
        FEATURES,
        title="Learned weights on standardized features",
        ylabel="score points per standard deviation",
        xlabel="feature",
    )
    path = out_dir / "framework_weights.png"
    plots.save_figure(fig, path)
    return Figure(path, "The three weights after training, side by side, and where they head.")
