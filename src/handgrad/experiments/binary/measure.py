"""Chapter 4's measurements: two data sets, a gradient check and a training per activation.

For each data set and each activation the hand-derived gradients are first compared with
finite differences at the initial weights, then the network is trained by full-batch
gradient descent and scored on its training and held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...data import Standardizer, load_builtin, make_moons, train_test_split
from ...reference import binary_classifier as net

HIDDEN = 16
TEST_FRACTION = 0.25
MOONS = {"n": 400, "noise": 0.2, "lr": 0.5, "epochs": 2000, "quick_epochs": 300}
CANCER = {"lr": 0.1, "epochs": 1000, "quick_epochs": 200}
CHECK_ROWS = 24  # rows used by the finite-difference check
COMPARED_ACTIVATIONS = ("relu", "tanh")
DISPLAY = {"relu": "ReLU", "tanh": "tanh"}


@dataclass
class Split:
    """One data set, split and standardized: ``X_*`` are (N, D), ``y_*`` (N,) of 0.0/1.0."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    settings: dict


@dataclass
class Measured:
    """Everything the figures and the section need."""

    datasets: dict[str, Split]
    results: dict[str, dict]  # "dataset/activation" -> numbers, loss curve and parameters
    checks: list[dict[str, Any]]  # one row per checked parameter array

    @property
    def check_max(self) -> float:
        return max(c["max_rel_error"] for c in self.checks)

    @property
    def check_ok(self) -> bool:
        return all(c["passed"] for c in self.checks)


def accuracy(X: np.ndarray, y: np.ndarray, params: dict, activation: str) -> float:
    z2 = net.forward(X, params, activation)["z2"][:, 0]
    return float(np.mean((z2 > 0) == (y == 1)))


def prepare(X, y, seed: int, part: int, settings: dict) -> Split:
    """Stratified split, then standardization fitted on the training rows only."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, TEST_FRACTION, rng=np.random.default_rng([seed, part]), stratify=True
    )
    scaler = Standardizer().fit(X_tr)
    return Split(
        scaler.transform(X_tr), scaler.transform(X_te), y_tr.astype(float), y_te.astype(float),
        settings,
    )  # fmt: skip


def datasets(seed: int) -> dict[str, Split]:
    Xm, ym = make_moons(int(MOONS["n"]), MOONS["noise"], rng=np.random.default_rng([seed, 0]))
    Xc, yc, _, _ = load_builtin("breast_cancer")
    return {
        "moons": prepare(Xm, ym, seed, 1, MOONS),
        "breast cancer": prepare(Xc, yc, seed, 2, CANCER),
    }


def gradient_check(dname: str, d: Split, act: str, init_seed: int, seed: int) -> list[dict]:
    """Part 5: the analytic gradients at the initial weights vs finite differences."""
    p0 = net.init_params(d.X_train.shape[1], HIDDEN, act, init_seed)
    p0["b1"] = 0.1 * np.random.default_rng([seed, 4]).standard_normal(HIDDEN)
    report = net.gradient_check(d.X_train[:CHECK_ROWS], d.y_train[:CHECK_ROWS], p0, act)
    return [
        {
            "dataset": dname,
            "activation": act,
            "parameter": row.name,
            "shape": list(row.shape),
            "checked": row.checked,
            "max_rel_error": row.max_rel_error,
            "passed": row.passed,
        }
        for row in report.rows
    ]


def train(dname: str, d: Split, act: str, init_seed: int, quick: bool) -> dict:
    """Full-batch gradient descent, then the scores, the loss curve and the parameters."""
    cfg = d.settings
    epochs = cfg["quick_epochs"] if quick else cfg["epochs"]
    params, losses = net.train(d.X_train, d.y_train, HIDDEN, act, cfg["lr"], epochs, init_seed)
    z1 = net.forward(d.X_train, params, act)["z1"]
    return {
        "dataset": dname,
        "activation": act,
        "lr": cfg["lr"],
        "epochs": epochs,
        "n_train": len(d.y_train),
        "n_test": len(d.y_test),
        "features": d.X_train.shape[1],
        "first_loss": losses[0],
        "final_loss": losses[-1],
        "train_accuracy": accuracy(d.X_train, d.y_train, params, act),
        "test_accuracy": accuracy(d.X_test, d.y_test, params, act),
        "dead_units": int(np.sum(np.all(z1 <= 0, axis=0))) if act == "relu" else None,
        "losses": losses,
        "params": params,
    }


def measure(seed: int, quick: bool) -> Measured:
    data = datasets(seed)
    results: dict[str, dict] = {}
    checks: list[dict[str, Any]] = []
    for dname, d in data.items():
        for act in COMPARED_ACTIVATIONS:
            init_seed = int(np.random.default_rng([seed, 3, len(results)]).integers(2**31))
            checks += gradient_check(dname, d, act, init_seed, seed)
            results[f"{dname}/{act}"] = train(dname, d, act, init_seed, quick)
    return Measured(data, results, checks)


def metrics(m: Measured) -> dict:
    return {
        "hidden": HIDDEN,
        "results": {
            k: {kk: v for kk, v in r.items() if kk not in ("losses", "params")}
            for k, r in m.results.items()
        },
        "gradcheck": m.checks,
        "gradcheck_max_rel_error": m.check_max,
        "gradcheck_passed": m.check_ok,
    }
