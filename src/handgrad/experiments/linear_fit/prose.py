"""Chapter 1's section, written from the measured numbers."""

from __future__ import annotations

import numpy as np

from ..base import fmt, lead, md_table
from .measure import (
    COMPARED_LRS,
    LR,
    N_POINTS,
    NEAR_ZERO_HALF_WIDTH,
    NOISE_STD,
    RATE_STEPS,
    STEPS,
    TRUE_B,
    TRUE_W,
    Measured,
    mse,
)

LEAD = lead(
    "How does gradient descent fit a line, why does the loss go down at every step, "
    "and what goes wrong with a much larger learning rate?",
    "The table of what the fit recovered, then `linear_fit_mse.png`: the loss per step "
    "for three learning rates, one below, one between and one above the two limits "
    "the curvature predicts.",
)


def section(m: Measured, seed: int) -> str:
    """The whole section body: the setup, then one part per question."""
    parts = [
        LEAD,
        *_setup(m, seed),
        "### What the fit recovered",
        *_recovered(m),
        "### Why the MSE decreases",
        *_why_decreases(m),
        "### A much larger learning rate",
        *_larger_lr(m),
        "### If x were all near zero: w or b?",
        *_near_zero(m),
    ]
    return "\n\n".join(parts)


def _gap(x: float) -> str:
    return "0 (to round-off)" if x < 1e-12 else fmt(x)


def _setup(m: Measured, seed: int) -> list[str]:
    return [
        f"We drew the chapter's data — {N_POINTS} points on an even grid of [-2, 2], "
        f"$y = {TRUE_W}x - {abs(TRUE_B)} + {NOISE_STD}\\,\\varepsilon$ with standard normal "
        f"noise $\\varepsilon$ — from a seeded Generator (seed {seed}) and ran the chapter's loop: "
        f"$w, b$ drawn from $\\mathcal{{N}}(0, 1)$ (here $w = {m.w0:.3f}$, $b = {m.b0:.3f}$), the "
        "mean squared error $L = \\frac{1}{N}\\sum_n e_n^2$ of the errors $e_n = w x_n + b - y_n$, "
        "its gradients",
        "$$\\frac{\\partial L}{\\partial w} = \\frac{2}{N}\\sum_n e_n x_n, \\qquad "
        "\\frac{\\partial L}{\\partial b} = \\frac{2}{N}\\sum_n e_n,$$",
        f"and {STEPS} steps of gradient descent $\\theta \\leftarrow \\theta - \\eta\\, "
        f"\\nabla L$ with learning rate $\\eta = {LR:g}$ (written lr below).",
    ]


def _recovered(m: Measured) -> list[str]:
    w_gd, b_gd, w_ls, b_ls = m.w_gd, m.b_gd, m.w_ls, m.b_ls
    noise_mse = fmt(np.mean(m.noise**2))
    table = md_table(
        ["", "w", "b", "training MSE"],
        [
            ["truth", fmt(TRUE_W, 4), fmt(TRUE_B, 4), f"{noise_mse} (noise only)"],
            ["gradient descent", fmt(w_gd, 4), fmt(b_gd, 4), fmt(mse(m.x, m.y, w_gd, b_gd), 4)],
            ["least squares (exact minimizer)", fmt(w_ls, 4), fmt(b_ls, 4), fmt(m.loss_min, 4)],
        ],
    )
    gd_gap = max(abs(w_gd - w_ls), abs(b_gd - b_ls))
    return [
        table,
        f"Gradient descent ends {_gap(gd_gap)} from the exact least-squares solution, which is "
        f"itself {fmt(abs(w_ls - TRUE_W))} (w) and {fmt(abs(b_ls - TRUE_B))} (b) from the true "
        "line: what remains is the noise in this particular sample, not the optimizer "
        "(`linear_fit_data.png`).",
    ]


def _why_decreases(m: Measured) -> list[str]:
    c, increases = m.curvature, m.increases
    H, lam_min, lam_max = c.H, c.lam_min, c.lam_max
    return [
        f"The loss fell at {STEPS - 1 - increases} of the {STEPS - 1} step-to-step "
        f"comparisons{' (it never rose)' if increases == 0 else f' and rose at {increases}'}. "
        "Each step moves (w, b) against the gradient, the direction in which the MSE falls "
        "fastest; for a quadratic the change is exactly predictable. The MSE's Hessian",
        "$$H = 2\\,\\mathbb{E}\\left[\\begin{matrix} x^2 & x \\\\ x & 1 \\end{matrix}\\right] = "
        f"\\left[\\begin{{matrix}} {H[0, 0]:.3f} & {H[0, 1]:.3f} \\\\ "
        f"{H[1, 0]:.3f} & {H[1, 1]:.3f} \\end{{matrix}}\\right]$$",
        f"has eigenvalues $\\lambda_\\min = {lam_min:.3f}$ and $\\lambda_\\max = {lam_max:.3f}$, "
        "so each step multiplies the error along each eigenvector by $1 - \\eta\\lambda$. With "
        f"lr = {LR:g} those factors are {1 - LR * lam_max:.3f} and {1 - LR * lam_min:.3f}: "
        + (
            "both in (0, 1), so the error shrinks without changing sign and the loss "
            "falls monotonically."
            if 0 < 1 - LR * lam_max < 1 and 0 < 1 - LR * lam_min < 1
            else "not both in (0, 1), so the descent is not monotone."
        ),
    ]


def _compared_table(m: Measured) -> str:
    rows = []
    for lr in COMPARED_LRS:
        beh = m.behaviours[f"{lr:g}"]
        rows.append(
            [
                f"{lr:g}",
                f"{lr / m.curvature.lr_limit:.2f}",
                fmt(beh["predicted_factor_top"]),
                fmt(beh["measured_factor_top"]),
                beh["kind"]
                + (f" (loss > 1e8 at step {beh['diverged_at_step']})" if beh["diverged"] else ""),
                fmt(beh["final_loss"]),
                "never" if beh["steps_to_1pct_of_min"] is None else beh["steps_to_1pct_of_min"],
            ]
        )
    headers = [
        "lr",
        "lr / limit",
        "predicted factor",
        "measured factor",
        "behaviour",
        "final MSE",
        "steps to within 1% of min MSE",
    ]
    return md_table(headers, rows)


def _compared_sentence(lr: float, beh: dict, lr_limit: float) -> str:
    """What one of the compared learning rates did, measured."""
    if beh["diverged"]:
        return (
            f"at lr {lr:g} (above the limit {lr_limit:.3f}) every step multiplied the "
            f"error by about {beh['measured_factor_top']:.2f}, and the loss passed 1e8 "
            f"after {beh['diverged_at_step']} steps"
        )
    if beh["kind"].startswith("oscillating"):
        return (
            f"at lr {lr:g} the error along the steep direction flipped sign "
            f"{beh['sign_flip_fraction']:.0%} of the time (overshooting the minimum), yet "
            f"shrank by |{beh['measured_factor_top']:.2f}| per step, so it converged"
        )
    return (
        f"at lr {lr:g} the error shrank monotonically by about "
        f"{beh['measured_factor_top']:.3f} per step"
    )


def _sweep_paragraph(m: Measured) -> list[str]:
    s, lr_limit = m.sweep, m.curvature.lr_limit
    if s.first_bad is None or s.last_good is None:
        return []
    return [
        f"A sweep of {s.lrs.size} learning rates between {s.lrs[0]:.2f} and "
        f"{s.lrs[-1]:.2f} ({s.steps} steps each) converged up to lr = "
        f"{s.last_good:.3f} and diverged (the error grew) from lr = {s.first_bad:.3f} on; "
        "the prediction "
        f"lr < {lr_limit:.3f} classified {s.agree} of the {s.lrs.size} runs correctly. "
        f"The per-step shrink factor measured over the first {RATE_STEPS} steps follows "
        "the predicted $\\max_\\lambda \\lvert 1 - \\eta\\lambda \\rvert$ "
        "(`linear_fit_lr_sweep.png`; the largest gap, "
        f"{np.max(np.abs(s.measured_rate - s.theory_rate)):.2f}, is at small learning rates, "
        "where the faster of the two directions still dominates the first steps)."
    ]


def _larger_lr_conclusion(m: Measured) -> str:
    lam_max, lr_limit = m.curvature.lam_max, m.curvature.lr_limit
    oscillating = [lr for lr in COMPARED_LRS if m.behaviours[f"{lr:g}"]["kind"].startswith("osc")]
    diverging = [lr for lr in COMPARED_LRS if m.behaviours[f"{lr:g}"]["diverged"]]
    if oscillating and diverging:
        return (
            "So a much larger learning rate first makes the iterates overshoot: above "
            f"$1/\\lambda_\\max = {1 / lam_max:.3f}$ the factor $1 - \\eta\\lambda_\\max$ turns "
            f"negative and the error alternates in sign (lr {oscillating[0]:g}), which still "
            "converges while $\\lvert 1 - \\eta\\lambda_\\max \\rvert < 1$; beyond "
            f"$2/\\lambda_\\max = {lr_limit:.3f}$ every step makes the error larger and the loss "
            f"explodes (lr {diverging[0]:g})."
        )
    return (
        f"No learning rate in the sweep up to {m.sweep.lrs[-1]:.2f} diverged within "
        f"{m.sweep.steps} steps (the prediction says divergence starts at {lr_limit:.3f})."
    )


def _larger_lr(m: Measured) -> list[str]:
    lr_limit = m.curvature.lr_limit
    sentences = [_compared_sentence(lr, m.behaviours[f"{lr:g}"], lr_limit) for lr in COMPARED_LRS]
    return [
        "Convergence needs $\\lvert 1 - \\eta\\lambda \\rvert < 1$ for both eigenvalues, i.e. "
        f"$\\eta < 2/\\lambda_\\max = {lr_limit:.3f}$ on this data. We reran the same start "
        "with three learning rates; "
        "the 'factor' columns compare the predicted per-step factor along the top "
        "eigenvector with the one measured from the trajectory (median ratio of "
        "successive errors).",
        _compared_table(m),
        "Measured: " + "; ".join(sentences) + " (`linear_fit_mse.png`).",
        *_sweep_paragraph(m),
        _larger_lr_conclusion(m),
    ]


def _near_zero_table(nz: dict) -> str:
    def row(p: str) -> list:
        return [
            p,
            fmt(nz[f"curvature_{p}"]),
            fmt(nz[f"per_step_factor_{p}"], 5),
            f"{fmt(nz[f'{p}_optimization_gap_start'])} → {fmt(nz[f'{p}_optimization_gap_end'])}",
            nz[f"steps_{p}_within_1pct_of_ls"] or f"not within {STEPS}",
            fmt(nz[f"{p}_standard_error"]),
        ]

    headers = [
        "",
        "curvature (diag. of H)",
        "factor $1 - \\eta H_{ii}$",
        "gap to least squares: start → end",
        "steps to within 1%",
        "standard error of the estimate",
    ]
    return md_table(headers, [row("w"), row("b")])


def _near_zero_verdict(m: Measured, easier: str) -> str:
    nz = m.near.metrics
    wide_steps_w, wide_steps_b = m.wide_steps
    return f"**{easier} is easier to learn.** " + (
        "The gradient for $w$ is $\\frac{2}{N}\\sum_n e_n x_n$, and with "
        f"$\\lvert x \\rvert \\le {NEAR_ZERO_HALF_WIDTH:g}$ it "
        "is tiny: the curvature of the loss along w is "
        f"{nz['curvature_w'] / nz['curvature_b']:.1e} "
        f"of that along b, so each step removes only "
        f"{1 - nz['per_step_factor_w']:.2e} of w's error against "
        f"{1 - nz['per_step_factor_b']:.2e} of b's. After {STEPS} steps b sits "
        f"{_gap(nz['b_optimization_gap_end'])} from its optimum while w is still "
        f"{fmt(nz['w_optimization_gap_end'])} away. The data also say little about w: "
        f"its least-squares estimate has standard error {fmt(nz['w_standard_error'])} "
        f"against {fmt(nz['b_standard_error'])} for b, because a slope is only visible "
        "over a spread of x, while b is the average height the data show directly. "
        "On the wide grid [-2, 2] both reach 1% of their optimum "
        f"(w after {wide_steps_w} steps, b after {wide_steps_b}); see "
        "`linear_fit_near_zero.png`."
        if easier == "b"
        else f"Here w ended closer to its optimum ({fmt(nz['w_optimization_gap_end'])}) "
        f"than b ({fmt(nz['b_optimization_gap_end'])}), against the curvatures "
        f"{fmt(nz['curvature_w'])} (w) and {fmt(nz['curvature_b'])} (b)."
    )


def _near_zero(m: Measured) -> list[str]:
    nz = m.near.metrics
    easier = "b" if nz["b_optimization_gap_end"] < nz["w_optimization_gap_end"] else "w"
    harder = "w" if easier == "b" else "b"
    parts = [
        f"We redrew the data with x on [-{NEAR_ZERO_HALF_WIDTH:g}, {NEAR_ZERO_HALF_WIDTH:g}] "
        f"(same line, same noise level) and ran the same {STEPS} steps at lr {LR:g} from the "
        "same start.",
        _near_zero_table(nz),
        _near_zero_verdict(m, easier),
    ]
    if harder == "w" and nz["w_error_vs_truth"] > nz["b_error_vs_truth"]:
        parts.append(
            f"Against the truth: w ends {fmt(nz['w_error_vs_truth'])} from 2.5 and b "
            f"{fmt(nz['b_error_vs_truth'])} from -0.7."
        )
    return parts
