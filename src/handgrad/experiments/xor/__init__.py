"""XOR and symmetry (chapter 5): XOR, the classic test that a hidden layer is needed.

Three measured claims:
  1. the [2, 8, 1] network (ReLU hidden units, He init, sigmoid output via BCE on the
     logit) trained with SGD + momentum (lr 0.5, momentum 0.9, full batch, 2,000 epochs)
     reaches 100% accuracy — measured over several initializations, not one lucky draw;
  2. the challenge: a network with two hidden layers ([2, 8, 8, 1]) and Adam for
     1,000 epochs does too;
  3. initializing every weight to the same value (zero, or any constant) fails: all hidden
     units compute the same function, receive the same gradient and stay identical, so
     the hidden layer behaves like a single unit.

``measure`` trains, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import X, Y, dead_units, hidden_spread, train

NAME = "xor"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["NAME", "STAGE", "TITLE", "X", "Y", "dead_units", "hidden_spread", "run", "train"]


def run(seed: int = 0, out_dir: Path = Path("runs/xor"), quick: bool = False) -> ExperimentResult:
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = [figures.boundaries_figure(m, out_dir), figures.loss_figure(m, out_dir)]
    metrics = measure.metrics(m)
    return ExperimentResult(NAME, TITLE, STAGE, metrics, prose.section(m, metrics, seed), drawn)
