"""Scores of predictions, written once for the estimators, the run folders and the experiments.

Shapes: labels are integer codes (N,); regression targets and predictions (N,) or (N, K).
"""

from __future__ import annotations

import numpy as np

from .nn import functional as F

__all__ = [
    "accuracy",
    "confusion_matrix",
    "mean_squared_error",
    "mean_absolute_error",
    "r2_score",
    "probabilities",
    "log_probabilities",
]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows where the predicted label equals the true one."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (C, C): rows are the true class, columns the predicted one."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, np.intp), np.asarray(y_pred, np.intp)), 1)
    return m


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """mean((y_pred - y_true)^2) over all entries."""
    y_true = np.asarray(y_true, np.float64)
    err = np.asarray(y_pred, np.float64).reshape(y_true.shape) - y_true
    return float(np.mean(err * err))


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """mean(|y_pred - y_true|) over all entries."""
    y_true = np.asarray(y_true, np.float64)
    return float(np.mean(np.abs(np.asarray(y_pred, np.float64).reshape(y_true.shape) - y_true)))


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R^2 = 1 - SSE / SST per output, averaged uniformly over outputs (scikit-learn's default).

    A constant target scores 1 when predicted exactly and 0 otherwise, as scikit-learn does.
    """
    y_true = np.asarray(y_true, np.float64)
    y_true = y_true.reshape(y_true.shape[0], -1)  # (N, K)
    y_pred = np.asarray(y_pred, np.float64).reshape(y_true.shape)
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    safe_tot = np.where(ss_tot > 0, ss_tot, 1.0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / safe_tot, 0.0)
    scores = np.where((ss_tot == 0) & (ss_res == 0), 1.0, scores)
    return float(np.mean(scores))


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities (N, C) from a classifier's logits.

    Two classes come as one logit column z (N, 1): [sigmoid(-z), sigmoid(z)], each side
    computed directly so a tiny probability is not lost to 1 - p. C > 2 columns: softmax.
    """
    if logits.shape[1] == 1:
        z = logits[:, 0]
        return np.column_stack([F.sigmoid(-z), F.sigmoid(z)])
    return F.softmax(logits, axis=1)


def log_probabilities(logits: np.ndarray) -> np.ndarray:
    """log of ``probabilities``, from the logits (finite for every finite logit).

    Where a probability rounds to 1 its log here is 0, as ``log(probabilities)`` says
    (scikit-learn checks that the two agree), though the engine's log-probability keeps
    the tiny negative number it rounds from."""
    if logits.shape[1] == 1:
        z = logits[:, 0]
        out = np.column_stack([F.log_sigmoid(-z), F.log_sigmoid(z)])
    else:
        out = F.log_softmax(logits, axis=1)
    out[probabilities(logits) == 1] = 0
    return out
