"""The math of the engine: activations, their derivatives, and stable log-space primitives.

Every function is vectorized and keeps the dtype of floating input (float32 stays float32).
Integer and boolean input is computed in float64 (integer arithmetic would wrap: -|z| of a
uint8 is not negative); complex or non-numeric input is refused with a TypeError. Nothing
here clips its input or adds an ``eps`` inside a logarithm: stability comes from the
formulation.

Notation: ``z`` is a pre-activation (any shape), ``dz``/``dout`` the upstream gradient of
the same shape.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_real_float",
    "mean_no_overflow",
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


# --- input dtype ----------------------------------------------------------------------------


def as_real_float(z, who: str = "input") -> np.ndarray:
    """``z`` as a real floating array: float input unchanged (no copy), integer/bool input
    converted to float64; complex, object, string or other non-numeric input -> TypeError.

    Every function here calls it first, so ``sigmoid(np.uint8(3))`` is 0.9526 and not the
    wrapped-around integer arithmetic's answer. Other code may call it at its boundary.
    """
    arr = np.asarray(z)
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "biu":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{who}: complex input (dtype {arr.dtype}) is not supported; pass reals")
    raise TypeError(f"{who}: expected a real numeric array, got dtype {arr.dtype}")


def _same_shape(dz: np.ndarray, z: np.ndarray, who: str) -> None:
    """Refuse a gradient whose shape differs from its activation's: never broadcast."""
    if dz.shape != z.shape:
        raise ValueError(
            f"{who}: the upstream gradient has shape {dz.shape} but the activation has shape "
            f"{z.shape}; they must match exactly (no broadcasting)"
        )


def _backward_args(dz, z, who: str) -> tuple[np.ndarray, np.ndarray]:
    dz, z = as_real_float(dz, f"{who} (gradient)"), as_real_float(z, who)
    _same_shape(dz, z, who)
    return dz, z


# --- reductions -----------------------------------------------------------------------------


def mean_no_overflow(values, axis: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Mean of ``values`` along ``axis`` (all axes by default) that never overflows when the
    exact mean is finite, e.g. the mean of [1e308, 1e308] is 1e308, not inf.

    The plain ``np.mean`` runs first (same speed, same bits); only where its sum overflowed
    while every input was finite is the mean recomputed as s * mean(x / s), with s the power
    of two just below max |x| of the slice: x / s is exact (a change of exponent), lies in
    (-2, 2), so the sum cannot overflow, and the product is at most max |x|. NaN and inf in
    the input propagate as in ``np.mean``. Float input keeps its dtype; integer input gives
    float64. Returns a NumPy scalar for ``axis=None``, else an array without the axis.
    """
    x = as_real_float(values, "mean_no_overflow")
    if x.size == 0:
        raise ValueError(f"mean_no_overflow: the mean of an empty array (shape {x.shape})")
    with np.errstate(over="ignore"):
        mean = np.mean(x, axis=axis)
    if np.all(np.isfinite(mean)):
        return mean
    biggest = np.max(np.abs(x), axis=axis, keepdims=True)
    usable = np.isfinite(biggest) & (biggest > 0)
    _, exponent = np.frexp(np.where(usable, biggest, 1))
    scale = np.where(usable, np.ldexp(x.dtype.type(1), exponent - 1), 1).astype(x.dtype)
    rescaled = np.mean(x / scale, axis=axis, keepdims=True) * scale
    return rescaled.reshape(np.shape(mean)) if axis is not None else rescaled.reshape(())[()]


# --- sigmoid family -------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-z)), exact in both tails.

    With e = exp(-|z|) <= 1 (never overflows):
        z >= 0:  1 / (1 + e)
        z <  0:  e / (1 + e)      (= exp(z) / (1 + exp(z)), no cancellation)
    so sigmoid(-800) is the tiny positive number it should be, not 0 after a warning.
    """
    z = as_real_float(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_backward(dout: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Gradient through the sigmoid given its *output* s: dout * s * (1 - s).

    ``dout`` and ``s`` must have the same shape (ValueError otherwise, never a broadcast)."""
    dout, s = _backward_args(dout, s, "sigmoid_backward")
    return dout * s * (1.0 - s)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)).

    The second form never overflows, and log1p keeps full precision where the result
    is tiny (softplus(-40) ~ 4.25e-18).
    """
    z = as_real_float(z, "softplus")
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log(sigmoid(z)) = -softplus(-z), finite for every finite z."""
    return -softplus(-as_real_float(z, "log_sigmoid"))


# --- log-sum-exp family ---------------------------------------------------------------------


def _shifted(z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(m, z - m) with m = max(z, axis) kept as a dimension; every z - m <= 0.

    A row whose spread exceeds the float range gives z - m = -inf for its far entries; their
    exp is exactly 0, the right answer, so that overflow is expected and stays silent.
    """
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):
        return m, z - m


def _log_sum_exp_shifted(shifted: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(shifted))) for rows whose max is 0, kept as a dimension; in [0, log n].

    (log1p of the other terms would be more accurate when they are tiny, but then
    log_softmax would no longer agree with log(softmax) to the last bit where softmax
    rounds to 1, which scikit-learn's estimator checks require of predict_log_proba.)
    """
    return np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(z), axis)) computed as m + log(sum(exp(z - m))) with m = max(z, axis).

    Every exp(z - m) lies in [0, 1], so nothing overflows and the largest term is exactly 1.
    The result is m plus a number in [0, log n]: for huge m that addition rounds to m, which
    is the correctly rounded answer (logsumexp([1e17, 1e17]) is 1e17 + log 2 = 1e17 in float).
    """
    z = as_real_float(z, "logsumexp")
    m, shifted = _shifted(z, axis)
    out = m + _log_sum_exp_shifted(shifted, axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) / sum(exp(z)) along ``axis``; shifting by the max changes nothing but overflow."""
    z = as_real_float(z, "softmax")
    e = np.exp(_shifted(z, axis)[1])
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """(z - m) - log(sum(exp(z - m))): log-probabilities without forming a probability.

    Subtracting m first matters: z - logsumexp(z) would lose the log-sum to rounding when
    |z| is large (log_softmax([1e17, 1e17]) must be [-log 2, -log 2], not [0, 0]).
    """
    z = as_real_float(z, "log_softmax")
    shifted = _shifted(z, axis)[1]
    return shifted - _log_sum_exp_shifted(shifted, axis)


# --- hidden-layer activations ---------------------------------------------------------------


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0) elementwise."""
    return np.maximum(as_real_float(z, "relu"), 0)


def relu_backward(dz: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through ReLU: dz where z > 0, else 0 (the derivative at the kink is taken as 0).

    ``dz`` and ``z`` must have the same shape (ValueError otherwise, never a broadcast)."""
    dz, z = _backward_args(dz, z, "relu_backward")
    return dz * (z > 0)


def leaky_relu(z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """z for z > 0, negative_slope * z otherwise."""
    z = as_real_float(z, "leaky_relu")
    return np.where(z > 0, z, negative_slope * z)


def leaky_relu_backward(dz: np.ndarray, z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Gradient through LeakyReLU: dz where z > 0, negative_slope * dz otherwise (same shapes)."""
    dz, z = _backward_args(dz, z, "leaky_relu_backward")
    return np.where(z > 0, dz, negative_slope * dz)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(as_real_float(z, "tanh"))


def tanh_backward(dz: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through tanh at pre-activation z: dz * (1 - tanh(z)^2) (same shapes)."""
    dz, z = _backward_args(dz, z, "tanh_backward")
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
