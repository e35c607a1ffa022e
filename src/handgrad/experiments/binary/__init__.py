"""Backprop by hand (chapter 4): a one-hidden-layer binary classifier, ReLU and tanh.

Everything here runs through ``handgrad.reference.binary_classifier`` — Parts 1-5 as plain
functions (forward, stable BCE from the logit, hand-derived backward, gradient-descent
step, finite-difference check) — on two data sets:

  * two moons (2-D, 400 points, drawn from a Generator), where the decision boundary can
    be drawn;
  * scikit-learn's breast-cancer table (569 x 30), standardized with statistics of the
    training split only, with a stratified held-out split.

``measure`` checks the gradients and trains, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose

NAME = "binary"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["NAME", "STAGE", "TITLE", "run"]


def run(
    seed: int = 0, out_dir: Path = Path("runs/binary"), quick: bool = False
) -> ExperimentResult:
    """Check the gradients and train on both data sets; draw the boundaries and the losses."""
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = [figures.boundary_figure(m, out_dir), figures.loss_figure(m, out_dir)]
    return ExperimentResult(NAME, TITLE, STAGE, measure.metrics(m), prose.section(m, quick), drawn)
