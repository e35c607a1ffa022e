"""Chapter 10's section, written from the metrics: the setup, the weights side by side,
how close Keras came and why, convergence, the L2 convention, and what the weights say."""

from __future__ import annotations

import numpy as np

from ...install import install_hint
from ..base import lead
from ..credit import FEATURES
from .measure import EPOCHS, LAM, LR, PEOPLE

LEAD = lead(
    (
        "Does a framework (Keras 3) trained from the same start, with the same loss and steps, "
        "land on the same weights as handgrad's hand-written version?"
    ),
    (
        "The side-by-side weight table and `framework_weights.png`; when Keras is not "
        "installed, only the handgrad half runs and the section says so."
    ),
)


def _setup(m: dict) -> list[str]:
    k = m["keras"]
    lines = [
        f"**Setup.** Chapter 6's five-row credit table, features standardized (mean 0, std 1 per "
        f"column); Linear(3 -> 1) with initial weights drawn with seed {m['seed']} "
        f"({', '.join(f'{w:+.3f}' for w in m['initial_W'])}, bias 0); loss = "
        f"$\\mathrm{{MSE}} + {LAM:g} \\sum W^2$, the Keras L2 convention (handgrad: "
        f'`L2Penalty({LAM:g}, convention="full")`, gradient $2 \\lambda W$; the bias is not '
        f"penalized); SGD, learning rate {LR:g}, {EPOCHS} epochs of one full-batch step.",
        "",
    ]
    if not k["available"]:
        lines += [f"**Keras comparison skipped:** {k['reason']}. The handgrad half below ran."]
        if k.get("install_hint"):
            lines.append(
                f"Install Keras 3 with a backend (`{install_hint('framework')}`) to see the two "
                "side by side."
            )
        lines.append("")
    return lines


def _weights_table(m: dict) -> list[str]:
    """handgrad's weights, bias, loss and scores, with Keras's beside them when it ran."""
    h, k = m["handgrad"], m["keras"]
    header = "| | handgrad |" + (" Keras |" if k["available"] else "")
    rule = "|---|---:|" + ("---:|" if k["available"] else "")
    rows = [header, rule]

    def row(label, a, b=None, fmt="{:+.6f}"):
        cells = f"| {label} | {fmt.format(a)} |"
        if k["available"]:
            cells += f" {fmt.format(b)} |"
        rows.append(cells)

    for j, name in enumerate(FEATURES):
        row(f"weight: {name}", h["W_std"][j], k.get("W_std", [None] * 3)[j])
    row("bias", h["b_std"], k.get("b_std"))
    row("final loss", h["final_loss"], k.get("final_loss"), "{:.6f}")
    for who in ("A", "B"):
        row(
            f"score of person {who} {PEOPLE[who]}",
            h["people"][who],
            k.get("people", {}).get(who),
            "{:.4f}",
        )
    return ["### Weights and predictions", "", *rows, ""]


def _why_the_gap(k: dict) -> str:
    """What the float64 gap between the two is: rounding, lam in float32, or a real difference."""
    rel = k["max_rel_weight_diff"]
    lam32 = k["lam_float32"]
    if rel < 1e-12:
        return (
            "That is float64 rounding and nothing else: the two compute the same "
            "gradients and take the same steps."
        )
    if lam32["max_rel_weight_diff"] * 100 < lam32["max_rel_weight_diff_exact_lam"]:
        closer = lam32["max_rel_weight_diff_exact_lam"] / max(lam32["max_rel_weight_diff"], 1e-300)
        return (
            f"The two take the same steps, but the gap is larger than float64 rounding, "
            f"and its cause can be measured: Keras applies the L2 strength in float32 "
            f"(lam = float32(0.01) = {lam32['lam']:.10f}). handgrad rerun with that lam "
            f"ends {lam32['max_rel_weight_diff']:.1e} (relative) from Keras's weights, "
            f"{closer:.2g} times closer than with lam = 0.01 exactly: the remaining "
            "difference is "
            "rounding."
        )
    if rel < 1e-6:
        return (
            f"The two agree to about {-np.log10(rel):.0f} significant digits, more than "
            "float64 rounding alone would leave but far too little to be a different "
            "algorithm (lam rounded to float32 does not explain it: rerun with that lam, "
            f"handgrad ends {lam32['max_rel_weight_diff']:.1e} away)."
        )
    return (
        "That is more than rounding explains: the two are not computing the same "
        "thing (check the loss, the L2 convention and the dtype)."
    )


def _agreement(m: dict) -> list[str]:
    """How far Keras ended from handgrad, why, in float32 too, and the timings."""
    h, k = m["handgrad"], m["keras"]
    if not k["available"]:
        return []
    lines = [
        f"Keras ran on the {k['backend']} backend (Keras {k['version']}, in a child "
        f"process), weights {k['dtype']}. Largest differences from handgrad: weights "
        f"{k['max_abs_weight_diff']:.2e} (relative {k['max_rel_weight_diff']:.1e}), bias "
        f"{k['abs_bias_diff']:.2e}, predictions (the five rows and persons A and B) "
        f"{k['max_abs_prediction_diff']:.2e} score points, loss curves "
        f"{k['max_rel_loss_diff']:.1e} relative over all {EPOCHS} epochs.",
        "",
        _why_the_gap(k),
    ]
    if k["dtype"] == "float64" and k["losses_are_float32"]:
        lines.append(
            f"Note: every loss the {k['backend']} backend reported is exactly a float32 "
            "number, so despite the float64 weights it computed in single precision; "
            "agreement is then limited to float32 rounding (about 7 digits)."
        )
    lines.append("")
    if "float32" in k:
        f32 = k["float32"]
        lines += [
            f"In Keras's default float32 the same run ends {f32['max_rel_weight_diff']:.1e} "
            f"(relative) from handgrad's float64 weights, and its predictions differ by up "
            f"to {f32['max_abs_prediction_diff']:.2e} score points: single precision's "
            "rounding, harmless here.",
            "",
        ]
    return lines + [
        f"Timing: handgrad took {h['seconds']:.2f} s for the {EPOCHS} steps, Keras "
        f"{k['seconds']:.2f} s (one `train_on_batch` call per step, after "
        f"{k['import_seconds']:.1f} s to import it). On a five-row problem each step is "
        "nearly all per-call overhead.",
        "",
    ]


def _convergence(m: dict) -> list[str]:
    r = m["ridge"]
    corr = m["feature_correlations"]
    if r["relative_distance_to_optimum"] < 1e-6:
        answer = (
            f"Yes: after {EPOCHS} steps the weights are within "
            f"{r['relative_distance_to_optimum']:.1e} (relative) of the ridge optimum computed "
            "in closed form."
        )
    else:
        answer = (
            f"Not quite. The ridge optimum in closed form is "
            f"({', '.join(f'{w:+.3f}' for w in r['w_star'])}), and after {EPOCHS} steps the "
            f"weights are still {r['distance_to_optimum']:.3f} away from it "
            f"({r['relative_distance_to_optimum']:.1%} of its length). The features are "
            f"strongly correlated (pairwise correlations {', '.join(f'{c:+.2f}' for c in corr)} "
            f"for utilization-age, utilization-late payments, age-late payments), so the "
            f"loss is nearly flat along one direction: the eigenvalues of X^T X / N + lam I are "
            f"{', '.join(f'{e:.4f}' for e in r['eigenvalues'])}, and the error along the "
            f"slowest direction shrinks by a factor {r['slowest_factor_per_step']:.4f} per step, "
            f"{r['slowest_factor_after_all_steps']:.2g} after {EPOCHS} steps. Gradient descent "
            "on this quadratic can be written in closed form; it predicts handgrad's final "
            f"weights to {r['max_abs_diff_from_prediction']:.1e}."
        )
    return ["### Has it converged?", "", answer, ""]


def _convention_and_weights(m: dict) -> list[str]:
    """The other L2 convention's weights, then the weights read as a credit model."""
    h, half = m["handgrad"], m["half_convention"]
    order = np.argsort(-np.abs(h["W_std"]))
    ranking = ", ".join(
        f"{FEATURES[j]} ({h['W_std'][j]:+.2f}: {'raises' if h['W_std'][j] > 0 else 'lowers'} "
        "the score)"
        for j in order
    )
    pa, pb = h["people"]["A"], h["people"]["B"]
    return [
        "### Why the convention matters",
        "",
        f"Trained with the other L2 convention ($\\frac{{\\lambda}}{{2}} \\sum W^2$, gradient "
        f"$\\lambda W$, what "
        f"SGD weight decay does), handgrad's weights end {half['max_abs_weight_diff']:.2f} "
        f"score points per standard deviation away from the run above "
        f"(relative {half['max_rel_weight_diff']:.1e}): matching a framework means matching its "
        "penalty's definition, not just the symbol lambda.",
        "",
        "### Reading the weights",
        "",
        f"Ordered by size on standardized features: {ranking}. In original units: "
        + ", ".join(f"{w:+.3f} per unit of {n}" for n, w in zip(FEATURES, h["W_orig"]))
        + f", intercept {h['b_orig']:.2f}.",
        "",
        f"Person A {PEOPLE['A']} gets {pa:.1f} and person B {PEOPLE['B']} gets {pb:.1f}: "
        f"the {PEOPLE['B'][1] - PEOPLE['A'][1]} years of age between them are worth "
        f"{pb - pa:+.1f} points, and nothing else differs. Age 65 lies outside the table's "
        "ages (22 to 52), so B's score is an extrapolation of a straight line fitted to five "
        "people.",
    ]


def section(m: dict) -> str:
    """The section's Markdown from the metrics ``m``."""
    lines = (
        _setup(m) + _weights_table(m) + _agreement(m) + _convergence(m)
        + _convention_and_weights(m)
    )  # fmt: skip
    return LEAD + "\n\n" + "\n".join(lines)


def skipped(k: dict) -> list[str]:
    """The tour's status line for a skipped Keras half, with the command that enables it."""
    if k["available"]:
        return []
    hint = f" ({install_hint('framework')})" if k.get("install_hint") else ""
    return [f"the Keras half: {k['reason']}{hint}"]
