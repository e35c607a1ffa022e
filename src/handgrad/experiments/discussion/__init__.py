"""Chapter 11, why it works, measured: stability, initialization, activations, batch size.

Every statement in the section this experiment writes comes from a number it has just
measured; the sentences are assembled from those numbers (a comparison that comes out the
other way produces the other sentence). One module per part, each holding its measurement,
its figure and its prose:

- ``stability``: the naive binary cross-entropy, its clip / eps patches and the engine's
  ``BCEWithLogitsLoss`` on logits in [-1000, 1000] against a high-precision reference;
- ``precision``: where 1 - p loses precision and which primitive recovers it; softmax
  without the max shift; softmax cross-entropy on [0, z] against BCE on z;
- ``initialization``: activation and gradient std per layer for zeros, N(0, 0.01^2),
  Xavier and He; short trainings; the symmetry of constant inits; the bias of ReLU layers;
- ``activations``: ReLU, leaky ReLU, tanh and sigmoid with the same budget; the
  first-layer gradient norm against depth;
- ``dead_units``: dead ReLU units created, detected, mitigated;
- ``batch_size``: E||g_B - g||^2 against B, with and without replacement, and doubling the
  batch with lr, sqrt(2) lr and 2 lr;
- ``followups``: the classic follow-up questions, answered from the numbers above.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, Figure, lead, output_folder, tagline
from . import (
    _reference,
    activations,
    batch_size,
    dead_units,
    followups,
    initialization,
    precision,
    stability,
)
from ._shared import CAP, FLOOR, FULL, QUICK, say

NAME = "discussion"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

# a progress callback gets (parts done, parts in all, the part about to run)
Progress = Callable[[int, int, str], None]


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/discussion"),
    quick: bool = False,
    progress: Progress | None = None,
    scheduler=None,
) -> ExperimentResult:
    """Measure everything, draw the figures, and write the section from the numbers.

    ``scheduler``: run the trainings of the learning-rate study (settings x seeds) as Dask
    tasks (see ``handgrad.sweep.parallel_map``); the numbers are the same.
    """
    cfg = QUICK if quick else FULL
    out_dir = output_folder(out_dir)
    ref = _reference.Reference()
    steps: list[tuple[str, Callable[[], dict]]] = [
        ("binary cross-entropy stability", lambda: stability.bce_stability(cfg, ref)),
        ("precision of 1 - p", lambda: precision.complement(cfg, ref)),
        ("softmax stability", lambda: precision.softmax_stability(ref)),
        ("binary against softmax", lambda: precision.binary_vs_softmax(cfg)),
        ("initialization through depth", lambda: initialization.init_depth(cfg, seed)),
        ("training per initialization", lambda: initialization.init_training(cfg, seed)),
        ("symmetric initializations", lambda: initialization.symmetry(cfg, seed)),
        ("bias initialization", lambda: initialization.bias_init(cfg, seed)),
        ("activation race", lambda: activations.activation_race(cfg, seed)),
        ("gradient against depth", lambda: activations.first_layer_grad_norm(cfg, seed)),
        ("dead ReLU units", lambda: dead_units.dead_relu(cfg, seed)),
        ("minibatch gradient variance", lambda: batch_size.batch_variance(cfg, seed)),
        ("learning rate and batch size", lambda: batch_size.lr_scaling(cfg, seed, scheduler)),
    ]
    measured = []
    for k, (label, measure) in enumerate(steps):
        if progress is not None:
            progress(k, len(steps), label)
        measured.append(measure())
    if progress is not None:
        progress(len(steps), len(steps), "figures and prose")
    (bce, complement, softmax, binary, init_depth, init_train, symmetry, bias, race, depth,
     dead, variance, lr) = measured  # fmt: skip

    figures = [
        Figure(
            stability.fig_bce(bce, out_dir / "stability_bce.png"),
            "Relative error of four binary cross-entropy forms against the logit, per label "
            f"(an exact 0 is drawn at {FLOOR:g}, errors above {CAP:g} at {CAP:g}, and crosses "
            "mark values that are not finite).",
        ),
        Figure(
            precision.fig_precision(complement, softmax, out_dir / "precision.png"),
            "Left: ways to compute 1 − p. Right: softmax and log-sum-exp with and without "
            "the max shift.",
        ),
        Figure(
            initialization.fig_init_depth(init_depth, out_dir / "init_depth.png"),
            "Std of activations and of their gradients per layer of a deep MLP, per init.",
        ),
        Figure(
            initialization.fig_init_training(init_train, symmetry, out_dir / "init_training.png"),
            "Training loss per init; distinct hidden units and accuracy under symmetric inits.",
        ),
        Figure(
            activations.fig_activations(race, depth, out_dir / "activations.png"),
            "Held-out loss per activation; first-layer gradient norm against depth.",
        ),
        Figure(
            dead_units.fig_dead(dead, out_dir / "dead_relu.png"),
            "Fraction of dead (or stuck negative) hidden units at init and after training.",
        ),
        Figure(
            batch_size.fig_variance(variance, out_dir / "batch_variance.png"),
            "Minibatch gradient variance against batch size, with and without replacement.",
        ),
        Figure(
            batch_size.fig_lr(lr, out_dir / "lr_scaling.png"),
            "Doubling the batch with lr, √2·lr and 2·lr (left); a far too large lr beside the "
            "B run (middle, on its own scale); the gradient norm of every step (right).",
        ),
    ]

    opening = lead(
        "Every course on backprop ends with a discussion: why the textbook cross-entropy breaks on "
        "large logits, how the initialization and the activation decide whether a deep "
        "network trains, what a dead ReLU unit is, and what changing the batch size does. Do "
        "those claims hold when measured?",
        "Each part says what was measured, shows a table, then draws its conclusions from "
        "the numbers. Start with `stability_bce.png` (where each form of the loss fails), "
        "`init_depth.png` (signals that vanish or explode with depth) and "
        "`batch_variance.png` (the $1/B$ law of the gradient noise).",
    )
    intro = say(
        f"Seed {seed}" + (" (quick run: smaller grids, fewer epochs and draws)." if quick else "."),
        "Every number below was measured by this run, and every conclusion is chosen by",
        "comparing those numbers: if a comparison came out the other way, so would the sentence.",
    )
    markdown = "\n\n".join(
        [
            opening,
            intro,
            stability.md_bce(bce),
            precision.md_complement(complement),
            precision.md_softmax(softmax, binary),
            initialization.md_init(init_depth, init_train, symmetry, bias, cfg),
            activations.md_activations(race, depth, cfg),
            dead_units.md_dead(dead, cfg),
            batch_size.md_variance(variance),
            batch_size.md_lr(lr),
            followups.md_followups(complement, binary, dead, variance, lr),
        ]
    )
    metrics = {
        "stability": {k: v for k, v in bce.items() if not k.startswith("_")},
        "complement": {
            "q": {
                k: {m: v for m, v in r.items() if m != "rel_err"}
                for k, r in complement["q"].items()
            },
            **{k: v for k, v in complement.items() if k not in ("z", "q")},
        },
        "softmax": {k: v for k, v in softmax.items() if k not in ("s", "rel_err")},
        "binary_vs_softmax": binary,
        "init_depth": init_depth,
        "init_training": init_train,
        "symmetry": symmetry,
        "bias_init": bias,
        "activations": race,
        "grad_vs_depth": depth,
        "dead_relu": dead,
        "batch_variance": variance,
        "lr_scaling": {
            **lr,
            "runs": {
                name: {k: v for k, v in rec.items() if not k.startswith("_")}
                for name, rec in lr["runs"].items()
            },
        },
    }
    return ExperimentResult(NAME, TITLE, STAGE, metrics, markdown, figures)
