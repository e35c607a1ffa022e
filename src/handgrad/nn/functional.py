"""The math of the engine: activations, their derivatives, and stable log-space primitives.

Every function is vectorized and keeps the dtype of its input. Nothing here clips its
input or adds an ``eps`` inside a logarithm: stability comes from the formulation.

Notation: ``z`` is a pre-activation (any shape), ``dz``/``dout`` the upstream gradient of
the same shape.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid",
    "sigmoid_backward",
    "log_sigmoid",
    "softplus",
    "logsumexp",
    "softmax",
    "log_softmax",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "tanh",
    "tanh_backward",
    "one_hot",
]


# --- sigmoid family -------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-z)), exact in both tails.

    With e = exp(-|z|) <= 1 (never overflows):
        z >= 0:  1 / (1 + e)
        z <  0:  e / (1 + e)      (= exp(z) / (1 + exp(z)), no cancellation)
    so sigmoid(-800) is the tiny positive number it should be, not 0 after a warning.
    """
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_backward(dout: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Gradient through the sigmoid given its *output* s: dout * s * (1 - s)."""
    return dout * s * (1.0 - s)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)).

    The second form never overflows, and log1p keeps full precision where the result
    is tiny (softplus(-40) ~ 4.25e-18).
    """
    z = np.asarray(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log(sigmoid(z)) = -softplus(-z), finite for every finite z."""
    return -softplus(-np.asarray(z))


# --- log-sum-exp family ---------------------------------------------------------------------


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(z), axis)) computed as m + log(sum(exp(z - m))) with m = max(z, axis).

    Every exp(z - m) lies in (0, 1], so nothing overflows and the largest term is exactly 1.
    """
    z = np.asarray(z)
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) / sum(exp(z)) along ``axis``; shifting by the max changes nothing but overflow."""
    z = np.asarray(z)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """z - logsumexp(z): log-probabilities without ever forming a probability."""
    z = np.asarray(z)
    return z - logsumexp(z, axis=axis, keepdims=True)


# --- hidden-layer activations ---------------------------------------------------------------


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0) elementwise."""
    return np.maximum(z, 0)


def relu_backward(dz: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through ReLU: dz where z > 0, else 0 (the derivative at the kink is taken as 0)."""
    return dz * (z > 0)


def leaky_relu(z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """z for z > 0, negative_slope * z otherwise."""
    z = np.asarray(z)
    return np.where(z > 0, z, negative_slope * z)


def leaky_relu_backward(dz: np.ndarray, z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Gradient through LeakyReLU: dz where z > 0, negative_slope * dz otherwise."""
    dz = np.asarray(dz)
    return np.where(z > 0, dz, negative_slope * dz)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(z)


def tanh_backward(dz: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through tanh at pre-activation z: dz * (1 - tanh(z)^2)."""
    t = np.tanh(z)
    return dz * (1.0 - t * t)


# --- labels ---------------------------------------------------------------------------------


def one_hot(y: np.ndarray, n_classes: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Integer labels (N,) -> one-hot matrix (N, n_classes).

    Raises ValueError for labels that are not integers in [0, n_classes).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: labels must be a 1-D array of shape (N,), got shape {y.shape}")
    if n_classes < 1:
        raise ValueError(f"one_hot: n_classes must be >= 1, got {n_classes}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(
            np.isfinite(y) & (y == np.round(y))
        ):
            raise ValueError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ValueError(f"one_hot: label {bad} is out of range [0, {n_classes})")
    out = np.zeros((y.shape[0], n_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y.astype(np.intp)] = 1
    return out
