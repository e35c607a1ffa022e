"""The slips of chapters 9 and 10's exercises (the confusion matrix, MSE + lam ||W||^2 as
Keras counts it). ``add(bug, bases)`` types them into common_bugs.py's catalogue."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_common_bugs_fresh_9_10", Path(__file__).with_name("common_bugs_fresh.py")
)
_fresh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fresh)

BASES: dict[str, tuple[str, str]] = {
    "confusion": (
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
""",
    ),
    "confusion-loop": (
        "confusion_matrix",
        """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        counts[t, p] += 1
    return counts
""",
    ),
    "ridge": (
        "ridge_loss",
        """
def ridge_loss(W, b, X, y, lam):
    r = X @ W + b - y
    return float(np.mean(r**2) + lam * np.sum(W**2))


def ridge_loss_grad(W, b, X, y, lam):
    r = X @ W + b - y
    n = len(X)
    dW = 2 * X.T @ r / n + 2 * lam * W
    db = 2 * r.sum(axis=0) / n
    return dW, db
""",
    ),
}


def add(bug, bases: dict[str, tuple[str, str]]) -> None:
    bases.update(BASES)
    # --- confusion_matrix
    bug(
        "confusion-transposed",
        "confusion",
        {"transpose"},
        "(y_true, y_pred), 1)",
        "(y_pred, y_true), 1)",
    )
    bug(
        "confusion-loop-transposed",
        "confusion-loop",
        {"transpose"},
        "counts[t, p] += 1",
        "counts[p, t] += 1",
    )
    bug(
        "confusion-size-from-largest-label",
        "confusion",
        {"labels-seen"},
        "counts = np.zeros((n_classes, n_classes), dtype=int)",
        "k = max(y_true.max(), y_pred.max()) + 1\n    counts = np.zeros((k, k), dtype=int)",
        also={"shape"},
    )
    bug(
        "confusion-size-from-distinct-labels",
        "confusion",
        {"labels-seen"},
        "counts = np.zeros((n_classes, n_classes), dtype=int)\n"
        "    np.add.at(counts, (y_true, y_pred), 1)",
        "labels = np.unique(np.concatenate([y_true, y_pred]))\n"
        "    k = len(labels)\n"
        "    counts = np.zeros((k, k), dtype=int)\n"
        "    np.add.at(counts, (np.searchsorted(labels, y_true), "
        "np.searchsorted(labels, y_pred)), 1)",
        also={"shape"},
    )
    bug(
        "confusion-rows-normalized",
        "confusion",
        {"normalized"},
        "return counts",
        "return counts / counts.sum(axis=1, keepdims=True)",
        also={"dtype"},
    )
    bug(
        "confusion-rows-normalized-safely",
        "confusion",
        {"normalized"},
        "return counts",
        "rows = counts.sum(axis=1, keepdims=True)\n    return counts / np.maximum(rows, 1)",
        also={"dtype"},
    )
    bug(
        "confusion-fractions-of-all",
        "confusion",
        {"normalized"},
        "return counts",
        "return counts / len(y_true)",
        also={"dtype", "scale"},
    )
    bug(
        "confusion-fancy-index-increment",
        "confusion",
        {"repeated-index"},
        "np.add.at(counts, (y_true, y_pred), 1)",
        "counts[y_true, y_pred] += 1",
    )
    bug(
        "confusion-float-counts",
        "confusion",
        {"dtype"},
        "dtype=int)",
        "dtype=float)",
    )
    bug(
        "confusion-no-return",
        "confusion",
        {"missing-return"},
        "    return counts",
        "    counts",
    )
    # --- ridge_loss
    bug(
        "ridge-half-convention",
        "ridge",
        {"l2-convention"},
        ("lam * np.sum(W**2)", "2 * lam * W"),
        ("lam / 2 * np.sum(W**2)", "lam * W"),
    )
    bug(
        "ridge-half-convention-gradient-only",
        "ridge",
        {"l2-convention"},
        "2 * lam * W",
        "lam * W",
    )
    bug(
        "ridge-bias-penalized",
        "ridge",
        {"bias-penalized"},
        ("lam * np.sum(W**2))", "db = 2 * r.sum(axis=0) / n"),
        ("lam * (np.sum(W**2) + np.sum(b**2)))", "db = 2 * r.sum(axis=0) / n + 2 * lam * b"),
    )
    bug(
        "ridge-mse-gradient-without-2",
        "ridge",
        {"mse-half"},
        ("dW = 2 * X.T @ r / n", "db = 2 * r.sum(axis=0) / n"),
        ("dW = X.T @ r / n", "db = r.sum(axis=0) / n"),
    )
    bug(
        "ridge-penalty-gradient-forgotten",
        "ridge",
        {"penalty-gradient"},
        "dW = 2 * X.T @ r / n + 2 * lam * W",
        "dW = 2 * X.T @ r / n",
    )
    bug(
        "ridge-sum-not-mean",
        "ridge",
        {"scale"},
        ("np.mean(r**2)", "n = len(X)"),
        ("np.sum(r**2)", "n = 1"),
    )
    bug(
        "ridge-sign",
        "ridge",
        {"sign"},
        "r = X @ W + b - y\n    n",
        "r = y - X @ W - b\n    n",
    )
    bug(
        "ridge-transposed-product",
        "ridge",
        {"product-shapes"},
        "dW = 2 * X.T @ r / n",
        "dW = 2 * X @ r / n",
    )
    bug(
        "ridge-db-not-summed",
        "ridge",
        {"bias-not-summed"},
        "db = 2 * r.sum(axis=0) / n",
        "db = 2 * r / n",
    )
    # the fresh slips of these two exercises (common_bugs_fresh.py)
    _fresh.add_chapters_9_10(bug)
