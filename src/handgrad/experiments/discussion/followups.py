"""Part 5: the classic follow-up questions, each answered from the numbers of the parts above."""

from __future__ import annotations

from ..base import fmt
from ._shared import pcts, say
from .precision import agreement


def md_followups(cp: dict, bm: dict, dead: dict, bv: dict, lr: dict) -> str:
    qn = cp["q"]["1 − sigmoid(z)"]
    stable = max(
        cp["q"]["sigmoid(−z)"]["max_rel_err"], cp["q"]["−expm1(log_sigmoid(z))"]["max_rel_err"]
    )
    kb, ok = (dead[n] for n in (list(dead)[0], list(dead)[2]))
    runs = lr["runs"]
    doubled = {n: runs[n]["curve_distance_to_base"] for n in list(runs)[1:4]}
    closest = min(doubled, key=lambda name: doubled[name])
    items = [
        say(
            "- *How far can 1 − p be trusted, and what computes the complement exactly?* Its",
            "relative error passes 1e−8 at",
            f"z = {fmt(qn['first_z_err_above_1e-8'], 4)} and it is exactly 0 from",
            f"z = {fmt(qn['first_z_zero'], 4)}. sigmoid(−z) or",
            f"−expm1(log_sigmoid(z)) recover it (worst relative error {fmt(stable)}); log1p(−p)",
            "does not, because p is already rounded (section 1).",
        ),
        say(
            "- *A ReLU unit is 0 on the whole training set?* It is dead; find it by",
            "checking the hidden outputs over the training set",
            f"({pcts(kb['dead_after'])} of layers 1, 2 after a −3 bias); the gradient",
            f"into it is {fmt(kb['max_grad_into_stuck_units'])}; He init with zero bias and a",
            f"moderate lr left {pcts(ok['dead_after'])} dead (section 3).",
        ),
        say(
            "- *From binary to multiclass?* softplus on one logit is the log-sum-exp of [0, z];",
            "softmax cross-entropy on [0, z] equals BCE on z",
            agreement(bm),
            "(section 1).",
        ),
        say(
            "- *Double the batch?* The gradient variance falls as B^"
            f"{bv['slope_with_replacement']:.2f} (1/B), and of lr, √2·lr and 2·lr the run",
            f"that tracked the B run best was {closest}; watch the first epochs' loss, loss",
            "rises and gradient-norm peaks (section 4).",
        ),
    ]
    return "### 5. Follow-up questions, answered by the numbers above\n\n" + "\n".join(items)
