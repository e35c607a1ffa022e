"""The math of the engine: activations, their derivatives, and stable log-space primitives.

Every function is vectorized and keeps the dtype of floating input (float32 stays float32).
Integer and boolean input is computed in float64 (integer arithmetic would wrap: -|z| of a
uint8 is not negative); complex or non-numeric input is refused with a TypeError. Nothing
here clips its input or adds an ``eps`` inside a logarithm: stability comes from the
formulation.

Notation: ``z`` is a pre-activation (any shape), ``y = f(z)`` the activation's output.

The backward functions all read ``name_backward(grad, saved)``: ``grad`` is dL/dy, the
upstream gradient, and ``saved`` what the activation's forward pass keeps for it (the
layers in ``layers.py`` keep exactly that), both of the same shape; they return dL/dz of
that shape. ``saved`` is the one array each derivative needs:

    function                saved            dL/dz = grad times
    relu_backward           the input z      1 where z > 0, else 0 (the kink is a place in z)
    leaky_relu_backward     the input z      1 where z > 0, else negative_slope (its third
                                             argument; a slope of any sign)
    sigmoid_backward        the output y     y (1 - y)
    tanh_backward           the output y     1 - y^2

so no backward recomputes its forward. A shape mismatch is a ValueError, never a broadcast.

The softmax cross-entropy's rows (``softmax_rows``, ``softmax_cross_entropy``) are computed
relative to each row's max, which keeps them exact where one class dominates; the loss
classes in ``losses.py`` check, weigh and reduce what these functions return.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constraints import Integer, check

# A floating array of any precision: what every function here returns.
FloatArray = NDArray[np.floating]

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
    "SoftmaxRows",
    "softmax_rows",
    "softmax_cross_entropy",
    "softmax_cross_entropy_terms",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "tanh",
    "tanh_backward",
    "one_hot",
]


# --- input dtype ----------------------------------------------------------------------------


def as_real_float(z: ArrayLike, who: str = "input") -> FloatArray:
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


def _backward_args(grad: ArrayLike, saved: ArrayLike, who: str) -> tuple[FloatArray, FloatArray]:
    """``grad`` and ``saved`` as real float arrays of one shape; never broadcast."""
    grad, saved = as_real_float(grad, f"{who} (gradient)"), as_real_float(saved, who)
    if grad.shape != saved.shape:
        raise ValueError(
            f"{who}: the upstream gradient has shape {grad.shape} but the activation has shape "
            f"{saved.shape}; they must match exactly (no broadcasting)"
        )
    return grad, saved


# --- reductions -----------------------------------------------------------------------------


def mean_no_overflow(
    values: ArrayLike, axis: int | tuple[int, ...] | None = None
) -> FloatArray | np.floating:
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
    rescaled: FloatArray = np.mean(x / scale, axis=axis, keepdims=True) * scale
    if axis is not None:
        return rescaled.reshape(np.shape(mean))
    return rescaled.reshape(())[()]  # a NumPy scalar, like np.mean's


# --- sigmoid family -------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> FloatArray:
    """Logistic sigmoid 1 / (1 + exp(-z)), exact in both tails.

    With e = exp(-|z|) <= 1 (never overflows):
        z >= 0:  1 / (1 + e)
        z <  0:  e / (1 + e)      (= exp(z) / (1 + exp(z)), no cancellation)
    so sigmoid(-800) is the tiny positive number it should be, not 0 after a warning.
    """
    z = as_real_float(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_backward(grad: ArrayLike, saved: ArrayLike) -> FloatArray:
    """dL/dz = grad * y * (1 - y), with ``saved`` the sigmoid's *output* y = sigmoid(z).

    grad (any shape) is dL/dy; saved the same shape; returns that shape."""
    grad, y = _backward_args(grad, saved, "sigmoid_backward")
    return grad * y * (1.0 - y)


def softplus(z: np.ndarray) -> FloatArray:
    """softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)).

    The second form never overflows, and log1p keeps full precision where the result
    is tiny (softplus(-40) ~ 4.25e-18).
    """
    z = as_real_float(z, "softplus")
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: np.ndarray) -> FloatArray:
    """log(sigmoid(z)) = -softplus(-z), finite for every finite z."""
    return -softplus(-as_real_float(z, "log_sigmoid"))


# --- log-sum-exp family ---------------------------------------------------------------------


def _axis(z: np.ndarray, axis: object, who: str) -> int:
    """``axis`` as a non-negative index into ``z``'s dimensions; TypeError/ValueError naming it."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{who}: axis must be an integer, got {axis!r}")
    if z.ndim == 0:
        raise ValueError(f"{who}: got a single number (a 0-d array); give rows, e.g. shape (N, C)")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(
            f"{who}: axis {axis} is out of range for an array of shape {z.shape} "
            f"({z.ndim} dimension{'s' if z.ndim > 1 else ''})"
        )
    return int(axis) % z.ndim


def _shifted(z: np.ndarray, axis: int) -> tuple[FloatArray, FloatArray]:
    """(m, z - m) with m = max(z, axis) kept as a dimension; every z - m <= 0.

    A row whose spread exceeds the float range gives z - m = -inf for its far entries; their
    exp is exactly 0, the right answer, so that overflow is expected and stays silent.
    """
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):
        return m, z - m


def _log_sum_exp_shifted(shifted: np.ndarray, axis: int) -> FloatArray:
    """log(sum(exp(shifted))) for rows whose max is 0, kept as a dimension; in [0, log n].

    Computed as log1p(s), s the sum of the terms other than one largest (which is exactly
    1): when the others are tiny (a row [0, -40]), 1 + s rounds to 1 and log(1 + s) to 0,
    while log1p(s) keeps s, the right answer to the last bit. So log_softmax of the
    dominant class is -s (about -4.2e-18 for [0, -40]), not 0.
    """
    others = np.exp(shifted)
    np.put_along_axis(others, np.argmax(shifted, axis=axis, keepdims=True), 0, axis=axis)
    rest: FloatArray = np.sum(others, axis=axis, keepdims=True)
    return np.log1p(rest)


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> FloatArray:
    """log(sum(exp(z), axis)) computed as m + log(sum(exp(z - m))) with m = max(z, axis).

    Every exp(z - m) lies in [0, 1], so nothing overflows and the largest term is exactly 1.
    The result is m plus a number in [0, log n]: for huge m that addition rounds to m, which
    is the correctly rounded answer (logsumexp([1e17, 1e17]) is 1e17 + log 2 = 1e17 in float).
    An empty row (shape[axis] == 0) gives -inf, the log of an empty sum.
    """
    z = as_real_float(z, "logsumexp")
    axis = _axis(z, axis, "logsumexp")
    if z.shape[axis] == 0:  # the sum of no terms is 0, its log -inf
        out = np.full(z.shape[:axis] + (1,) + z.shape[axis + 1 :], -np.inf, z.dtype)
        return out if keepdims else np.squeeze(out, axis=axis)
    m, shifted = _shifted(z, axis)
    out = m + _log_sum_exp_shifted(shifted, axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z: np.ndarray, axis: int = -1) -> FloatArray:
    """exp(z) / sum(exp(z)) along ``axis``; shifting by the max changes nothing but overflow.

    Empty rows (shape[axis] == 0) give an empty result of the same shape."""
    z = as_real_float(z, "softmax")
    axis = _axis(z, axis, "softmax")
    if z.shape[axis] == 0:
        return np.array(z, copy=True)
    e = np.exp(_shifted(z, axis)[1])
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(z: np.ndarray, axis: int = -1) -> FloatArray:
    """(z - m) - log(sum(exp(z - m))): log-probabilities without forming a probability.

    Subtracting m first matters: z - logsumexp(z) would lose the log-sum to rounding when
    |z| is large (log_softmax([1e17, 1e17]) must be [-log 2, -log 2], not [0, 0]). Where one
    class dominates, its log-probability is -s with s the others' share, not a rounded 0
    (log_softmax([0, -40])[0] is -4.25e-18), so it may differ from log(softmax(z)), which
    rounds to log(1) = 0 there. Empty rows give an empty result.
    """
    z = as_real_float(z, "log_softmax")
    axis = _axis(z, axis, "log_softmax")
    if z.shape[axis] == 0:
        return np.array(z, copy=True)
    shifted = _shifted(z, axis)[1]
    return shifted - _log_sum_exp_shifted(shifted, axis)


# --- softmax cross-entropy, exact where one class dominates ---------------------------------


class SoftmaxRows(NamedTuple):
    """Rows of logits Z (N, C) relative to their maxima m_n = Z[n, top_n]:

        top          (N,) intp  the column of each row's max (the first one, if tied)
        maximum      (N,)       m, each row's max
        shifted      (N, C)     Z - m: <= 0, exactly 0 at top; -inf where a row spans more
                                than the float range (whose exp is exactly 0, the limit)
        exp_shifted  (N, C)     e = exp(Z - m): in [0, 1], exactly 1 at top
        rest         (N,)       s = sum_{j != top} e_j, the other classes' mass

    Then sum_j e_j = 1 + s, and keeping s apart is what makes the results exact for a
    confident row: log(1 + s) is log1p(s), not log(1) = 0, when s is tiny.
    """

    top: NDArray[np.intp]
    maximum: FloatArray
    shifted: FloatArray
    exp_shifted: FloatArray
    rest: FloatArray

    def log_probabilities(self) -> FloatArray:
        """log softmax(Z) (N, C) = (Z - m) - log1p(s): the dominant class's is -s (about
        -4.2e-18 for a row [0, -40]), not a rounded 0."""
        log_p: FloatArray = self.shifted - np.log1p(self.rest)[:, None]
        return log_p

    def probabilities(self) -> FloatArray:
        """softmax(Z) (N, C) = e / (1 + s)."""
        p: FloatArray = self.exp_shifted / (1.0 + self.rest)[:, None]
        return p


def softmax_rows(logits: ArrayLike) -> SoftmaxRows:
    """The rows of ``logits`` (N, C), C >= 1, relative to their maxima (see ``SoftmaxRows``)."""
    z = as_real_float(logits, "softmax_rows")
    if z.ndim != 2 or z.shape[1] == 0:
        raise ValueError(f"softmax_rows: logits must be (N, C) with C >= 1, got shape {z.shape}")
    rows = np.arange(z.shape[0])
    top = np.argmax(z, axis=1)
    maximum = z[rows, top]
    with np.errstate(over="ignore"):  # logits spanning more than the float range: -inf,
        shifted = z - maximum[:, None]  # whose exp is 0, the exact limit
    e = np.exp(shifted)
    others = e.copy()
    others[rows, top] = 0.0
    return SoftmaxRows(top, maximum, shifted, e, others.sum(axis=1))


def softmax_cross_entropy(logits: ArrayLike, target: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Per-row cross-entropy of softmax(Z) and its gradient: (losses (N,), dl_n/dZ_n (N, C)).

    logits Z (N, C). ``target``: integer labels k (N,) in [0, C), or probability rows q (N, C).
        labels:  l_n = -log softmax(Z_n)[k_n],          dl_n/dZ_n = softmax(Z_n) - onehot(k_n)
        soft:    l_n = -sum_j q_nj log softmax(Z_n)_j,  dl_n/dZ_n = softmax(Z_n) - q_n
    Exact where one class dominates (see ``SoftmaxRows``): for a row [0, -40] with label 0
    the loss is log1p(s) = 4.2e-18, not 0, and the label's gradient
    p_k - 1 = ((e_k - 1) - s) / (1 + s) is -s / (1 + s), not p_k - 1 rounded to 0. (So
    give one-hot rows as labels: as probabilities they take the soft formula, p - q.)
    The rows are not reduced or scaled: the loss classes do that.
    """
    rows = softmax_rows(logits)
    n, c = rows.shifted.shape
    log_p, p = rows.log_probabilities(), rows.probabilities()
    if np.ndim(target) == 2:
        q = as_real_float(target, "softmax_cross_entropy target")
        if q.shape != (n, c):
            raise ValueError(
                f"softmax_cross_entropy: probabilities of shape {q.shape} for logits {(n, c)}"
            )
        return -np.sum(q * log_p, axis=1), p - q
    at = np.arange(n), _labels(target, n, c)
    s = rows.rest
    # p_k - 1 = (e_k - (1 + s)) / (1 + s), the difference taken as (e_k - 1) - s: exactly -s
    # where the label is the max, not 1 - (1 + s) rounded to 0
    p[at] = ((rows.exp_shifted[at] - 1.0) - s) / (1.0 + s)
    return -log_p[at], p


def softmax_cross_entropy_terms(
    logits: ArrayLike, labels: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The loss with labels k (N,) as three terms (each (N,)), l_n = m_n - Z[n, k_n] + log1p(s_n),
    m_n the row's max: each term is finite for finite logits, while their sum overflows where
    a row spans more than the float range; a mean of the terms' halves does not."""
    rows = softmax_rows(logits)
    n, c = rows.shifted.shape
    z = as_real_float(logits, "softmax_cross_entropy_terms")
    return rows.maximum, -z[np.arange(n), _labels(labels, n, c)], np.log1p(rows.rest)


def _labels(labels: ArrayLike, n: int, c: int) -> NDArray[np.intp]:
    """Labels (N,) as indices; ValueError unless they are N integers in [0, C)."""
    k = np.asarray(labels)
    if k.shape != (n,):
        raise ValueError(
            f"softmax cross-entropy: expected labels ({n},) or probabilities ({n}, {c}) for "
            f"logits ({n}, {c}), got shape {k.shape}"
        )
    if k.dtype.kind not in "iu":
        k = as_real_float(k, "softmax cross-entropy labels")
        if not np.all(k == np.round(k)):
            raise ValueError("softmax cross-entropy: labels must be integers")
    if n and not (k.min() >= 0 and k.max() < c):
        raise ValueError(f"softmax cross-entropy: labels must be in [0, {c})")
    return k.astype(np.intp, copy=False)


# --- hidden-layer activations ---------------------------------------------------------------


def relu(z: np.ndarray) -> FloatArray:
    """max(z, 0) elementwise."""
    return np.maximum(as_real_float(z, "relu"), 0)


def relu_backward(grad: ArrayLike, saved: ArrayLike) -> FloatArray:
    """dL/dz = grad where z > 0, else 0, with ``saved`` the ReLU's *input* z (the derivative
    at the kink is taken as 0).

    grad (any shape) is dL/dy; saved the same shape; returns that shape."""
    grad, z = _backward_args(grad, saved, "relu_backward")
    return grad * (z > 0)


def leaky_relu(z: np.ndarray, negative_slope: float = 0.01) -> FloatArray:
    """z for z > 0, negative_slope * z otherwise."""
    z = as_real_float(z, "leaky_relu")
    return np.where(z > 0, z, negative_slope * z)


def leaky_relu_backward(
    grad: ArrayLike, saved: ArrayLike, negative_slope: float = 0.01
) -> FloatArray:
    """dL/dz = grad where z > 0, negative_slope * grad otherwise, with ``saved`` the
    LeakyReLU's *input* z.

    grad (any shape) is dL/dy; saved the same shape; returns that shape."""
    grad, z = _backward_args(grad, saved, "leaky_relu_backward")
    return np.where(z > 0, grad, negative_slope * grad)


def tanh(z: np.ndarray) -> FloatArray:
    """Hyperbolic tangent."""
    return np.tanh(as_real_float(z, "tanh"))


def tanh_backward(grad: ArrayLike, saved: ArrayLike) -> FloatArray:
    """dL/dz = grad * (1 - y^2), with ``saved`` the tanh's *output* y = tanh(z).

    grad (any shape) is dL/dy; saved the same shape; returns that shape."""
    grad, y = _backward_args(grad, saved, "tanh_backward")
    return grad * (1.0 - y * y)


# --- labels ---------------------------------------------------------------------------------


def one_hot(y: np.ndarray, n_classes: int, dtype: np.dtype | type = np.float64) -> FloatArray:
    """Integer labels (N,) -> one-hot matrix (N, n_classes) of ``dtype`` (a real numeric type).

    Labels may be integers or integer-valued floats. Raises TypeError for an ``n_classes``
    or ``dtype`` of the wrong kind, ValueError naming the first label that is not an
    integer in [0, n_classes).
    """
    n_classes = check(n_classes, Integer(1), "n_classes", "one_hot")
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"one_hot: dtype must be a NumPy number type, got {dtype!r}") from None
    if out_dtype.kind not in "biuf":
        raise TypeError(f"one_hot: dtype must be a real number type, got {out_dtype}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: labels must be a 1-D array of shape (N,), got shape {y.shape}")
    if y.dtype.kind not in "iuf":
        raise ValueError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if y.size and y.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            fractional = ~np.isfinite(y) | (y != np.round(y))
        if fractional.any():
            raise ValueError(
                f"one_hot: labels must be integers; label {float(y[fractional][0])} is not one"
            )
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ValueError(f"one_hot: label {bad} is out of range [0, {n_classes})")
    try:
        out = np.zeros((y.shape[0], int(n_classes)), dtype=out_dtype)
    except (ValueError, MemoryError):
        raise ValueError(
            f"one_hot: a ({y.shape[0]}, {n_classes}) matrix of {out_dtype} does not fit in memory"
        ) from None
    out[np.arange(y.shape[0]), y.astype(np.intp)] = 1
    return out
