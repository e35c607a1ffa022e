"""Chapter 1: fit y = w x + b by gradient descent, and find where the step size breaks it.

The data follow the course's recipe, drawn from a Generator: 200 points on a grid of [-2, 2],
y = 2.5 x - 0.7 + 0.25 * noise. The loss is the mean squared error

    L(w, b) = mean_n (w x_n + b - y_n)^2,   dL/dw = 2 mean(err x),  dL/db = 2 mean(err).

L is a quadratic in (w, b) with constant Hessian  H = 2 E[[x^2, x], [x, 1]], so gradient
descent contracts the error along each eigenvector of H by the factor (1 - lr * lambda) per
step: it converges iff |1 - lr * lambda| < 1 for both eigenvalues, i.e. lr < 2 / lambda_max.
The experiment measures all of this on the data and compares it with the prediction.

``measure`` computes, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import gradient_descent, hessian, least_squares, make_line_data, mse

NAME = "linear-fit"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = [
    "NAME", "STAGE", "TITLE", "gradient_descent", "hessian", "least_squares", "make_line_data",
    "mse", "run",
]  # fmt: skip


def run(
    seed: int = 0, out_dir: Path = Path("runs/linear-fit"), quick: bool = False
) -> ExperimentResult:
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = figures.draw(m, out_dir)
    return ExperimentResult(NAME, TITLE, STAGE, measure.metrics(m), prose.section(m, seed), drawn)
