"""Chapter 6's section, written from the measured numbers."""

from __future__ import annotations

import math

import numpy as np

from ..base import fmt, lead, md_table
from .measure import (
    FEATURES,
    LAB_EPOCHS,
    LAB_LR,
    LAMBDAS,
    LR,
    PERSONS,
    TARGET_REDUCTION,
    UNITS,
    X_RAW,
    Measured,
    per_step,
)

LEAD = lead(
    (
        "What do the weights of a linear credit score mean, why must the features be "
        "standardized first, and what does an L2 penalty $\\lambda \\lVert W \\rVert^2$ do to "
        "them?"
    ),
    (
        "The weight table in original units (score points per 10 percentage points of "
        "utilization, per year of age, per late payment) and "
        "`credit_weights.png`: the weights shrink as $\\lambda$ grows, and the training error "
        "rises."
    ),
)


def section(m: Measured) -> str:
    """The whole section body: the setup, then one part per question."""
    md = [
        LEAD,
        *_setup(m),
        *_settings(m),
        *_weights(m),
        *_lambda_effect(m),
        *_persons(m),
        *_gradient_checks(m),
    ]
    return "\n\n".join(md)


def _setup(m: Measured) -> list[str]:
    """The data, the standardization and the penalty."""
    mu = m.mu
    sigma = m.sigma
    md: list[str] = []
    md.append(
        "The chapter's five people (utilization as a fraction, age in years, number of late "
        "payments; score as target) are standardized with `handgrad.data.Standardizer` "
        "(means "
        + ", ".join(f"{v:.3g}" for v in mu)
        + "; standard deviations "
        + ", ".join(f"{s:.3g}" for s in sigma)
        + "), and a `Linear(3, 1)` is trained by full-batch gradient descent on MSE + λ‖W‖² "
        "(`L2Penalty(lam, convention='full')`: the gradient gains $2\\lambda W$, the bias is not "
        f"penalized) for λ ∈ {{{', '.join(f'{lam:g}' for lam in LAMBDAS)}}}."
    )
    return md


def _settings(m: Measured) -> list[str]:
    """Does the textbook setting, lr 0.01 x 1,000 epochs, converge?"""
    corr_eig = m.corr_eig
    results = m.results
    md: list[str] = []
    md.append("### Does the textbook setting, lr 0.01 × 1,000 epochs, converge?")
    md.append(
        md_table(
            [
                "λ",
                "Hessian eigenvalues",
                "2/λ_max",
                "largest gap to the exact solution, course settings",
            ],
            [
                [
                    k,
                    ", ".join(f"{e:.3g}" for e in r["hessian_eigenvalues"]),
                    f"{r['lr_limit']:.3f}",
                    fmt(r["lab_vs_closed_form"]),
                ]
                for k, r in results.items()
            ],
        )  # fmt: skip
    )
    worst_lab = max(r["lab_vs_closed_form"] for r in results.values())
    epoch_list = ", ".join(f"{r['epochs']:,} for λ = {k}" for k, r in results.items())
    r0 = results["0"]
    md.append(
        f"The features are strongly correlated (the eigenvalues of their correlation matrix "
        f"are {', '.join(f'{e:.3g}' for e in corr_eig)}), so the loss is a long, narrow "
        f"valley: its Hessian's smallest eigenvalue ({r0['hessian_eigenvalues'][0]:.3g} at "
        f"λ = 0) sets how slowly gradient descent crawls along it. At lr {LAB_LR:g} the error "
        f"in that direction shrinks by 1 − {LAB_LR:g}·{r0['hessian_eigenvalues'][0]:.3g} "
        f"per step, so after {LAB_EPOCHS:,} epochs the weights are still up to "
        f"{fmt(worst_lab)} score points per standard deviation from the exact minimizer "
        "(largest for small λ; the bias, whose curvature is 2, converges). Yet the loss is "
        f"only {fmt(r0['lab_final_loss'] - r0['final_loss'])} above its minimum at λ = 0: along "
        "the valley floor very different weights fit almost equally well. "
        + (
            "So the textbook settings do not converge for every λ, "
            if worst_lab > 0.01
            else "The textbook settings converge, "
        )
        + f"and we train with lr {LR:g} instead, below every 2/λ_max "
        f"(smallest {min(r['lr_limit'] for r in results.values()):.3f}), for as many epochs as "
        f"the slowest direction needs to shrink its error by {TARGET_REDUCTION:g} "
        f"({epoch_list}). "
        "The result matches the closed-form ridge solution to "
        f"{fmt(max(r['gd_vs_closed_form'] for r in results.values()))} "
        "(figure `credit_loss.png`)."
    )
    return md


def _weights(m: Measured) -> list[str]:
    """The learned weights, their ranking and their signs."""
    results = m.results
    md: list[str] = []
    md.append("### The learned weights")
    rows = []
    for k, r in results.items():
        for j, name in enumerate(FEATURES):
            w = per_step(r["W_orig"])[j]
            rows.append([k, name, f"{r['W_std'][j]:+.2f}", f"{w:+.3f} points {UNITS[j]}"])
        rows.append([k, "bias", f"{r['b_std']:.2f}", f"{r['b_orig']:.2f} (all features at 0)"])
    md.append(md_table(["λ", "feature", "weight, standardized", "weight, original units"], rows))
    rank_text = []
    for k, r in results.items():
        parts = []
        for name in r["ranking"]:
            j = FEATURES.index(name)
            w = r["W_std"][j]
            parts.append(f"{name} ({'+' if w >= 0 else '−'}{abs(w):.1f})")
        rank_text.append(f"λ = {k}: " + " > ".join(parts))
    same = len({tuple(r["ranking"]) for r in results.values()}) == 1
    md.append(
        "Ranking by |weight| on standardized features (the only scale on which the three "
        "are comparable: one standard deviation of each):\n\n"
        + "\n".join(f"- {t}" for t in rank_text)
    )
    signs = results["0"]["W_std"]
    direction = {name: ("raises" if signs[j] > 0 else "lowers") for j, name in enumerate(FEATURES)}
    md.append(
        f"Signs: more utilization {direction['utilization']} the predicted score, more age "
        f"{direction['age']} it, more late payments {direction['late_payments']} it"
        + (
            " — the directions a credit analyst would expect."
            if direction["utilization"] == "lowers"
            and direction["age"] == "raises"
            and direction["late_payments"] == "lowers"
            else "."
        )
        + (
            " The ranking is the same for every λ."
            if same
            else " The ranking changes with λ: with five people and three strongly correlated "
            "features, the data cannot tell the features apart well, and the penalty decides "
            "how the shared effect is split among them. The magnitudes are weak evidence; "
            "the signs are the robust part."
        )
    )
    return md


def _lambda_effect(m: Measured) -> list[str]:
    """What increasing lambda does to the weights and the errors."""
    results = m.results
    path_lams = m.path_lams
    path_loo = m.path_loo
    loo_zero = m.loo_zero
    md: list[str] = []
    md.append("### What increasing λ does")
    md.append(
        md_table(
            ["λ", "‖W‖ (standardized)", "train MSE", "leave-one-out MSE"],
            [
                [k, f"{r['weight_norm']:.2f}", fmt(r["train_mse"]), fmt(r["loo_mse"])]
                for k, r in results.items()
            ],
        )  # fmt: skip
    )
    norms = [r["weight_norm"] for r in results.values()]
    mses = [r["train_mse"] for r in results.values()]
    loos = [r["loo_mse"] for r in results.values()]
    best_path = float(path_lams[np.argmin(path_loo)])
    md.append(
        (
            "Larger λ shrinks the weights (‖W‖ "
            + " → ".join(f"{v:.1f}" for v in norms)
            + ") and raises the training error ("
            + " → ".join(fmt(v) for v in mses)
            + "): more bias. "
            if all(a >= b for a, b in zip(norms, norms[1:]))
            else "‖W‖ did not shrink monotonically with λ here. "
        )
        + f"With 4 parameters for 5 people the unpenalized fit has little data per "
        f"parameter (train MSE {fmt(mses[0])}, i.e. {math.sqrt(mses[0]):.1f} points RMS), "
        "which is the overfitting risk: weights tuned to these five rows. Leave-one-out "
        f"error, which refits on four people and predicts the fifth, measures it: "
        + " → ".join(fmt(v) for v in loos)
        + f" over the three λ; along the ridge path (figure `credit_weights.png`) it is "
        f"lowest at λ ≈ {best_path:.3g} ({fmt(path_loo.min())} vs {fmt(loo_zero)} at λ = 0). "
        + (
            "So a moderate penalty trades a little bias for less variance and predicts new "
            "people better."
            if path_loo.min() < loo_zero * 0.95
            else "On these five people the penalty barely changes the out-of-sample error."
        )
    )
    return md


def _persons(m: Measured) -> list[str]:
    """Two people who differ only in age, by the model and by hand."""
    results = m.results
    md: list[str] = []
    md.append("### Two people: 21 and 65 years old")
    prow = []
    for k, r in results.items():
        pa, pb = r["persons"]["A"], r["persons"]["B"]
        prow.append(
            [k, f"{pa['model']:.2f}", f"{pa['by_hand']:.2f}", f"{pb['model']:.2f}",
             f"{pb['by_hand']:.2f}", f"{pb['model'] - pa['model']:+.2f}"]
        )  # fmt: skip
    md.append(
        md_table(
            [
                "λ",
                "A [0.30, 21, 0] model",
                "A by hand",
                "B [0.30, 65, 0] model",
                "B by hand",
                "B − A",
            ],
            prow,
        )
    )
    agree = max(
        abs(p["model"] - p["by_hand"]) for r in results.values() for p in r["persons"].values()
    )
    r1 = results[f"{LAMBDAS[1]:g}"]
    age_w = r1["W_orig"][1]
    diff = r1["persons"]["B"]["model"] - r1["persons"]["A"]["model"]
    md.append(
        "'Model' standardizes the raw features and runs the layer; 'by hand' is "
        "W_orig · x + b_orig with the original-unit weights from the table above, e.g. for "
        f"λ = {LAMBDAS[1]:g}: {r1['b_orig']:.2f} "
        + " ".join(
            f"{'+' if w >= 0 else '−'} {abs(w):.3f}·{v:g}"
            for w, v in zip(r1["W_orig"], PERSONS["A"])
        )
        + f" = {r1['persons']['A']['by_hand']:.2f} for A. The two agree to {agree:.1e} "
        "points"
        + (", so the unstandardized weights are the model itself." if agree < 1e-9 else ".")
        + f" The people differ only in age (44 years), so B − A = 44 × {age_w:+.3f} = "
        f"{diff:+.2f} points at λ = {LAMBDAS[1]:g}: "
        + (
            "the model rewards age, as in its training data, where the older people had "
            "the higher scores."
            if diff > 0
            else "the model penalizes age."
        )
        + f" Caution: the training ages span {X_RAW[:, 1].min():.0f}–"
        f"{X_RAW[:, 1].max():.0f}, so both 21 and 65 are extrapolations; a linear model "
        "keeps adding the same points per year forever, and in the training data age moves "
        "together with utilization and late payments, so the model cannot separate 'older' "
        "from 'fewer late payments'."
    )
    return md


def _gradient_checks(m: Measured) -> list[str]:
    """The L2 gradient, checked two ways."""
    checks = m.checks
    md: list[str] = []
    md.append("### Checking the L2 gradient")
    md.append(
        f"A quick check on a random batch (5 rows, $\\lambda = {checks['lam']:g}$): the "
        "gradient with the penalty minus the gradient without it should be exactly "
        f"$2\\lambda W$; the largest difference is {checks['mini_check_max_abs_error']:.1e}. "
        "A finite-difference check of the total loss "
        "$\\mathrm{MSE} + \\lambda \\lVert W \\rVert^2$ with respect to $W$ and $b$ gives a "
        f"largest relative error of {checks['fd_max_rel_error']:.1e} ("
        + ("passed" if checks["fd_passed"] else "FAILED")
        + ")."
    )
    return md
