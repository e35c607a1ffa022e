"""Chapter 11, why it works, measured: stability, initialization, activations, batch size.

Every statement in the section this experiment writes comes from a number it has just
measured; the sentences are assembled from those numbers (a comparison that comes out the
other way produces the other sentence). One module per part, each holding its measurement,
its figure and its prose:

- ``stability``: the naive binary cross-entropy, its clip / eps patches and the engine's
  ``BCEWithLogitsLoss`` on logits in [-1000, 1000] against a high-precision reference;
- ``precision``: how far 1 - p can be trusted and what computes the complement exactly; softmax
  without the max shift; softmax cross-entropy on [0, z] against BCE on z;
- ``initialization``: activation and gradient std per layer for zeros, N(0, 0.01^2),
  Xavier and He; short trainings; the symmetry of constant inits; the bias of ReLU layers;
- ``activations``: ReLU, leaky ReLU, tanh and sigmoid with the same budget; the
  first-layer gradient norm against depth;
- ``dead_units``: dead ReLU units created, detected, mitigated;
- ``batch_size``: E||g_B - g||^2 against B, with and without replacement, and doubling the
  batch with lr, sqrt(2) lr and 2 lr;
- ``followups``: the classic follow-up questions, answered from the numbers above.

Each part's functions take the sizes of its measurements (``QUICK`` or ``FULL``, a
``Config``) and, for the stability and precision parts, the ``Reference`` the errors are
measured against; chapter 11's notebook calls them with these, e.g.
``stability.bce_stability(QUICK, Reference())``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...chapters import chapter
from ..base import ExperimentResult, Figure, lead, output_folder, tagline
from . import (
    activations,
    batch_size,
    dead_units,
    followups,
    initialization,
    precision,
    stability,
)
from ._reference import Reference
from ._shared import CAP, FLOOR, FULL, QUICK, Config, say

__all__ = [
    "FULL",
    "NAME",
    "QUICK",
    "STAGE",
    "TITLE",
    "Config",
    "Reference",
    "activations",
    "batch_size",
    "dead_units",
    "followups",
    "initialization",
    "precision",
    "run",
    "stability",
]

NAME = "discussion"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

# a progress callback gets (parts done, parts in all, the part about to run)
Progress = Callable[[int, int, str], None]


# the parts in the order they run: (key, progress label, measurement)
Part = tuple[str, str, Callable[[], dict]]


def _parts(cfg: Config, seed: int, scheduler, ref: Reference) -> list[Part]:
    return [
        ("bce", "binary cross-entropy stability", lambda: stability.bce_stability(cfg, ref)),
        ("complement", "precision of 1 - p", lambda: precision.complement(cfg, ref)),
        ("softmax", "softmax stability", lambda: precision.softmax_stability(ref)),
        ("binary", "binary against softmax", lambda: precision.binary_vs_softmax(cfg)),
        ("init_depth", "initialization through depth",
         lambda: initialization.init_depth(cfg, seed)),
        ("init_train", "training per initialization",
         lambda: initialization.init_training(cfg, seed)),
        ("symmetry", "symmetric initializations", lambda: initialization.symmetry(cfg, seed)),
        ("bias", "bias initialization", lambda: initialization.bias_init(cfg, seed)),
        ("race", "activation race", lambda: activations.activation_race(cfg, seed)),
        ("depth", "gradient against depth",
         lambda: activations.first_layer_grad_norm(cfg, seed)),
        ("dead", "dead ReLU units", lambda: dead_units.dead_relu(cfg, seed)),
        ("variance", "minibatch gradient variance", lambda: batch_size.batch_variance(cfg, seed)),
        ("lr", "learning rate and batch size",
         lambda: batch_size.lr_scaling(cfg, seed, scheduler)),
    ]  # fmt: skip


def _measure(parts: list[Part], progress: Progress | None) -> dict[str, dict]:
    """Run every part in turn, reporting progress; -> each part's numbers by key."""
    measured = {}
    for k, (key, label, measure) in enumerate(parts):
        if progress is not None:
            progress(k, len(parts), label)
        measured[key] = measure()
    if progress is not None:
        progress(len(parts), len(parts), "figures and prose")
    return measured


def _figures(m: dict[str, dict], out_dir: Path) -> list[Figure]:
    return [
        Figure(
            stability.fig_bce(m["bce"], out_dir / "stability_bce.png"),
            "Relative error of four binary cross-entropy forms against the logit, per label "
            f"(an exact 0 is drawn at {FLOOR:g}, errors above {CAP:g} at {CAP:g}, and crosses "
            "mark values that are not finite).",
        ),
        Figure(
            precision.fig_precision(m["complement"], m["softmax"], out_dir / "precision.png"),
            "Left: ways to compute 1 − p. Right: softmax and log-sum-exp with and without "
            "the max shift.",
        ),
        Figure(
            initialization.fig_init_depth(m["init_depth"], out_dir / "init_depth.png"),
            "Std of activations and of their gradients per layer of a deep MLP, per init.",
        ),
        Figure(
            initialization.fig_init_training(
                m["init_train"], m["symmetry"], out_dir / "init_training.png"
            ),
            "Training loss per init; distinct hidden units and accuracy under symmetric inits.",
        ),
        Figure(
            activations.fig_activations(m["race"], m["depth"], out_dir / "activations.png"),
            "Held-out loss per activation; first-layer gradient norm against depth.",
        ),
        Figure(
            dead_units.fig_dead(m["dead"], out_dir / "dead_relu.png"),
            "Fraction of dead (or stuck negative) hidden units at init and after training.",
        ),
        Figure(
            batch_size.fig_variance(m["variance"], out_dir / "batch_variance.png"),
            "Minibatch gradient variance against batch size, with and without replacement.",
        ),
        Figure(
            batch_size.fig_lr(m["lr"], out_dir / "lr_scaling.png"),
            "Doubling the batch with lr, √2·lr and 2·lr (left); a far too large lr beside the "
            "B run (middle, on its own scale); the gradient norm of every step (right).",
        ),
    ]


LEAD = lead(
    "Every course on backprop ends with a discussion: why the textbook cross-entropy breaks on "
    "large logits, how the initialization and the activation decide whether a deep "
    "network trains, what a dead ReLU unit is, and what changing the batch size does. Do "
    "those claims hold when measured?",
    "Each part says what was measured, shows a table, then draws its conclusions from "
    "the numbers. Start with `stability_bce.png` (where each form of the loss fails), "
    "`init_depth.png` (signals that vanish or explode with depth) and "
    "`batch_variance.png` (the $1/B$ law of the gradient noise).",
)


def _section(m: dict[str, dict], seed: int, quick: bool, cfg: Config) -> str:
    intro = say(
        f"Seed {seed}" + (" (quick run: smaller grids, fewer epochs and draws)." if quick else "."),
        "Every number below was measured by this run, and every conclusion is chosen by",
        "comparing those numbers: if a comparison came out the other way, so would the sentence.",
    )
    return "\n\n".join(
        [
            LEAD,
            intro,
            stability.md_bce(m["bce"]),
            precision.md_complement(m["complement"]),
            precision.md_softmax(m["softmax"], m["binary"]),
            initialization.md_init(m["init_depth"], m["init_train"], m["symmetry"], m["bias"], cfg),
            activations.md_activations(m["race"], m["depth"], cfg),
            dead_units.md_dead(m["dead"], cfg),
            batch_size.md_variance(m["variance"]),
            batch_size.md_lr(m["lr"]),
            followups.md_followups(m["complement"], m["binary"], m["dead"], m["variance"], m["lr"]),
        ]
    )


def _public(record: dict) -> dict:
    """``record`` without its private entries (keys starting with an underscore)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _metrics(m: dict[str, dict]) -> dict:
    """The JSON-ready numbers: the raw curves and private entries left out."""
    complement, softmax, lr = m["complement"], m["softmax"], m["lr"]
    return {
        "stability": _public(m["bce"]),
        "complement": {
            "q": {
                k: {key: v for key, v in r.items() if key != "rel_err"}
                for k, r in complement["q"].items()
            },
            **{k: v for k, v in complement.items() if k not in ("z", "q")},
        },
        "softmax": {k: v for k, v in softmax.items() if k not in ("s", "rel_err")},
        "binary_vs_softmax": m["binary"],
        "init_depth": m["init_depth"],
        "init_training": m["init_train"],
        "symmetry": m["symmetry"],
        "bias_init": m["bias"],
        "activations": m["race"],
        "grad_vs_depth": m["depth"],
        "dead_relu": m["dead"],
        "batch_variance": m["variance"],
        "lr_scaling": {**lr, "runs": {name: _public(rec) for name, rec in lr["runs"].items()}},
    }


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
    m = _measure(_parts(cfg, seed, scheduler, Reference()), progress)
    drawn = _figures(m, out_dir)
    return ExperimentResult(NAME, TITLE, STAGE, _metrics(m), _section(m, seed, quick, cfg), drawn)
