"""Chapter 10's figures: handgrad's and Keras's loss curves, their gap, and the weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Figure
from .credit import FEATURES


def pointwise_rel(a, b) -> np.ndarray:
    """|a - b| / |b| entry by entry (for curves whose values span many decades)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def loss_and_weight_figures(
    out_dir: Path, hg_run: dict, kr: dict | None, backend: str, w_star, lam: float, lam32_loss=None
) -> list[Figure]:
    """The loss curves (and their relative gap) and the learned weights beside the ridge
    optimum; ``kr`` is Keras's run, or None when the comparison was skipped."""
    from .. import plots

    curves = {"handgrad": hg_run["loss"]}
    if kr is not None:
        curves[f"Keras ({backend}, {kr['dtype']})"] = kr["loss"]
    ncols = 2 if kr is not None else 1
    fig, axes = plots.new_figure(ncols=ncols)
    ax_loss = axes[0] if ncols == 2 else axes
    plots.plot_curves(
        ax_loss,
        curves,
        title=f"Total loss (MSE + {lam:g} sum W^2) per epoch",
        xlabel="epoch (one full-batch SGD step)",
        ylabel="loss (score points^2)",
        logy=True,
    )
    ax_loss.set_xscale("log")
    if kr is not None:
        gaps = {"handgrad (lam = 0.01) vs Keras": pointwise_rel(hg_run["loss"], kr["loss"])}
        if lam32_loss is not None:
            gaps["handgrad with lam = float32(0.01) vs Keras"] = pointwise_rel(
                lam32_loss, kr["loss"]
            )
        plots.plot_curves(
            axes[1],
            {k: np.maximum(v, 1e-18) for k, v in gaps.items()},
            title="Relative difference of the loss curves",
            xlabel="epoch",
            ylabel="|difference| / Keras loss (floored at 1e-18)",
            logy=True,
        )
    path = out_dir / "framework_loss.png"
    plots.save_figure(fig, path)
    figures = [Figure(path, "Training loss per epoch in handgrad and in Keras, and their gap.")]

    fig, ax = plots.new_figure()
    groups = {"handgrad": hg_run["W"]}
    if kr is not None:
        groups[f"Keras ({backend})"] = kr["W"]
    groups["ridge optimum (closed form)"] = w_star
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
    figures.append(
        Figure(path, "The three weights after training, side by side, and where they head.")
    )
    return figures
