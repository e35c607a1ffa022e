"""Chapter 7: a [2, 32, 3] softmax classifier on three Gaussian blobs, and every tensor's shape.

Data: 50 points around each of (0, 0), (3, 3), (6, 0) with unit spread, drawn from a
Generator; a second draw of the same size is the held-out test set. Training follows the
seed: full-batch gradient descent, lr 0.05, 1,000 epochs, softmax + cross-entropy on the
logits. The section lists the shape of every array in one forward/backward pass, and
counts parameters with ``count_parameters``.

``measure`` computes, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import CENTERS, shape_walk

NAME = "blobs"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["CENTERS", "NAME", "STAGE", "TITLE", "run", "shape_walk"]


def run(seed: int = 0, out_dir: Path = Path("runs/blobs"), quick: bool = False) -> ExperimentResult:
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = [figures.regions_figure(m, out_dir), figures.curves_figure(m, out_dir)]
    return ExperimentResult(
        NAME, TITLE, STAGE, measure.metrics(m), prose.section(m, seed, quick), drawn
    )
