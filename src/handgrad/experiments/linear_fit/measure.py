"""Chapter 1's measurements: the course's run, the Hessian, three learning rates, a sweep of
learning rates, and the same fit with x near zero.

L(w, b) = mean_n (w x_n + b - y_n)^2 is a quadratic with constant Hessian
H = 2 E[[x^2, x], [x, 1]], so gradient descent contracts the error along each eigenvector of H
by (1 - lr * lambda) per step; everything here is measured to compare with that prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

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


# --- the experiment's measurements ----------------------------------------------------------


@dataclass
class Curvature:
    """The MSE's Hessian H (2, 2) on the wide data, its eigenvalues, its top eigenvector (2,)
    and the stability limit 2 / lambda_max."""

    H: np.ndarray
    lam_min: float
    lam_max: float
    v_top: np.ndarray
    lr_limit: float


def curvature(x: np.ndarray) -> Curvature:
    H = hessian(x)
    eigvals, eigvecs = np.linalg.eigh(H)
    lam_max = float(eigvals[1])
    return Curvature(H, float(eigvals[0]), lam_max, eigvecs[:, 1], 2.0 / lam_max)


@dataclass
class Sweep:
    """Gradient descent over many learning rates (S,): which diverged, the measured and the
    predicted per-step factor, and where convergence stopped."""

    steps: int
    lrs: np.ndarray
    diverged: np.ndarray
    measured_rate: np.ndarray
    theory_rate: np.ndarray
    first_bad: float | None
    last_good: float | None
    agree: int


def lr_sweep(x, y, w0: float, b0: float, w_ls: float, b_ls: float, c: Curvature, quick: bool):
    """A sweep over learning rates: where does it stop converging?"""
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
    grows = np.abs(1.0 - sweep_lrs * c.lam_max) > 1.0
    first_bad = float(sweep_lrs[np.argmax(sweep_diverged)]) if sweep_diverged.any() else None
    last_good = float(sweep_lrs[~sweep_diverged].max()) if (~sweep_diverged).any() else None
    agree = int(np.sum(grows == sweep_diverged))
    theory_rate = np.maximum(np.abs(1 - sweep_lrs * c.lam_min), np.abs(1 - sweep_lrs * c.lam_max))
    return Sweep(
        sweep_steps, sweep_lrs, sweep_diverged, measured_rate, theory_rate, first_bad, last_good,
        agree,
    )  # fmt: skip


def compare_lrs(run: dict, w_ls: float, b_ls: float, loss_min: float, c: Curvature) -> dict:
    """The behaviour of each of ``COMPARED_LRS`` (keyed by '0.05' etc.) with its predicted
    factors and the steps it took to come within 1% of the minimum MSE."""
    behaviours = {}
    for k, lr in enumerate(COMPARED_LRS):
        beh = _behaviour(run, k, w_ls, b_ls, c.v_top)
        beh["predicted_factor_top"] = 1.0 - lr * c.lam_max
        beh["predicted_factor_bottom"] = 1.0 - lr * c.lam_min
        losses = run["loss"][:, k]
        beh["steps_to_1pct_of_min"] = _first_step_within(losses[~np.isnan(losses)], loss_min, 0.01)
        behaviours[f"{lr:g}"] = beh
    return behaviours


@dataclass
class NearZero:
    """The same fit on x near zero: the trajectories w, b (STEPS + 1,), their least-squares
    values and the metrics."""

    w: np.ndarray
    b: np.ndarray
    w_ls: float
    b_ls: float
    metrics: dict[str, Any]


def near_zero(rng: np.random.Generator, w0: float, b0: float) -> NearZero:
    """x near zero: which of w, b is easier to learn?"""
    xz, yz, noise_z = make_line_data(rng, low=-NEAR_ZERO_HALF_WIDTH, high=NEAR_ZERO_HALF_WIDTH)
    wz_ls, bz_ls = least_squares(xz, yz)
    Hz = hessian(xz)
    near = gradient_descent(xz, yz, w0, b0, LR, STEPS)
    wz, bz = near["w"][:, 0], near["b"][:, 0]
    sigma_hat = float(np.sqrt(np.mean(noise_z**2)))
    se_w = sigma_hat / math.sqrt(float(np.sum((xz - xz.mean()) ** 2)))
    se_b = sigma_hat * math.sqrt(1.0 / xz.size + xz.mean() ** 2 / np.sum((xz - xz.mean()) ** 2))
    metrics: dict[str, Any] = {
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
    return NearZero(wz, bz, wz_ls, bz_ls, metrics)


@dataclass
class Measured:
    """Everything chapter 1 measured. x, y, noise (N_POINTS,) are the wide data; ``main`` the
    course's run and ``compared`` the three learning rates (``gradient_descent``'s dicts)."""

    x: np.ndarray
    y: np.ndarray
    noise: np.ndarray
    w0: float
    b0: float
    w_ls: float
    b_ls: float
    loss_min: float
    main: dict
    curvature: Curvature
    compared: dict
    behaviours: dict
    sweep: Sweep
    near: NearZero

    @property
    def w_gd(self) -> float:
        return float(self.main["w"][-1, 0])

    @property
    def b_gd(self) -> float:
        return float(self.main["b"][-1, 0])

    @property
    def increases(self) -> int:
        """Steps of the course's run at which the loss rose."""
        return _increases(self.main["loss"][:, 0])

    @property
    def wide_steps(self) -> tuple[int | None, int | None]:
        """Steps until w and b of the course's run stay within 1% of least squares."""
        return (
            _first_step_within(self.main["w"][:, 0], self.w_ls, 0.01),
            _first_step_within(self.main["b"][:, 0], self.b_ls, 0.01),
        )


def measure(seed: int, quick: bool) -> Measured:
    """Draw the data and the start, then run every measurement of the chapter."""
    rng = np.random.default_rng(seed)
    x, y, noise = make_line_data(rng)
    w0, b0 = (float(v) for v in rng.standard_normal(2))  # the course's w, b = randn(), randn()
    w_ls, b_ls = least_squares(x, y)
    loss_min = float(mse(x, y, w_ls, b_ls))
    main = gradient_descent(x, y, w0, b0, LR, STEPS)
    c = curvature(x)
    compared = gradient_descent(x, y, w0, b0, COMPARED_LRS, STEPS)
    behaviours = compare_lrs(compared, w_ls, b_ls, loss_min, c)
    sweep = lr_sweep(x, y, w0, b0, w_ls, b_ls, c, quick)
    near = near_zero(rng, w0, b0)
    return Measured(
        x, y, noise, w0, b0, w_ls, b_ls, loss_min, main, c, compared, behaviours, sweep, near
    )


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers of ``m``."""
    c, s = m.curvature, m.sweep
    wide_steps_w, wide_steps_b = m.wide_steps
    return {
        "data": {"n": N_POINTS, "x_range": [-2.0, 2.0], "noise_std": NOISE_STD},
        "true": {"w": TRUE_W, "b": TRUE_B},
        "init": {"w": m.w0, "b": m.b0},
        "gd": {
            "lr": LR,
            "steps": STEPS,
            "w": m.w_gd,
            "b": m.b_gd,
            "final_mse": float(mse(m.x, m.y, m.w_gd, m.b_gd)),
            "loss_increases": m.increases,
            "steps_w_within_1pct_of_ls": wide_steps_w,
            "steps_b_within_1pct_of_ls": wide_steps_b,
        },
        "least_squares": {"w": m.w_ls, "b": m.b_ls, "mse": m.loss_min},
        "noise_variance": float(np.mean(m.noise**2)),
        "hessian": {
            "matrix": c.H.tolist(),
            "lambda_min": c.lam_min,
            "lambda_max": c.lam_max,
            "lr_limit": c.lr_limit,
        },
        "compared": m.behaviours,
        "sweep": {
            "steps": s.steps,
            "lrs": s.lrs.tolist(),
            "diverged": s.diverged.tolist(),
            "largest_convergent_lr": s.last_good,
            "smallest_divergent_lr": s.first_bad,
            "agreement_with_theory": s.agree / s.lrs.size,
            "measured_factor": s.measured_rate.tolist(),
            "max_abs_factor_error": float(np.max(np.abs(s.measured_rate - s.theory_rate))),
        },
        "near_zero": m.near.metrics,
    }
