"""Chapter 6's measurements: ridge fits by gradient descent and in closed form for each
lambda, leave-one-out errors, the ridge path, and the L2 gradient checks.

    L(W, b) = mean_n (x_n W + b - y_n)^2 + lam * ||W||^2        (the course's "full" convention)

On standardized (centred) features the minimizer is b = mean(y),
W = (X^T X / N + lam I)^{-1} X^T y / N; weights map back to original units with
W_orig = W_std / sigma, b_orig = b_std - sum_j W_std_j mu_j / sigma_j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...data import Standardizer
from ...nn.gradcheck import gradcheck
from ...nn.layers import Linear
from ...nn.losses import L2Penalty, MSELoss
from ...nn.optim import SGD
from ..base import bias_of

FEATURES = ("utilization", "age", "late_payments")
# A weight in original units is read per step of its feature: utilization is a fraction of
# the credit limit (0.40 = 40 % used), so its step is 0.1, ten percentage points; age and late
# payments are read per year and per payment.
UNIT_STEPS = (0.1, 1.0, 1.0)
UNITS = ("per 10 percentage points of utilization", "per year of age", "per late payment")
X_RAW = np.array(
    [
        [0.10, 45, 0],
        [0.90, 22, 3],
        [0.40, 31, 1],
        [0.20, 52, 0],
        [0.70, 28, 2],
    ],
    dtype=float,
)
Y = np.array([720, 580, 660, 740, 610], dtype=float).reshape(-1, 1)
LAMBDAS = (0.0, 1e-2, 1e-1)
PERSONS = {"A": [0.30, 21, 0], "B": [0.30, 65, 0]}
LAB_LR, LAB_EPOCHS = 0.01, 1000
LR = 0.3  # checked against 2 / lambda_max in the section
TARGET_REDUCTION = 1e-10  # train until the slowest direction's error shrinks this much
MAX_EPOCHS = 20000


def ridge(Xn: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """Exact minimizer on centred features: W (D, 1), b = mean(y)."""
    n, d = Xn.shape
    W = np.linalg.solve(Xn.T @ Xn / n + lam * np.eye(d), Xn.T @ (y - y.mean()) / n)
    return W, float(y.mean())


def unstandardize(W_std: np.ndarray, b_std: float, mu: np.ndarray, sigma: np.ndarray):
    """Weights on standardized inputs -> weights per original unit: (W_orig (D,), b_orig)."""
    W_std = np.asarray(W_std).ravel()
    return W_std / sigma, float(b_std - np.sum(W_std * mu / sigma))


def per_step(W_orig) -> np.ndarray:
    """Weights per original unit (D,) -> score points per ``UNIT_STEPS`` of each feature (D,),
    the numbers ``UNITS`` names."""
    return np.asarray(W_orig, dtype=float).ravel() * np.asarray(UNIT_STEPS)


def train(Xn, y, lam: float, lr: float, epochs: int, seed: int) -> tuple[Linear, list[float]]:
    """Full-batch gradient descent on MSE + lam ||W||^2; returns the layer and the total loss
    before each step.

    A learning rate above the stable limit makes the loss grow until it overflows: training
    stops there, and the history ends with ``inf`` (fewer than ``epochs`` entries).
    """
    lin = Linear(Xn.shape[1], 1, rng=np.random.default_rng(seed))
    loss, l2 = MSELoss(), L2Penalty(lam, convention="full")
    opt = SGD(lin.parameters(), lr=lr)
    params = lin.parameters()
    history: list[float] = []
    for _ in range(epochs):
        with np.errstate(over="ignore", invalid="ignore"):
            prediction = lin.forward(Xn)
            finite = bool(np.all(np.isfinite(prediction)))
            total = loss.forward(prediction, y) + l2.value(params) if finite else np.inf
        history.append(float(total))
        if not np.isfinite(total):
            break
        lin.backward(loss.backward())
        l2.add_gradient(params)
        opt.step()
    return lin, history


def l2_gradient_checks(seed: int, lam: float = 0.01) -> dict:
    """The course's mini-check (grad with L2 minus grad without = 2 lam W) and a finite-difference
    check of the total loss MSE + lam ||W||^2, on a random batch of 5 rows."""
    rng = np.random.default_rng([seed, 7])
    lin = Linear(3, 1, rng=rng)
    Xb, yb = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    loss, l2 = MSELoss(), L2Penalty(lam, convention="full")
    loss.forward(lin.forward(Xb), yb)
    lin.backward(loss.backward())
    dW_plain = lin.weight.grad.copy()
    l2.add_gradient(lin.parameters())
    delta = lin.weight.grad - dW_plain
    mini_err = float(np.max(np.abs(delta - 2 * lam * lin.weight.value)))
    grads = {"W": lin.weight.grad.copy(), "b": bias_of(lin).grad.copy()}

    def total() -> float:
        return loss.forward(lin.forward(Xb), yb) + l2.value(lin.parameters())

    report = gradcheck(total, {"W": lin.weight.value, "b": bias_of(lin).value}, grads)
    return {
        "lam": lam,
        "mini_check_max_abs_error": mini_err,
        "fd_max_rel_error": report.max_rel_error,
        "fd_passed": report.passed,
    }


def _loo_mse(lam: float) -> float:
    """Leave-one-out error of ridge: standardize on 4 people, predict the fifth."""
    errs = []
    for i in range(X_RAW.shape[0]):
        keep = np.arange(X_RAW.shape[0]) != i
        s = Standardizer().fit(X_RAW[keep])
        W, b = ridge(s.transform(X_RAW[keep]), Y[keep], lam)
        pred = float((s.transform(X_RAW[i : i + 1]) @ W)[0, 0] + b)
        errs.append((pred - Y[i, 0]) ** 2)
    return float(np.mean(errs))


def fit_lambda(
    Xn: np.ndarray, scaler: Standardizer, corr_eig: np.ndarray, lam: float, seed: int
) -> dict:
    """One lambda: the closed form, the course's settings and ours, the weights in original
    units, the two people's predictions, the leave-one-out error and both loss histories.

    Xn: (5, 3) standardized features; corr_eig (3,): eigenvalues of Xn^T Xn / N.
    """
    mu, sigma = scaler.mean_, scaler.scale_
    assert mu is not None and sigma is not None  # set by fit
    W_cf, b_cf = ridge(Xn, Y, lam)
    # Hessian of the total loss in (W, b): blockdiag(2 (X^T X / N + lam I), 2) on centred X
    hess = np.concatenate([2 * (corr_eig + lam), [2.0]])
    lam_max, lam_min = float(hess.max()), float(hess.min())
    slowest = abs(1 - LR * lam_min)
    epochs = min(MAX_EPOCHS, math.ceil(math.log(TARGET_REDUCTION) / math.log(slowest)))
    lab_model, lab_hist = train(Xn, Y, lam, LAB_LR, LAB_EPOCHS, seed)
    model, hist = train(Xn, Y, lam, LR, epochs, seed)
    W = model.weight.value[:, 0].copy()
    b = float(bias_of(model).value[0])
    W_orig, b_orig = unstandardize(W, b, mu, sigma)
    persons = {}
    for who, raw in PERSONS.items():
        via_model = float(model.forward(scaler.transform(np.array([raw])))[0, 0])
        by_hand = float(np.dot(W_orig, raw) + b_orig)
        persons[who] = {"features": raw, "model": via_model, "by_hand": by_hand}
    order = np.argsort(-np.abs(W))
    return {
        "lam": lam,
        "hessian_eigenvalues": hess.tolist(),
        "lr_limit": 2 / lam_max,
        "slowest_factor": slowest,
        "epochs": epochs,
        "W_std": W.tolist(),
        "b_std": b,
        "W_closed_form": W_cf[:, 0].tolist(),
        "gd_vs_closed_form": float(max(np.max(np.abs(W - W_cf[:, 0])), abs(b - b_cf))),
        "lab_W_std": lab_model.weight.value[:, 0].tolist(),
        "lab_b_std": float(bias_of(lab_model).value[0]),
        "lab_vs_closed_form": float(
            max(
                np.max(np.abs(lab_model.weight.value[:, 0] - W_cf[:, 0])),
                abs(float(bias_of(lab_model).value[0]) - b_cf),
            )
        ),
        "lab_final_loss": lab_hist[-1],
        "final_loss": hist[-1],
        "train_mse": float(np.mean((model.forward(Xn) - Y) ** 2)),
        "weight_norm": float(np.linalg.norm(W)),
        "W_orig": W_orig.tolist(),
        "b_orig": b_orig,
        "ranking": [FEATURES[k] for k in order],
        "persons": persons,
        "loo_mse": _loo_mse(lam),
        "history": hist,
        "lab_history": lab_hist,
    }


@dataclass
class Measured:
    """Everything chapter 6 measured; ``results`` maps f"{lam:g}" to ``fit_lambda``'s dict."""

    mu: np.ndarray
    sigma: np.ndarray
    corr_eig: np.ndarray
    results: dict[str, dict]
    checks: dict
    path_lams: np.ndarray
    path_W: np.ndarray
    path_loo: np.ndarray
    loo_zero: float


def measure(seed: int, quick: bool) -> Measured:
    """Standardize the five people, fit every lambda, and walk the ridge path."""
    scaler = Standardizer().fit(X_RAW)
    mu, sigma = scaler.mean_, scaler.scale_
    assert mu is not None and sigma is not None  # set by fit
    Xn = scaler.transform(X_RAW)
    n = Xn.shape[0]
    corr_eig = np.linalg.eigvalsh(Xn.T @ Xn / n)
    results = {f"{lam:g}": fit_lambda(Xn, scaler, corr_eig, lam, seed) for lam in LAMBDAS}
    checks = l2_gradient_checks(seed)
    path_lams = np.logspace(-3, 1, 9 if quick else 41)
    path_W = np.array([ridge(Xn, Y, lam)[0][:, 0] for lam in path_lams])
    path_loo = np.array([_loo_mse(lam) for lam in path_lams])
    return Measured(
        mu, sigma, corr_eig, results, checks, path_lams, path_W, path_loo, _loo_mse(0.0)
    )


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers of ``m`` (the loss histories left out)."""
    mu, sigma, corr_eig, results, checks = m.mu, m.sigma, m.corr_eig, m.results, m.checks
    path_lams, path_W, path_loo = m.path_lams, m.path_W, m.path_loo
    return {
        "features": list(FEATURES),
        "mean": mu.tolist(),
        "std": sigma.tolist(),
        "correlation_eigenvalues": corr_eig.tolist(),
        "lr": LR,
        "lab": {"lr": LAB_LR, "epochs": LAB_EPOCHS},
        "by_lambda": {
            k: {kk: v for kk, v in r.items() if "history" not in kk} for k, r in results.items()
        },
        "l2_checks": checks,
        "ridge_path": {
            "lambdas": path_lams.tolist(),
            "W": path_W.tolist(),
            "loo_mse": path_loo.tolist(),
        },
    }
