"""Chapter 9's figures: learning curves, the confusion matrix, the most confident mistakes.

``plots`` (matplotlib) is imported inside each function, so training needs no matplotlib.
"""

from __future__ import annotations

from pathlib import Path

from ..base import Figure
from .measure import Measured


def curves_figure(m: Measured, out_dir: Path) -> Figure:
    from ... import plots

    held_out = m.metrics["held_out_name"]
    path = out_dir / "mnist_curves.png"
    plots.plot_learning_curves(m.history, path, held_out=held_out)
    return Figure(path, f"Learning curves: training and {held_out} loss and accuracy per epoch.")


def confusion_figure(m: Measured, out_dir: Path) -> Figure:
    from ... import plots

    conf, held_out = m.metrics["confusion"], m.metrics["held_out_name"]
    path = out_dir / "mnist_confusion.png"
    fig, ax = plots.new_figure(size=(6.4, 5.4))
    plots.plot_confusion(ax, conf, title=f"Confusion matrix ({held_out}, {conf.sum():,} images)")
    plots.save_figure(fig, path)
    return Figure(path, "Confusion matrix: rows are the true digit, columns the predicted one.")


def mistakes_figure(m: Measured, out_dir: Path) -> Figure:
    from ... import plots

    captions = [
        f"{e['true']} -> {e['predicted']} ({e['confidence']:.0%})" for e in m.metrics["examples"]
    ]
    path = out_dir / "mnist_mistakes.png"
    fig = plots.plot_images(
        m.shown_images,
        captions,
        title="Most confident mistakes (true -> predicted, probability of the prediction)",
        ncols=8,
    )
    plots.save_figure(fig, path, panels=2)  # two groups of four: readable on a phone
    return Figure(
        path,
        "The misclassified held-out images the net was most sure about, with the true label, "
        "the predicted label and the softmax probability it gave that prediction.",
    )
