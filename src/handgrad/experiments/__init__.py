"""The course as runnable experiments, one module per chapter.

``EXPERIMENTS`` maps each command-line name to its module (imported lazily, so
``handgrad run xor`` does not import scikit-learn or matplotlib it does not need).
"""

from __future__ import annotations

import difflib
import importlib
import time
from pathlib import Path

from .base import ExperimentResult, Figure

# name -> module, in the course's chapter order (handgrad.chapters), which the tour follows
EXPERIMENTS: dict[str, str] = {
    "linear-fit": "linear_fit",
    "linear-two-layer": "linear_two_layer",
    "sine": "sine",
    "binary": "binary",
    "xor": "xor",
    "credit": "credit",
    "blobs": "blobs",
    "digits": "digits",
    "mnist": "mnist",
    "framework": "framework",
    "discussion": "discussion",
}

__all__ = ["EXPERIMENTS", "ExperimentResult", "Figure", "run_experiment", "load_experiment"]


def load_experiment(name: str):
    if name not in EXPERIMENTS:
        close = difflib.get_close_matches(str(name).strip().lower(), EXPERIMENTS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"unknown experiment {name!r}; {hint}choose from: {', '.join(EXPERIMENTS)}"
        )
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")


def run_experiment(
    name: str, *, seed: int = 0, out_dir: Path | str = "runs", quick: bool = False, **options
) -> ExperimentResult:
    """Run one experiment into ``out_dir/name`` and write its metrics and section there."""
    module = load_experiment(name)
    folder = Path(out_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = module.run(seed=seed, out_dir=folder, quick=quick, **options)
    result.seconds = time.perf_counter() - started
    result.seed, result.quick = seed, quick
    result.write(folder)
    return result
