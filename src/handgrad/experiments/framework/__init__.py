"""Chapter 10: the credit-score model trained in handgrad and in Keras 3, side by side.

The course's toy table (utilization, age, late payments -> a FICO-like score), features
standardized; a single Linear(3 -> 1); loss = MSE + lam * sum(W^2) with lam = 1e-2 (the
Keras ``L2`` convention, ``hg.L2Penalty(lam, convention="full")``; the bias is not
penalized); plain SGD with learning rate 0.1; 1000 epochs of one full-batch step each.

Keras starts from handgrad's initial weights, runs in float64 and takes the same 1000
steps (``train_on_batch``: one step per call, exactly one full-batch epoch), so any
difference left is floating-point rounding, or a real difference in the math.

Keras is optional (the ``framework`` extra installs it with JAX on the CPU). Its backend is
the one named by ``KERAS_BACKEND`` if set, otherwise JAX when installed, else PyTorch, else
TensorFlow. Keras runs in a child Python process (see ``keras_side``) whose environment
names the backend and a temporary Keras home, so neither Keras nor its backend is ever
imported into handgrad's own process, and a user's ``~/.keras/keras.json`` is neither read
nor written. Without Keras or a backend, the handgrad half still runs and the section says
why the comparison was skipped; ``keras=False`` skips it on purpose.

``measure`` trains the handgrad half, ``comparison`` the Keras half (through
``keras_side``), ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, refuse_options, tagline
from . import comparison, figures, measure, prose
from .measure import EPOCHS, LAM, LR, X_RAW, Y

NAME = "framework"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["EPOCHS", "LAM", "LR", "NAME", "STAGE", "TITLE", "X_RAW", "Y", "run"]


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/framework"),
    quick: bool = False,
    *,
    keras: bool = True,
    **options,
) -> ExperimentResult:
    """handgrad and Keras on the credit model (see the module docstring)."""
    refuse_options(NAME, options)
    out_dir = output_folder(out_dir)
    m = measure.measure(seed)
    m.keras = comparison.keras_half(m, keras, quick)
    drawn = [figures.loss_figure(m, out_dir), figures.weights_figure(m, out_dir)]
    numbers = measure.metrics(m)
    result = ExperimentResult(NAME, TITLE, STAGE, numbers, prose.section(numbers), drawn)
    result.skipped += prose.skipped(numbers["keras"])
    return result
