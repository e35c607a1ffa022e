"""Chapter 8 on scikit-learn's 8x8 digits: softmax + cross-entropy, minibatch SGD, a sweep.

Protocol (everything drawn from ``seed``):
  1. pixels 0..16 are divided by 16 (so every input lies in [0, 1]); a stratified 80/20
     split gives the training part and the held-out test set, which nothing below looks at
     until the end;
  2. the training part is split again (stratified, 75/25) into fit and validation rows; a
     sweep over hidden width H and learning rate (plain SGD, batch 32) trains one
     64-H-10 ReLU net per pair and records its curves;
  3. the pair with the best validation accuracy (ties: lower validation loss) is retrained
     on the whole training part, and its curves and accuracy on the held-out test set are
     reported.
The fused softmax + cross-entropy gradient is derived in the section and checked against
finite differences.

``measure`` runs the sweep and the checks, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, refuse_options, tagline
from . import figures, measure, prose
from .measure import HIDDEN, LEARNING_RATES

NAME = "digits"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["HIDDEN", "LEARNING_RATES", "NAME", "STAGE", "TITLE", "run"]


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/digits"),
    quick: bool = False,
    scheduler=None,
    **options,
) -> ExperimentResult:
    """The sweep, the chosen net on the held-out set, and the gradient check (see module doc).

    ``scheduler``: run the sweep's trainings as Dask tasks (``handgrad.sweep.parallel_map``:
    "serial", a scheduler address, a Client, or "local" for a LocalCluster); the results
    are the same bits as the plain loop's with BLAS on one thread.
    """
    refuse_options(NAME, options)
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick, scheduler)
    drawn = [figures.final_figure(m, out_dir), figures.sweep_figure(m, out_dir)]
    return ExperimentResult(NAME, TITLE, STAGE, measure.metrics(m), prose.section(m), drawn)
