"""Chapter 10's handgrad half: the training, the ridge optimum it heads for, the units.

``measure`` trains the credit model in handgrad (and once more with the other L2
convention) and returns the numbers; ``comparison`` adds the Keras half.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import handgrad as hg

from ...data import Standardizer
from ..base import bias_of
from ..credit import FEATURES, PERSONS, X_RAW, Y

PEOPLE = PERSONS  # same utilization and history, age differs
LAM = 1e-2
LR = 0.1
EPOCHS = 1000


@dataclass
class KerasHalf:
    """The comparison's numbers, Keras's float64 run (W, loss, dtype) or None, its backend."""

    metrics: dict
    run: dict | None = None
    backend: str = ""


@dataclass
class Measured:
    """The handgrad half's numbers and what the Keras half and the figures start from."""

    numbers: dict  # JSON-ready, without "keras" (see ``metrics``)
    hg_run: dict  # handgrad's run: W, b, loss curve, seconds, predict
    Xn: np.ndarray  # (5, 3) standardized features
    W0: np.ndarray  # (3,) initial weights
    b0: float
    queries: np.ndarray  # (7, 3): the five rows, then persons A and B
    keras: KerasHalf = field(default_factory=lambda: KerasHalf({}))


def train_handgrad(Xn, W0, b0, convention: str = "full", lam: float = LAM) -> dict:
    layer = hg.Linear(3, 1)
    layer.weight.value[:, 0] = W0
    bias_of(layer).value[...] = b0
    model = hg.Sequential(layer)
    started = time.perf_counter()
    history = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=LR),
        Xn,
        Y,
        epochs=EPOCHS,
        batch_size=Xn.shape[0],
        shuffle=False,
        l2=hg.L2Penalty(lam, convention=convention),
    )
    return {
        "W": layer.weight.value[:, 0].copy(),
        "b": float(bias_of(layer).value[0]),
        "loss": np.asarray(history.step_loss),
        "seconds": time.perf_counter() - started,
        "predict": lambda X: model.forward(np.asarray(X, dtype=np.float64))[:, 0],
    }


def _original_units(W_std, b_std, scaler: Standardizer):
    """Weights for raw features: y = b + sum_j W_j (x_j - mu_j) / s_j = b' + sum_j W'_j x_j."""
    W = np.asarray(W_std) / scaler.scale_
    b = float(b_std - np.sum(np.asarray(W_std) * scaler.mean_ / scaler.scale_))
    return W, b


def _ridge_analysis(Xn, W0, W_trained) -> dict:
    """Where full-batch SGD is heading, and how far 1000 steps get.

    With centered columns the bias decouples, and for the weights the loss is the quadratic
    mean((X w - y_c)^2) + lam |w|^2 with Hessian 2A, A = X^T X / N + lam I. Its minimum is
    w* = A^-1 X^T y_c / N, and gradient descent gives w_t = w* + (I - 2 lr A)^t (w_0 - w*),
    so the error along A's eigenvector with eigenvalue a shrinks by |1 - 2 lr a| per step.
    """
    n = Xn.shape[0]
    yc = Y[:, 0] - Y[:, 0].mean()
    A = Xn.T @ Xn / n + LAM * np.eye(Xn.shape[1])
    w_star = np.linalg.solve(A, Xn.T @ yc / n)
    eig = np.linalg.eigvalsh(A)
    step = np.eye(len(eig)) - 2.0 * LR * A
    predicted = w_star + np.linalg.matrix_power(step, EPOCHS) @ (W0 - w_star)
    slowest = float(np.max(np.abs(1.0 - 2.0 * LR * eig)))
    return {
        "w_star": w_star,
        "b_star": float(Y[:, 0].mean()),
        "eigenvalues": eig,
        "slowest_factor_per_step": slowest,
        "slowest_factor_after_all_steps": slowest**EPOCHS,
        "distance_to_optimum": float(np.linalg.norm(W_trained - w_star)),
        "relative_distance_to_optimum": float(
            np.linalg.norm(W_trained - w_star) / np.linalg.norm(w_star)
        ),
        "predicted_W_after_all_steps": predicted,
        "max_abs_diff_from_prediction": float(np.max(np.abs(W_trained - predicted))),
    }


def rel(a, b) -> float:
    """max |a - b| / max |b|: the difference relative to the size of the numbers compared."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def pointwise_rel(a, b) -> np.ndarray:
    """|a - b| / |b| entry by entry (for curves whose values span many decades)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def measure(seed: int) -> Measured:
    """The handgrad half, from handgrad's default initialization drawn with ``seed``."""
    scaler = Standardizer().fit(X_RAW)
    Xn = scaler.transform(X_RAW)
    init = hg.Linear(3, 1, seed=seed)
    W0, b0 = init.weight.value[:, 0].copy(), float(bias_of(init).value[0])

    hg_run = train_handgrad(Xn, W0, b0)
    half = train_handgrad(Xn, W0, b0, convention="half")
    people = {who: scaler.transform(np.array([p], dtype=np.float64)) for who, p in PEOPLE.items()}
    W_orig, b_orig = _original_units(hg_run["W"], hg_run["b"], scaler)
    numbers: dict = {
        "seed": seed,
        "lam": LAM,
        "lr": LR,
        "epochs": EPOCHS,
        "features": FEATURES,
        "initial_W": W0,
        "handgrad": {
            "W_std": hg_run["W"],
            "b_std": hg_run["b"],
            "W_orig": W_orig,
            "b_orig": b_orig,
            "final_loss": float(hg_run["loss"][-1]),
            "loss_curve": hg_run["loss"],
            "train_predictions": hg_run["predict"](Xn),
            "people": {who: float(hg_run["predict"](x)[0]) for who, x in people.items()},
            "seconds": hg_run["seconds"],
        },
        "ridge": _ridge_analysis(Xn, W0, hg_run["W"]),
        # corr(utilization, age), corr(utilization, late), corr(age, late)
        "feature_correlations": [
            float(np.corrcoef(X_RAW[:, i], X_RAW[:, j])[0, 1]) for i, j in ((0, 1), (0, 2), (1, 2))
        ],
        "half_convention": {
            "W_std": half["W"],
            "max_abs_weight_diff": float(np.max(np.abs(half["W"] - hg_run["W"]))),
            "max_rel_weight_diff": rel(half["W"], hg_run["W"]),
        },
    }
    queries = np.vstack([Xn, *people.values()])
    return Measured(numbers, hg_run, Xn, W0, b0, queries)


def metrics(m: Measured) -> dict:
    """Both halves' JSON-ready numbers."""
    return {**m.numbers, "keras": m.keras.metrics}
