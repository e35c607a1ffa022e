"""Chapter 1: fit y = w x + b by gradient descent, and find where the step size breaks it.

The data follow the course's recipe, drawn from a Generator: 200 points on a grid of [-2, 2],
y = 2.5 x - 0.7 + 0.25 * noise. The loss is the mean squared error

    L(w, b) = mean_n (w x_n + b - y_n)^2,   dL/dw = 2 mean(err x),  dL/db = 2 mean(err).

L is a quadratic in (w, b) with constant Hessian  H = 2 E[[x^2, x], [x, 1]], so gradient
descent contracts the error along each eigenvector of H by the factor (1 - lr * lambda) per
step: it converges iff |1 - lr * lambda| < 1 for both eigenvalues, i.e. lr < 2 / lambda_max.
The experiment measures all of this on the data and compares it with the prediction.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..chapters import chapter
from .base import ExperimentResult, Figure, fmt, lead, md_table, tagline

NAME = "linear-fit"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

TRUE_W, TRUE_B = 2.5, -0.7
N_POINTS = 200
NOISE_STD = 0.25
LR = 0.05  # the course's learning rate
STEPS = 800  # the course's number of steps
COMPARED_LRS = (0.05, 0.5, 1.1)
NEAR_ZERO_HALF_WIDTH = 0.05  # x on [-0.05, 0.05] for the "x near zero" question
RATE_STEPS = 10  # steps over which the sweep measures the per-step factor
BLOWUP = 1e8  # a loss this large (or non-finite) counts as diverged; the run stops there


# --- data and closed forms ------------------------------------------------------------------


def make_line_data(
    rng: np.random.Generator,
    n: int = N_POINTS,
    low: float = -2.0,
    high: float = 2.0,
    noise_std: float = NOISE_STD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course's data: x on an even grid of [low, high], y = 2.5 x - 0.7 + noise.

    Returns x (n,), y (n,) and the noise (n,) that was added.
    """
    x = np.linspace(low, high, n)
    noise = noise_std * rng.standard_normal(n)
    return x, TRUE_W * x + TRUE_B + noise, noise


def hessian(x: np.ndarray) -> np.ndarray:
    """Hessian of the MSE in (w, b): 2 [[E x^2, E x], [E x, 1]] (2, 2), independent of w, b, y."""
    return 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The exact minimizer of the MSE (where gradient descent should end up)."""
    A = np.column_stack([x, np.ones_like(x)])
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(w), float(b)


def mse(x: np.ndarray, y: np.ndarray, w, b) -> np.ndarray:
    """MSE for one (w, b) or for arrays of them (broadcast over leading axes)."""
    w, b = np.asarray(w, float), np.asarray(b, float)
    err = w[..., None] * x + b[..., None] - y
    return np.mean(err * err, axis=-1)


# --- gradient descent -----------------------------------------------------------------------


def gradient_descent(x: np.ndarray, y: np.ndarray, w0: float, b0: float, lr, steps: int) -> dict:
    """The course's loop, for one learning rate or an array of them at once.

    lr: scalar or (L,). Returns w, b of shape (steps + 1, L) (the values before each step
    and after the last), loss (steps, L) measured before each update, and diverged_at (L,)
    = the step at which the loss exceeded ``BLOWUP`` (-1 if never). A run that diverges is
    frozen there: its later entries are NaN.
    """
    lr = np.atleast_1d(np.asarray(lr, dtype=float))
    L = lr.shape[0]
    w = np.full(L, float(w0))
    b = np.full(L, float(b0))
    ws, bs = np.full((steps + 1, L), np.nan), np.full((steps + 1, L), np.nan)
    losses = np.full((steps, L), np.nan)
    alive = np.ones(L, bool)
    diverged_at = np.full(L, -1)
    ws[0], bs[0] = w, b
    for t in range(steps):
        err = w[:, None] * x + b[:, None] - y  # (L, n) residuals
        loss = np.mean(err * err, axis=1)
        blown = alive & ~(loss < BLOWUP)  # also catches NaN / inf
        diverged_at[blown] = t
        alive &= ~blown
        if not alive.any():
            break
        losses[t, alive] = loss[alive]
        dw = 2.0 * np.mean(err * x, axis=1)
        db = 2.0 * np.mean(err, axis=1)
        w = np.where(alive, w - lr * dw, w)
        b = np.where(alive, b - lr * db, b)
        ws[t + 1, alive], bs[t + 1, alive] = w[alive], b[alive]
    return {"w": ws, "b": bs, "loss": losses, "diverged_at": diverged_at, "lr": lr}


def _increases(loss: np.ndarray) -> int:
    """Steps at which the loss rose by more than round-off (1e-12 relative)."""
    return int(np.sum(np.diff(loss) > 1e-12 * np.abs(loss[1:])))


def _first_step_within(values: np.ndarray, target: float, rel: float) -> int | None:
    """First index where |values - target| <= rel * |target| and stays there; None if never."""
    close = np.abs(values - target) <= rel * abs(target)
    if not close[-1] or np.isnan(values[-1]):
        return None
    far = np.flatnonzero(~close)
    return int(far[-1] + 1) if far.size else 0


def _behaviour(run: dict, k: int, w_star: float, b_star: float, v_top: np.ndarray) -> dict:
    """Classify run ``k``: diverged / oscillating / monotone, with the measured contraction."""
    ws, bs = run["w"][:, k], run["b"][:, k]
    ok = ~np.isnan(ws)
    e = np.column_stack([ws[ok] - w_star, bs[ok] - b_star]) @ v_top  # error along top eigvec
    diverged = bool(run["diverged_at"][k] >= 0)
    # ratios over the first steps, before the error reaches round-off
    usable = np.flatnonzero(np.abs(e[:-1]) > 1e-9 * max(1.0, abs(e[0])))[:20]
    ratios = e[usable + 1] / e[usable] if usable.size else np.array([np.nan])
    flips = np.mean(np.sign(ratios) < 0) if usable.size else float("nan")
    loss = run["loss"][:, k]
    loss = loss[~np.isnan(loss)]
    increases = _increases(loss)
    if diverged:
        kind = "diverged"
    elif flips > 0.5:
        kind = "oscillating, converging"
    else:
        kind = "monotone, converging"
    return {
        "kind": kind,
        "diverged": diverged,
        "diverged_at_step": int(run["diverged_at"][k]) if diverged else None,
        "measured_factor_top": float(np.median(ratios)),
        "sign_flip_fraction": float(flips),
        "loss_increases": increases,
        "steps_run": int(loss.size),
        "final_loss": float(loss[-1]),
    }


# --- formatting -----------------------------------------------------------------------------


def _gap(x: float) -> str:
    return "0 (to round-off)" if x < 1e-12 else fmt(x)


# --- the experiment -------------------------------------------------------------------------


def run(seed: int = 0, out_dir: Path = Path("runs/linear-fit"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    x, y, noise = make_line_data(rng)
    w0, b0 = (float(v) for v in rng.standard_normal(2))  # the course's w, b = randn(), randn()
    w_ls, b_ls = least_squares(x, y)
    loss_min = float(mse(x, y, w_ls, b_ls))

    # 1. the course's run
    main = gradient_descent(x, y, w0, b0, LR, STEPS)
    w_gd, b_gd = float(main["w"][-1, 0]), float(main["b"][-1, 0])
    main_loss = main["loss"][:, 0]
    increases = _increases(main_loss)

    # 2. the Hessian and the stability limit
    H = hessian(x)
    eigvals, eigvecs = np.linalg.eigh(H)
    lam_min, lam_max = float(eigvals[0]), float(eigvals[1])
    v_top = eigvecs[:, 1]
    lr_limit = 2.0 / lam_max

    # 3. three learning rates, side by side
    compared = gradient_descent(x, y, w0, b0, COMPARED_LRS, STEPS)
    rows = []
    behaviours = {}
    for k, lr in enumerate(COMPARED_LRS):
        beh = _behaviour(compared, k, w_ls, b_ls, v_top)
        beh["predicted_factor_top"] = 1.0 - lr * lam_max
        beh["predicted_factor_bottom"] = 1.0 - lr * lam_min
        losses = compared["loss"][:, k]
        beh["steps_to_1pct_of_min"] = _first_step_within(losses[~np.isnan(losses)], loss_min, 0.01)
        behaviours[f"{lr:g}"] = beh
        rows.append(
            [
                f"{lr:g}",
                f"{lr / lr_limit:.2f}",
                fmt(beh["predicted_factor_top"]),
                fmt(beh["measured_factor_top"]),
                beh["kind"]
                + (f" (loss > 1e8 at step {beh['diverged_at_step']})" if beh["diverged"] else ""),
                fmt(beh["final_loss"]),
                "never" if beh["steps_to_1pct_of_min"] is None else beh["steps_to_1pct_of_min"],
            ]
        )

    # 4. a sweep over learning rates: where does it stop converging?
    sweep_lrs = np.linspace(0.02, 1.2, 60 if quick else 237)
    sweep_steps = 200
    sweep = gradient_descent(x, y, w0, b0, sweep_lrs, sweep_steps)
    # diverging = blew up, or ended farther from the optimum than it started (just above the
    # limit the growth factor is barely above 1, too slow to pass BLOWUP in a few steps)
    dist = np.hypot(sweep["w"] - w_ls, sweep["b"] - b_ls)
    sweep_diverged = (sweep["diverged_at"] >= 0) | (dist[-1] > dist[0])
    # measured per-step factor over the first steps (before round-off, before any blow-up)
    steps = np.minimum(RATE_STEPS, np.where(sweep["diverged_at"] >= 0, sweep["diverged_at"], 10**9))
    steps = np.maximum(steps, 1)
    dist_k = dist[steps, np.arange(sweep_lrs.size)]
    measured_rate = (dist_k / dist[0]) ** (1.0 / steps)
    grows = np.abs(1.0 - sweep_lrs * lam_max) > 1.0
    first_bad = float(sweep_lrs[np.argmax(sweep_diverged)]) if sweep_diverged.any() else None
    last_good = float(sweep_lrs[~sweep_diverged].max()) if (~sweep_diverged).any() else None
    agree = int(np.sum(grows == sweep_diverged))
    theory_rate = np.maximum(np.abs(1 - sweep_lrs * lam_min), np.abs(1 - sweep_lrs * lam_max))

    # 5. x near zero: which of w, b is easier to learn?
    xz, yz, noise_z = make_line_data(rng, low=-NEAR_ZERO_HALF_WIDTH, high=NEAR_ZERO_HALF_WIDTH)
    wz_ls, bz_ls = least_squares(xz, yz)
    Hz = hessian(xz)
    near = gradient_descent(xz, yz, w0, b0, LR, STEPS)
    wz, bz = near["w"][:, 0], near["b"][:, 0]
    sigma_hat = float(np.sqrt(np.mean(noise_z**2)))
    se_w = sigma_hat / math.sqrt(float(np.sum((xz - xz.mean()) ** 2)))
    se_b = sigma_hat * math.sqrt(1.0 / xz.size + xz.mean() ** 2 / np.sum((xz - xz.mean()) ** 2))
    near_metrics: dict[str, Any] = {
        "x_range": [-NEAR_ZERO_HALF_WIDTH, NEAR_ZERO_HALF_WIDTH],
        "curvature_w": float(Hz[0, 0]),
        "curvature_b": float(Hz[1, 1]),
        "per_step_factor_w": 1.0 - LR * float(Hz[0, 0]),
        "per_step_factor_b": 1.0 - LR * float(Hz[1, 1]),
        "w_final": float(wz[-1]),
        "b_final": float(bz[-1]),
        "w_least_squares": wz_ls,
        "b_least_squares": bz_ls,
        "w_optimization_gap_start": abs(w0 - wz_ls),
        "w_optimization_gap_end": abs(float(wz[-1]) - wz_ls),
        "b_optimization_gap_start": abs(b0 - bz_ls),
        "b_optimization_gap_end": abs(float(bz[-1]) - bz_ls),
        "w_error_vs_truth": abs(float(wz[-1]) - TRUE_W),
        "b_error_vs_truth": abs(float(bz[-1]) - TRUE_B),
        "w_standard_error": se_w,
        "b_standard_error": se_b,
        "steps_w_within_1pct_of_ls": _first_step_within(wz, wz_ls, 0.01),
        "steps_b_within_1pct_of_ls": _first_step_within(bz, bz_ls, 0.01),
    }
    wide_steps_w = _first_step_within(main["w"][:, 0], w_ls, 0.01)
    wide_steps_b = _first_step_within(main["b"][:, 0], b_ls, 0.01)

    # --- figures ----------------------------------------------------------------------------
    figures = []
    fig, ax = plots.new_figure()
    plots.plot_fit(
        ax,
        x,
        y,
        {f"gradient descent (w={w_gd:.3f}, b={b_gd:.3f})": w_gd * x + b_gd},
        truth=TRUE_W * x + TRUE_B,
        title=f"Line fitted by gradient descent (lr {LR:g}, {STEPS} steps)",
        xlabel="x (input, arbitrary units)",
        ylabel="y (target, arbitrary units)",
    )
    path = plots.save_figure(fig, out_dir / "linear_fit_data.png")
    figures.append(
        Figure(path, f"The {N_POINTS} noisy points, the true line y = 2.5x - 0.7 and the fit.")
    )

    fig, (ax, ax2) = plots.new_figure(ncols=2)
    series, excess_series = {}, {}
    for k, lr in enumerate(COMPARED_LRS):
        losses = compared["loss"][:, k]
        losses = losses[~np.isnan(losses)]
        label = f"lr {lr:g} ({behaviours[f'{lr:g}']['kind']})"
        series[label] = losses[:40]
        excess_series[label] = np.maximum(losses - loss_min, 1e-16)[:300]
    plots.plot_curves(
        ax,
        series,
        title="MSE per step, first 40 steps",
        xlabel="gradient-descent step",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    ax.axhline(loss_min, color="k", linestyle=":", linewidth=1, label="least-squares minimum")
    ax.legend()
    plots.plot_curves(
        ax2,
        excess_series,
        title="MSE above the minimum (floor 1e-16 = round-off)",
        xlabel="gradient-descent step",
        ylabel="MSE − min MSE (log scale)",
        logy=True,
    )
    fig.suptitle("Three learning rates from the same start")
    path = plots.save_figure(fig, out_dir / "linear_fit_mse.png")
    figures.append(
        Figure(path, "Training MSE per step; a diverging run is drawn until its loss passes 1e8.")
    )

    fig, ax = plots.new_figure()
    ax.plot(sweep_lrs, theory_rate, "k-", linewidth=1, label="predicted max |1 − lr·λ|")
    ax.plot(
        sweep_lrs[~sweep_diverged], measured_rate[~sweep_diverged], "o", ms=3, label="converged"
    )
    ax.plot(
        sweep_lrs[sweep_diverged], measured_rate[sweep_diverged], "x", color="red", ms=4,
        label="diverging (error grew)",
    )  # fmt: skip
    ax.axhline(1.0, color="gray", linestyle=":", linewidth=1)
    ax.axvline(lr_limit, color="k", linestyle="--", label=f"2 / λ_max = {lr_limit:.3f}")
    ax.set_title("Error shrink factor per step vs learning rate")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("per-step factor of the parameter error")
    ax.grid(True, alpha=0.3)
    ax.legend()
    path = plots.save_figure(fig, out_dir / "linear_fit_lr_sweep.png")
    figures.append(
        Figure(
            path, "Learning-rate sweep: the measured edge of convergence against 2 / λ_max of H."
        )
    )

    fig, ax = plots.new_figure()
    steps_axis = np.arange(STEPS + 1)
    narrow = f"x on [-{NEAR_ZERO_HALF_WIDTH:g}, {NEAR_ZERO_HALF_WIDTH:g}]"
    gaps = {
        "|w - w*|, x on [-2, 2]": np.abs(main["w"][:, 0] - w_ls),
        "|b - b*|, x on [-2, 2]": np.abs(main["b"][:, 0] - b_ls),
        f"|w - w*|, {narrow}": np.abs(wz - wz_ls),
        f"|b - b*|, {narrow}": np.abs(bz - bz_ls),
    }
    plots.plot_curves(
        ax,
        {k: np.maximum(v, 1e-17) for k, v in gaps.items()},
        x=dict.fromkeys(gaps, steps_axis),
        title="Distance to the least-squares (w*, b*) per step",
        xlabel="gradient-descent step",
        ylabel="absolute parameter error (log scale)",
        logy=True,
    )
    path = plots.save_figure(fig, out_dir / "linear_fit_near_zero.png")
    figures.append(
        Figure(path, "How fast w and b approach their least-squares values, wide vs. narrow x.")
    )

    # --- metrics ----------------------------------------------------------------------------
    metrics = {
        "data": {"n": N_POINTS, "x_range": [-2.0, 2.0], "noise_std": NOISE_STD},
        "true": {"w": TRUE_W, "b": TRUE_B},
        "init": {"w": w0, "b": b0},
        "gd": {
            "lr": LR,
            "steps": STEPS,
            "w": w_gd,
            "b": b_gd,
            "final_mse": float(mse(x, y, w_gd, b_gd)),
            "loss_increases": increases,
            "steps_w_within_1pct_of_ls": wide_steps_w,
            "steps_b_within_1pct_of_ls": wide_steps_b,
        },
        "least_squares": {"w": w_ls, "b": b_ls, "mse": loss_min},
        "noise_variance": float(np.mean(noise**2)),
        "hessian": {
            "matrix": H.tolist(),
            "lambda_min": lam_min,
            "lambda_max": lam_max,
            "lr_limit": lr_limit,
        },
        "compared": behaviours,
        "sweep": {
            "steps": sweep_steps,
            "lrs": sweep_lrs.tolist(),
            "diverged": sweep_diverged.tolist(),
            "largest_convergent_lr": last_good,
            "smallest_divergent_lr": first_bad,
            "agreement_with_theory": agree / sweep_lrs.size,
            "measured_factor": measured_rate.tolist(),
            "max_abs_factor_error": float(np.max(np.abs(measured_rate - theory_rate))),
        },
        "near_zero": near_metrics,
    }

    # --- the section ------------------------------------------------------------------------
    md = [
        lead(
            "How does gradient descent fit a line, why does the loss go down at every step, "
            "and what goes wrong with a much larger learning rate?",
            "The table of what the fit recovered, then `linear_fit_mse.png`: the loss per step "
            "for three learning rates, one below, one between and one above the two limits "
            "the curvature predicts.",
        )
    ]
    md.append(
        f"We drew the course's data — {N_POINTS} points on an even grid of [-2, 2], "
        f"$y = {TRUE_W}x - {abs(TRUE_B)} + {NOISE_STD}\\,\\varepsilon$ with standard normal "
        f"noise $\\varepsilon$ — from a seeded Generator (seed {seed}) and ran the course's loop: "
        f"$w, b$ drawn from $\\mathcal{{N}}(0, 1)$ (here $w = {w0:.3f}$, $b = {b0:.3f}$), the mean "
        "squared error $L = \\frac{1}{N}\\sum_n e_n^2$ of the errors $e_n = w x_n + b - y_n$, its "
        "gradients"
    )
    md.append(
        "$$\\frac{\\partial L}{\\partial w} = \\frac{2}{N}\\sum_n e_n x_n, \\qquad "
        "\\frac{\\partial L}{\\partial b} = \\frac{2}{N}\\sum_n e_n,$$"
    )
    md.append(
        f"and {STEPS} steps of gradient descent $\\theta \\leftarrow \\theta - \\eta\\, "
        f"\\nabla L$ with learning rate $\\eta = {LR:g}$ (written lr below)."
    )
    md.append("### What the fit recovered")
    md.append(
        md_table(
            ["", "w", "b", "training MSE"],
            [
                ["truth", fmt(TRUE_W, 4), fmt(TRUE_B, 4), f"{fmt(np.mean(noise**2))} (noise only)"],
                ["gradient descent", fmt(w_gd, 4), fmt(b_gd, 4), fmt(mse(x, y, w_gd, b_gd), 4)],
                ["least squares (exact minimizer)", fmt(w_ls, 4), fmt(b_ls, 4), fmt(loss_min, 4)],
            ],
        )
    )
    gd_gap = max(abs(w_gd - w_ls), abs(b_gd - b_ls))
    md.append(
        f"Gradient descent ends {_gap(gd_gap)} from the exact least-squares solution, which is "
        f"itself {fmt(abs(w_ls - TRUE_W))} (w) and {fmt(abs(b_ls - TRUE_B))} (b) from the true "
        "line: what remains is the noise in this particular sample, not the optimizer "
        "(`linear_fit_data.png`)."
    )
    md.append("### Why the MSE decreases")
    md.append(
        f"The loss fell at {STEPS - 1 - increases} of the {STEPS - 1} step-to-step "
        f"comparisons{' (it never rose)' if increases == 0 else f' and rose at {increases}'}. "
        "Each step moves (w, b) against the gradient, the direction in which the MSE falls "
        "fastest; for a quadratic the change is exactly predictable. The MSE's Hessian"
    )
    md.append(
        "$$H = 2\\,\\mathbb{E}\\left[\\begin{matrix} x^2 & x \\\\ x & 1 \\end{matrix}\\right] = "
        f"\\left[\\begin{{matrix}} {H[0, 0]:.3f} & {H[0, 1]:.3f} \\\\ "
        f"{H[1, 0]:.3f} & {H[1, 1]:.3f} \\end{{matrix}}\\right]$$"
    )
    md.append(
        f"has eigenvalues $\\lambda_\\min = {lam_min:.3f}$ and $\\lambda_\\max = {lam_max:.3f}$, "
        "so each step multiplies the error along each eigenvector by $1 - \\eta\\lambda$. With "
        f"lr = {LR:g} those factors are {1 - LR * lam_max:.3f} and {1 - LR * lam_min:.3f}: "
        + (
            "both in (0, 1), so the error shrinks without changing sign and the loss "
            "falls monotonically."
            if 0 < 1 - LR * lam_max < 1 and 0 < 1 - LR * lam_min < 1
            else "not both in (0, 1), so the descent is not monotone."
        )
    )
    md.append("### A much larger learning rate")
    md.append(
        "Convergence needs $\\lvert 1 - \\eta\\lambda \\rvert < 1$ for both eigenvalues, i.e. "
        f"$\\eta < 2/\\lambda_\\max = {lr_limit:.3f}$ on this data. We reran the same start "
        "with three learning rates; "
        "the 'factor' columns compare the predicted per-step factor along the top "
        "eigenvector with the one measured from the trajectory (median ratio of "
        "successive errors)."
    )
    md.append(
        md_table(
            [
                "lr",
                "lr / limit",
                "predicted factor",
                "measured factor",
                "behaviour",
                "final MSE",
                "steps to within 1% of min MSE",
            ],
            rows,
        )
    )
    sentences = []
    for lr in COMPARED_LRS:
        beh = behaviours[f"{lr:g}"]
        if beh["diverged"]:
            sentences.append(
                f"at lr {lr:g} (above the limit {lr_limit:.3f}) every step multiplied the "
                f"error by about {beh['measured_factor_top']:.2f}, and the loss passed 1e8 "
                f"after {beh['diverged_at_step']} steps"
            )
        elif beh["kind"].startswith("oscillating"):
            sentences.append(
                f"at lr {lr:g} the error along the steep direction flipped sign "
                f"{beh['sign_flip_fraction']:.0%} of the time (overshooting the minimum), yet "
                f"shrank by |{beh['measured_factor_top']:.2f}| per step, so it converged"
            )
        else:
            sentences.append(
                f"at lr {lr:g} the error shrank monotonically by about "
                f"{beh['measured_factor_top']:.3f} per step"
            )
    md.append("Measured: " + "; ".join(sentences) + " (`linear_fit_mse.png`).")
    if first_bad is not None and last_good is not None:
        md.append(
            f"A sweep of {sweep_lrs.size} learning rates between {sweep_lrs[0]:.2f} and "
            f"{sweep_lrs[-1]:.2f} ({sweep_steps} steps each) converged up to lr = "
            f"{last_good:.3f} and diverged (the error grew) from lr = {first_bad:.3f} on; "
            "the prediction "
            f"lr < {lr_limit:.3f} classified {agree} of the {sweep_lrs.size} runs correctly. "
            f"The per-step shrink factor measured over the first {RATE_STEPS} steps follows "
            "the predicted $\\max_\\lambda \\lvert 1 - \\eta\\lambda \\rvert$ "
            "(`linear_fit_lr_sweep.png`; the largest gap, "
            f"{np.max(np.abs(measured_rate - theory_rate)):.2f}, is at small learning rates, "
            "where the faster of the two directions still dominates the first steps)."
        )
    oscillating = [lr for lr in COMPARED_LRS if behaviours[f"{lr:g}"]["kind"].startswith("osc")]
    diverging = [lr for lr in COMPARED_LRS if behaviours[f"{lr:g}"]["diverged"]]
    if oscillating and diverging:
        md.append(
            "So a much larger learning rate first makes the iterates overshoot: above "
            f"$1/\\lambda_\\max = {1 / lam_max:.3f}$ the factor $1 - \\eta\\lambda_\\max$ turns "
            f"negative and the error alternates in sign (lr {oscillating[0]:g}), which still "
            "converges while $\\lvert 1 - \\eta\\lambda_\\max \\rvert < 1$; beyond "
            f"$2/\\lambda_\\max = {lr_limit:.3f}$ every step makes the error larger and the loss "
            f"explodes (lr {diverging[0]:g})."
        )
    else:
        md.append(
            f"No learning rate in the sweep up to {sweep_lrs[-1]:.2f} diverged within "
            f"{sweep_steps} steps (the prediction says divergence starts at {lr_limit:.3f})."
        )
    md.append("### If x were all near zero: w or b?")
    nz = near_metrics
    easier = "b" if nz["b_optimization_gap_end"] < nz["w_optimization_gap_end"] else "w"
    harder = "w" if easier == "b" else "b"
    md.append(
        f"We redrew the data with x on [-{NEAR_ZERO_HALF_WIDTH:g}, {NEAR_ZERO_HALF_WIDTH:g}] "
        f"(same line, same noise level) and ran the same {STEPS} steps at lr {LR:g} from the "
        "same start."
    )
    md.append(
        md_table(
            [
                "",
                "curvature (diag. of H)",
                "factor $1 - \\eta H_{ii}$",
                "gap to least squares: start → end",
                "steps to within 1%",
                "standard error of the estimate",
            ],
            [
                [
                    "w",
                    fmt(nz["curvature_w"]),
                    fmt(nz["per_step_factor_w"], 5),
                    f"{fmt(nz['w_optimization_gap_start'])} → {fmt(nz['w_optimization_gap_end'])}",
                    nz["steps_w_within_1pct_of_ls"] or f"not within {STEPS}",
                    fmt(nz["w_standard_error"]),
                ],
                [
                    "b",
                    fmt(nz["curvature_b"]),
                    fmt(nz["per_step_factor_b"], 5),
                    f"{fmt(nz['b_optimization_gap_start'])} → {fmt(nz['b_optimization_gap_end'])}",
                    nz["steps_b_within_1pct_of_ls"] or f"not within {STEPS}",
                    fmt(nz["b_standard_error"]),
                ],
            ],
        )
    )
    md.append(
        f"**{easier} is easier to learn.** "
        + (
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
    )
    if harder == "w" and nz["w_error_vs_truth"] > nz["b_error_vs_truth"]:
        md.append(
            f"Against the truth: w ends {fmt(nz['w_error_vs_truth'])} from 2.5 and b "
            f"{fmt(nz['b_error_vs_truth'])} from -0.7."
        )

    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join(md), figures)
