"""Chapter 3: a one-hidden-layer MLP on y = sin(2 pi x) + noise; ReLU vs tanh.

The setup: 400 points on an even grid of [-1, 1], noise std 0.1, a 1-32-1 network,
full-batch gradient descent on the MSE with lr 0.005, 1,500 epochs (then 15,000). We run
that, measure why it underfits, and run the same networks with a learning rate chosen
from the measured curvature of the loss (its largest Hessian eigenvalue).

Because the noise is known here, the training error splits exactly:

    train MSE = mean((f_hat - f)^2) - 2 mean((f_hat - f) eps) + mean(eps^2)
                 error vs. truth      noise absorbed by the fit   noise floor

A fit with a large error vs. truth and nothing absorbed is biased (underfits); one that
absorbs noise (train MSE below the noise floor) has started to fit the noise (variance).

``measure`` trains and measures, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import make_sine_data, sharpness

NAME = "sine"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["NAME", "STAGE", "TITLE", "make_sine_data", "run", "sharpness"]


def run(seed: int = 0, out_dir: Path = Path("runs/sine"), quick: bool = False) -> ExperimentResult:
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = [figures.fit_figure(m, out_dir), figures.curves_figure(m, out_dir)]
    return ExperimentResult(
        NAME, TITLE, STAGE, measure.metrics(m), prose.section(m, seed, quick), drawn
    )
