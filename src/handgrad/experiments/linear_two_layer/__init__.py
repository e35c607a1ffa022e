"""Chapter 2: two stacked Linear layers (1 -> 4 -> 1), trained with MSE.

Three measurements: the loss goes down; ``Linear.backward`` agrees with finite differences
on a batch of 3 points (dW, db and dx of both layers); and the trained stack is one affine
map in disguise:

    yhat = (x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2) = x W + b

with W = W1 @ W2 (1, 1) and b = b1 @ W2 + b2 (1,), so its predictions equal those of a
single Linear(1, 1) to round-off, and no amount of training can beat the least-squares line.

``measure`` computes, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import check_layers, train

NAME = "linear-two-layer"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["NAME", "STAGE", "TITLE", "check_layers", "run", "train"]


def run(
    seed: int = 0, out_dir: Path = Path("runs/linear-two-layer"), quick: bool = False
) -> ExperimentResult:
    """``quick`` changes nothing here: the chapter is small enough to run in full."""
    out_dir = output_folder(out_dir)
    m = measure.measure(seed)
    drawn = [figures.loss_figure(m, out_dir), figures.composition_figure(m, out_dir)]
    return ExperimentResult(NAME, TITLE, STAGE, measure.metrics(m), prose.section(m, seed), drawn)
