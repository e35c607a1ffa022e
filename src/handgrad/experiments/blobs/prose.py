"""Chapter 7's section, written from the measured numbers."""

from __future__ import annotations

import numpy as np

from ..base import fmt, lead, md_table
from .measure import CENTERS, LR, PER_CLASS, SHAPE_BATCH, Measured

LEAD = lead(
    (
        "How does a network go from two classes to three, and what shape does every tensor have"
        " on the way forward and back?"
    ),
    (
        "The shape table (each matrix product checks out), the parameter counts, and "
        "`blobs_regions.png`: the three class regions."
    ),
)


def section(m: Measured, seed: int, quick: bool) -> str:
    """The whole section body: the setup, accuracy, shapes, parameter counts."""
    md = [LEAD, _setup(m, seed, quick), *_accuracy(m), *_shapes(m), *_counts(m)]
    return "\n\n".join(md)


def _setup(m: Measured, seed: int, quick: bool) -> str:
    epochs = m.epochs
    return (
        f"Three Gaussian blobs, {PER_CLASS} points each around "
        + ", ".join(f"({a:g}, {b:g})" for a, b in CENTERS)
        + f" with unit standard deviation, drawn from a seeded Generator (seed {seed}); a "
        "second draw of the same size is held out for testing. The network is "
        f"Linear(2, 32) → ReLU → Linear(32, 3); its 3 logits go to the fused softmax + "
        f"cross-entropy loss. Training: full batch, gradient descent with "
        f"lr {LR:g}, {epochs:,} epochs"
        + (" (quick mode; the full run uses 1,000)." if quick else ".")
    )


def _mistakes(confusion: np.ndarray) -> list[str]:
    """Held-out mistakes by pair of blobs, closest pairs first (nothing if there are none)."""
    md: list[str] = []
    pairs = []
    for a in range(3):
        for b in range(a + 1, 3):
            dist = float(np.hypot(*np.subtract(CENTERS[a], CENTERS[b])))
            pairs.append((dist, a, b, int(confusion[a, b] + confusion[b, a])))
    pairs.sort()
    errors = sum(p[3] for p in pairs)
    if errors:
        near_errors = sum(p[3] for p in pairs if p[0] < pairs[-1][0])
        md.append(
            "Held-out mistakes by pair of blobs: "
            + "; ".join(f"{a}↔{b} (centres {d:.2f} apart): {n}" for d, a, b, n in pairs)
            + ". "
            + (
                f"{near_errors} of the {errors} mistakes are between the closer pairs: with "
                "unit spread, neighbouring blobs overlap, and points in the overlap fall on "
                "the wrong side of any boundary (figure `blobs_regions.png`)."
                if near_errors > errors / 2
                else "The mistakes are not concentrated between the closest blobs."
            )
        )
    return md


def _accuracy(m: Measured) -> list[str]:
    """Accuracy, the confusion matrix and where the mistakes fall."""
    train_acc, test_acc, y, y_test, history = m.train_acc, m.test_acc, m.y, m.y_test, m.history
    confusion = m.confusion
    md: list[str] = []
    md.append("### Accuracy")
    md.append(
        f"Training accuracy {train_acc:.1%} ({int(round(train_acc * len(y)))} of {len(y)}), "
        f"held-out accuracy {test_acc:.1%} ({int(round(test_acc * len(y_test)))} of "
        f"{len(y_test)}); final cross-entropy {fmt(history.epoch_loss[-1])} (training) and "
        f"{fmt(history.val_loss[-1])} (held-out); the learning curves are in "
        "`blobs_curves.png`, the decision regions in `blobs_regions.png`. Held-out confusion "
        "matrix (rows: true class, columns: predicted):"
    )
    md.append(
        md_table(
            ["true \\ predicted", "0", "1", "2"],
            [[f"class {i} at {CENTERS[i]}", *confusion[i].tolist()] for i in range(3)],
        )
    )
    return md + _mistakes(confusion)


def _shapes(m: Measured) -> list[str]:
    """Every tensor's shape in one forward and backward pass, and the gradient checks."""
    rows, fused_err, model, check = m.rows, m.fused_err, m.model, m.check
    md: list[str] = []
    md.append(f"### Every tensor in one forward and backward pass (batch B = {SHAPE_BATCH})")
    md.append(
        md_table(
            ["array", "shape", "what it is"],
            [
                [f"`{n}`", "(" + ", ".join(map(str, s)) + (",)" if len(s) == 1 else ")"), fml]
                for n, s, fml in rows
            ],
        )  # fmt: skip
    )
    md.append(
        "Every gradient has the shape of the array it differentiates (dW1 like W1, dz1 like "
        "z1, ...). handgrad stores biases as 1-D arrays (32,) and (3,) that broadcast over the "
        "B rows; row vectors of shape (1, 32) and (1, 3) hold the same numbers. The fused output "
        f"gradient dz2 = (softmax(z2) − onehot(y)) / B matches the loss's backward to "
        f"{fused_err:.1e}, and a finite-difference check of all {model.num_parameters()} "
        f"parameters on this batch gives a largest relative error of {check.max_rel_error:.1e} "
        f"({'passed' if check.passed else 'FAILED'})."
    )
    return md


def _counts(m: Measured) -> list[str]:
    """Parameter counts three ways."""
    counts = m.counts
    md: list[str] = []
    md.append("### Counting parameters")
    md.append(
        md_table(
            ["network", "count_parameters", "built model", "by hand"],
            [
                [
                    "[2, 32, 3]",
                    counts["2-32-3"],
                    counts["2-32-3 (built model)"],
                    "2·32 + 32 + 32·3 + 3",
                ],
                [
                    "[10, 64, 3]",
                    counts["10-64-3"],
                    counts["10-64-3 (built model)"],
                    "10·64 + 64 + 64·3 + 3",
                ],
            ],
        )  # fmt: skip
    )
    by_hand = (2 * 32 + 32 + 32 * 3 + 3, 10 * 64 + 64 + 64 * 3 + 3)
    md.append(
        f"Each layer has in·out weights plus out biases. By hand: {by_hand[0]} and "
        f"{by_hand[1]}; `hg.count_parameters` gives {counts['2-32-3']} and "
        f"{counts['10-64-3']}, and the built models hold {counts['2-32-3 (built model)']} and "
        f"{counts['10-64-3 (built model)']}"
        + (
            " — all agree (the worked answer for [10, 64, 3] is 899)."
            if len({by_hand[1], counts["10-64-3"], counts["10-64-3 (built model)"], 899}) == 1
            and len({by_hand[0], counts["2-32-3"], counts["2-32-3 (built model)"]}) == 1
            else " — they DISAGREE."
        )
    )
    return md
