"""Chapter 6: a linear credit-score model with L2, and what its weights say.

Five people, three features (utilization as a fraction, age in years, late payments as a
count) and a FICO-like score. Features are standardized; a Linear(3, 1) is trained on

    L(W, b) = mean_n (x_n W + b - y_n)^2 + lam * ||W||^2        (the course's "full" convention)
    dL/dW   = 2/N X^T (X W + b - y) + 2 lam W,     dL/db = 2 mean(X W + b - y)

for lam in {0, 0.01, 0.1}. On standardized (centred) features the minimizer has a closed
form, the ridge solution: b = mean(y), W = (X^T X / N + lam I)^{-1} X^T y / N, against which
gradient descent is checked. Weights are mapped back to original units with

    W_orig = W_std / sigma,     b_orig = b_std - sum_j W_std_j mu_j / sigma_j,

and read per step of each feature (``per_step``): per 10 percentage points of utilization
(a fraction, so 0.1), per year of age, per late payment.

``measure`` computes, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, tagline
from . import figures, measure, prose
from .measure import (
    FEATURES,
    LAMBDAS,
    PERSONS,
    UNIT_STEPS,
    UNITS,
    X_RAW,
    Y,
    l2_gradient_checks,
    per_step,
    ridge,
    train,
    unstandardize,
)

NAME = "credit"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = [
    "FEATURES",
    "LAMBDAS",
    "NAME",
    "PERSONS",
    "STAGE",
    "TITLE",
    "UNITS",
    "UNIT_STEPS",
    "X_RAW",
    "Y",
    "l2_gradient_checks",
    "per_step",
    "ridge",
    "run",
    "train",
    "unstandardize",
]


def run(
    seed: int = 0, out_dir: Path = Path("runs/credit"), quick: bool = False
) -> ExperimentResult:
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick)
    drawn = [figures.loss_figure(m, out_dir), figures.weights_figure(m, out_dir)]
    return ExperimentResult(NAME, TITLE, STAGE, measure.metrics(m), prose.section(m), drawn)
