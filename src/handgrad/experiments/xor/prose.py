"""Chapter 5's section, written from the measured numbers."""

from __future__ import annotations

from typing import Any

from ..base import fmt, lead, md_table
from .measure import ADAM_LR, SINGLE_UNIT_EPOCHS, SINGLE_UNIT_INITS, Measured

LEAD = lead(
    (
        "Why does XOR need a hidden layer, how do momentum and Adam change training, and why "
        "does an all-zero initialization never learn?"
    ),
    (
        "`xor_boundaries.png` (the regions each network carves) and the symmetry table: units "
        "that start equal stay exact copies of one another."
    ),
)


def section(m: Measured, metrics: dict[str, Any], seed: int) -> str:
    """The whole section body, from ``m`` and its ``metrics``."""
    md = [LEAD, *_setup(m, seed), *_trained(m, metrics), *_symmetric(m)]
    return "\n\n".join(md)


def _setup(m: Measured, seed: int) -> list[str]:
    return [
        "XOR's four points — (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0 — cannot be split by one "
        "line, so a network needs a hidden layer. Every network below ends in one logit, "
        "trained with `BCEWithLogitsLoss` (the sigmoid output and the cross-entropy fused, "
        "computed from the logit), full batch; a point counts as class 1 when its logit is "
        f"positive. Each configuration is trained from {m.K} different random initializations "
        f"(seed {seed}), because one run on 4 points can be luck."
    ]


def _trained(m: Measured, metrics: dict[str, Any]) -> list[str]:
    """The [2, 8, 1] network and the two-hidden-layer one: how often they solve XOR."""
    failed_relu = m.failed_relu
    dead_in_failed, dead_in_perfect = m.dead_in_failed, m.dead_in_perfect
    md: list[str] = []
    md.append("### The [2, 8, 1] network, and a network with two hidden layers")
    md.append(_trained_table(m, metrics))
    relu, tanh, adam = metrics["relu_sgd"], metrics["tanh_sgd"], metrics["adam_two_hidden"]
    text = [
        f"The [2, 8, 1] network reached 100% in {relu['perfect']} of {relu['runs']} "
        f"initializations; the two-hidden-layer network with Adam in {adam['perfect']} "
        f"of {adam['runs']}."
    ]
    if failed_relu:
        text.append(
            "The ReLU failures are dead units: the failed "
            + ("run ended" if len(dead_in_failed) == 1 else "runs ended")
            + f" with {', '.join(map(str, dead_in_failed))} of 8 hidden units inactive on all four "
            f"inputs (the successful runs: at most {max(dead_in_perfect, default=0)}). A unit "
            "whose pre-activation is negative everywhere has zero gradient and can never "
            "recover; with 8 units and an aggressive step (lr 0.5 with momentum 0.9, an "
            "effective step of 5), an unlucky start kills enough of them that the rest "
            "cannot carve out XOR."
        )
    if tanh["perfect"] == tanh["runs"]:
        text.append(
            f"With tanh units (no dead zone) the same settings succeeded every time "
            f"({tanh['perfect']} of {tanh['runs']})."
        )
    md.append(" ".join(text))
    md.append(
        "Figure `xor_boundaries.png` shows the learned regions: the networks that solve XOR "
        "draw a band (or two half-planes) around the diagonal (0,1)–(1,0), which no single "
        "line can do; `xor_loss.png` shows the losses."
    )
    return md


def _trained_table(m: Measured, metrics: dict[str, Any]) -> str:
    """One row per configuration: how many runs reached 100%, how fast, their losses."""
    sgd_epochs, adam_epochs = m.sgd_epochs, m.adam_epochs
    rows = []
    for key, name in (
        ("relu_sgd", f"[2, 8, 1] ReLU, He init, SGD lr 0.5 momentum 0.9, {sgd_epochs:,} epochs"),
        ("tanh_sgd", f"[2, 8, 1] tanh, Xavier init, same SGD, {sgd_epochs:,} epochs"),
        ("adam_two_hidden", f"[2, 8, 8, 1] ReLU, Adam lr {ADAM_LR:g}, {adam_epochs:,} epochs"),
    ):
        s = metrics[key]
        rows.append(
            [
                name,
                f"{s['perfect']} / {s['runs']}",
                fmt(s["median_first_perfect_epoch"]) if s["median_first_perfect_epoch"] else "—",
                fmt(max(s["final_losses"])),
                fmt(min(s["final_losses"])),
            ]
        )
    return md_table(
        [
            "network and training",
            "100% accuracy",
            "median first epoch at 100%",
            "worst final loss",
            "best final loss",
        ],
        rows,
    )


def _symmetric(m: Measured) -> list[str]:
    """Why not initialize every weight to zero?"""
    symmetric, sgd_epochs, single_best = m.symmetric, m.sgd_epochs, m.single_best
    md: list[str] = []
    md.append("### Why not initialize every weight to zero?")
    md.append(_symmetric_table(m))
    all_zero_spread = all(d["spread_end"] == 0.0 for d in symmetric.values())
    best_sym = max(d["accuracy"] for d in symmetric.values())
    zero_moved = max(symmetric[k]["largest_parameter_change"] for k in ("0/relu", "0/tanh"))
    md.append(
        (
            "In every case the 8 hidden units are still exact copies of one another after "
            f"{sgd_epochs:,} epochs (spread 0: identical incoming weights, bias and outgoing "
            "weight). "
            if all_zero_spread
            else "The hidden units did not all stay identical (nonzero spread above). "
        )
        + "The reason is symmetry: units that start equal compute the same activation, so "
        "backprop hands each the same gradient "
        "($dW_1[:, j] = X^\\top (da_1[:, j] \\odot f'(z_1[:, j]))$ with "
        "identical columns), and the same update keeps them equal forever. The layer then "
        "behaves like a single unit, and "
        f"a [2, 1, 1] tanh network reached at most {single_best:.0%} on XOR over "
        f"{SINGLE_UNIT_INITS} initializations ({SINGLE_UNIT_EPOCHS} epochs each; one line "
        "cannot get more than 3 of the 4 points right); the symmetric networks reached at "
        f"most {best_sym:.0%}. "
        + (
            "With all-zero weights nothing moves at all: every hidden pre-activation is 0, "
            "so $W_2$'s gradient ($a_1^\\top dz_2$) and every gradient flowing back through "
            "$W_2 = 0$ vanish, and for XOR's balanced labels the output bias's gradient "
            "$\\operatorname{mean}(\\sigma(0) - y)$ is 0 too "
            f"(largest parameter change: {fmt(zero_moved)}). "
            if zero_moved == 0
            else ""
        )
        + "Random initialization breaks the symmetry; He or Xavier scaling then keeps the "
        "signal's variance steady from layer to layer."
    )
    return md


def _symmetric_table(m: Measured) -> str:
    """One row per symmetric initialization: did its hidden units stay copies?"""
    srow = []
    for d in m.symmetric.values():
        srow.append(
            [
                f"every weight and bias = {d['value']:g}",
                d["activation"],
                f"{d['spread_end']:.1e}" if d["spread_end"] else "0 (exactly)",
                f"{d['accuracy']:.0%}",
                fmt(d["final_loss"]),
                fmt(d["largest_parameter_change"]),
            ]
        )
    return md_table(
        [
            "initialization",
            "hidden units",
            "spread between hidden units after training",
            "accuracy",
            "final loss",
            "largest parameter change",
        ],
        srow,
    )
