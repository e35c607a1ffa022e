"""Losses: ``forward(prediction_or_logits, target) -> float`` and ``backward() -> dL/d(first arg)``.

The classification losses take logits, never probabilities. Their values and gradients
are finite and accurate to a few ulps for every finite logit, including where the
exact value is tiny (no subtraction of nearly equal numbers):

    BCE      l(z, y) = y * softplus(-z) + (1 - y) * softplus(z)
             dl/dz   = (1 - y) * sigmoid(z) - y * sigmoid(-z)             (= sigmoid(z) - y)
    softmax  l(z, k) = (m - z_k) + log1p(sum_{j != argmax} exp(z_j - m)),  m = max_j z_j
             dl/dz   = softmax(z) - onehot(k)

``reduction="mean"`` (default) divides by the number of samples (for MSE: of elements);
``reduction="sum"`` adds them up.

Sample weights: ``forward(prediction, target, sample_weight)`` with w of shape (N,) weighs
each sample's terms (all K of its outputs for MSE, BCE and Poisson). The sum becomes
sum_n w_n l_n and the mean sum_n w_n l_n / (K sum_n w_n); the gradient is scaled alike, so a
weight of 2 equals the sample appearing twice, and 0 ignores it.

    Poisson  l(z, y) = exp(z) - y z + y log y - y     (half the Poisson deviance, z = log-rate)
             dl/dz   = exp(z) - y
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import functional as F
from ._changes import Counted
from ._checks import as_float_array, check_finite, check_nonempty
from .constraints import Options, Real, check

if TYPE_CHECKING:  # for annotations only: the losses do not need the layers to run
    from .layers import Parameter

__all__ = [
    "Loss",
    "MSELoss",
    "BCEWithLogitsLoss",
    "SoftmaxCrossEntropyLoss",
    "PoissonLoss",
    "L2Penalty",
    "finite_mean",
    "finite_mean_of_sum",
]


def finite_mean(values: np.ndarray) -> float:
    """The mean of ``values``, finite wherever the exact mean is: sum / n, as always, when the
    sum is finite; else (finite values whose sum overflowed) ``F.mean_no_overflow``."""
    total = float(values.sum())
    if math.isfinite(total) or not np.isfinite(values).all():
        return total / values.size
    return float(F.mean_no_overflow(values))


def finite_mean_of_sum(*parts: np.ndarray) -> float:
    """mean(sum of parts), where the sum of the parts overflows for some element although the
    mean may not: 2 * mean(sum of parts / 2), halving being exact."""
    half = sum(0.5 * part for part in parts)
    return 2.0 * finite_mean(np.asarray(half))


def _mean_square(err: np.ndarray) -> float:
    """mean(err^2), finite wherever the exact value is (err^2 overflows beyond ~1.3e154):
    s * mean((err / s)^2) * s with s = max |err| when the plain sum is not finite."""
    sq = err * err
    total = float(sq.sum())
    if math.isfinite(total) or not np.isfinite(err).all():
        return total / err.size
    s = float(np.max(np.abs(err)))
    r = err / s
    return (s * (float(np.sum(r * r)) / err.size)) * s


# how a loss adds up its per-sample terms
REDUCTIONS = Options("mean", "sum")


@functools.lru_cache(maxsize=16)
def zero_outputs(shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """Read-only zeros of ``shape`` and ``dtype`` held in one element (every stride 0): the
    dummy predictions a target is checked against, built once per (shape, dtype)."""
    zeros: np.ndarray = np.ndarray(
        shape, dtype=dtype, buffer=np.zeros(1, dtype), strides=(0,) * len(shape)
    )
    zeros.flags.writeable = False
    return zeros


class Loss(Counted):
    """Base class: ``forward`` validates, computes the loss and keeps dL/d(prediction) in
    ``self._grad``; ``backward`` returns it. Setting a public attribute (``reduction``, a
    method on the instance) counts as a change (``_changes``)."""

    def __init__(self, reduction: str = "mean"):
        self.reduction: str = check(reduction, REDUCTIONS, "reduction", type(self).__name__)
        self._grad: np.ndarray | None = None

    def __call__(self, prediction: ArrayLike, target: ArrayLike) -> float:
        return self.forward(prediction, target)

    def forward(self, prediction: ArrayLike, target: ArrayLike) -> float:
        """The loss of a batch; also computes dL/d(prediction) for ``backward``."""
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """dL/d(prediction), same shape and dtype as the last prediction."""
        if self._grad is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._grad

    def prepare_target(
        self, target: np.ndarray, shape: tuple[int, ...], dtype: DTypeLike
    ) -> np.ndarray:
        """``target`` checked against predictions of ``shape`` and ``dtype``, in the form the
        loss computes with (labels for softmax cross-entropy, else the predictions' shape):
        what a training loop checks once and then feeds to ``value_and_gradient`` batch by
        batch. A loss of your own (a subclass) is checked by its ``forward`` on zeros and
        gets the target back as given. Keeps no gradient."""
        if type(self) in BUILTIN_LOSSES:
            return self._validate(zero_outputs(shape, np.dtype(dtype)), target)[1]
        self.forward(np.zeros(shape, dtype=dtype), target)
        self._grad = None
        return target

    def value_and_gradient(
        self, prediction: np.ndarray, target: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """(loss, dL/d(prediction)) of a batch whose target is already prepared
        (``prepare_target``); here ``forward`` then ``backward``, a subclass may skip the
        checks ``prepare_target`` made once."""
        value = self.forward(prediction, target)
        return value, self.backward()

    def _validate(self, prediction: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Check both arguments; return them as the arrays the math uses (the prediction as
        a float array, the target in the prediction's shape and dtype)."""
        prediction = self._prediction(prediction)
        return prediction, self._target_like(target, prediction)

    def _prediction(self, prediction: ArrayLike) -> np.ndarray:
        name = f"{type(self).__name__} prediction"
        prediction = as_float_array(prediction, name)
        check_nonempty(prediction, name)
        if prediction.ndim not in (1, 2):
            raise ValueError(f"{name} must be (N,) or (N, K), got shape {prediction.shape}")
        check_finite(prediction, name)
        return prediction

    def _target_like(self, target: ArrayLike, prediction: np.ndarray) -> np.ndarray:
        """Target as an array of the prediction's shape; (N,) and (N, 1) are interchangeable.

        Only reshapes, never broadcasts: an (N,) target against (N, 1) predictions must not
        turn into an (N, N) loss.
        """
        name = f"{type(self).__name__} target"
        target = as_float_array(target, name, prediction.dtype)
        if target.shape != prediction.shape:
            same_rows = target.ndim >= 1 and target.shape[0] == prediction.shape[0]
            if not (
                same_rows
                and target.size == prediction.size
                and target.ndim <= 2
                and (target.ndim == 1 or prediction.ndim == 1 or target.shape[1] == 1)
            ):
                raise ValueError(
                    f"{name} has shape {target.shape}, which does not match the "
                    f"prediction's shape {prediction.shape}"
                )
            target = target.reshape(prediction.shape)
        check_finite(target, name)
        return target

    def _reduce(self, per_sample: np.ndarray, count: int) -> float:
        """Sum or mean over the ``count`` samples (a mean without overflow: see ``finite_mean``)."""
        if self.reduction == "mean" and per_sample.size == count:
            return finite_mean(per_sample)
        total = float(per_sample.sum())
        return total / count if self.reduction == "mean" else total

    def _scale(self, count: int) -> float:
        """The factor the reduction puts on each term's gradient: 1/count or 1."""
        return 1.0 / count if self.reduction == "mean" else 1.0

    def _weights(self, sample_weight: ArrayLike, n: int, dtype: DTypeLike) -> np.ndarray:
        """sample_weight as (n,) finite, non-negative weights (a positive sum for "mean")."""
        name = f"{type(self).__name__} sample_weight"
        w = as_float_array(sample_weight, name, dtype)
        if w.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), one weight per sample, got {w.shape}")
        check_finite(w, name)
        if np.any(w < 0):
            raise ValueError(f"{name} must be >= 0, found {w[w < 0][0]!r}")
        if self.reduction == "mean" and not w.sum() > 0:
            raise ValueError(f"{name} sums to 0: a weighted mean needs a positive total weight")
        return w

    def _weighted(self, per_term: np.ndarray, grad: np.ndarray, w: np.ndarray) -> float:
        """The weighted reduction of ``per_term`` ((N,) or (N, K), each sample's terms weighed
        by w_n); sets the gradient from ``grad`` (the terms' derivatives), scaled alike."""
        w_col = w.reshape((-1,) + (1,) * (per_term.ndim - 1))
        denom = 1.0
        if self.reduction == "mean":
            denom = float(w.sum()) * (per_term.size // max(per_term.shape[0], 1))
        self._grad = grad * (w.reshape((-1,) + (1,) * (grad.ndim - 1)) / denom)
        with np.errstate(over="ignore"):
            return float(np.sum(per_term * w_col)) / denom


class MSELoss(Loss):
    """Mean of squared errors over all elements: L = mean((y_hat - y)^2), no factor 1/2.

    Shapes: prediction (N,) or (N, K); target the same (or (N,) for (N, 1)).
    Gradient: dL/dy_hat = 2 (y_hat - y) / (N * K)   [sum: 2 (y_hat - y)].
    """

    def forward(
        self, prediction: ArrayLike, target: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        y_hat, y = self._validate(prediction, target)
        err = y_hat - y
        if sample_weight is not None:
            w = self._weights(sample_weight, err.shape[0], err.dtype)
            with np.errstate(over="ignore"):
                return self._weighted(err * err, 2.0 * err, w)
        self._grad = 2.0 * self._scale(err.size) * err
        with np.errstate(over="ignore"):  # an overflowing square is handled (or truly inf)
            return self._value(err)

    def value_and_gradient(
        self, prediction: np.ndarray, target: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """(loss, dL/d(prediction)) with the target prepared (``prepare_target``): the same
        numbers as ``forward`` and ``backward``, no checks, one fresh array."""
        err = prediction - target
        value = self._value(err)
        err *= 2.0 * self._scale(err.size)
        return value, err

    def _value(self, err: np.ndarray) -> float:
        """The loss of the errors err = y_hat - y (the mean without overflow)."""
        if self.reduction == "mean":
            return _mean_square(err)
        return float((err * err).sum())


def _check_binary(target: np.ndarray, name: str) -> None:
    if not np.all((target == 0) | (target == 1)):
        bad = target[(target != 0) & (target != 1)].ravel()[0]
        raise ValueError(f"{name} must hold only 0 and 1, found {bad!r}")


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits z, labels y in {0, 1}.

    Shapes: logits (N,) or (N, 1) (or (N, K) for K independent labels), target the same.
    l = -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = y softplus(-z) + (1 - y) softplus(z)
    dl/dz = sigmoid(z) - y, written as (1 - y) sigmoid(z) - y sigmoid(-z) so that both
    branches keep full relative precision (at z = 40, y = 1 it is -4.2e-18, not 0).
    Reduction over samples: mean divides by N (the number of logits).
    """

    def _validate(self, logits: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        z, y = super()._validate(logits, target)
        _check_binary(y, "BCEWithLogitsLoss target")
        return z, y

    def forward(
        self, logits: ArrayLike, target: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        z, y = self._validate(logits, target)
        per_sample = y * F.softplus(-z) + (1 - y) * F.softplus(z)
        grad = (1 - y) * F.sigmoid(z) - y * F.sigmoid(-z)
        if sample_weight is not None:
            return self._weighted(
                per_sample, grad, self._weights(sample_weight, z.shape[0], z.dtype)
            )
        self._grad = grad * self._scale(z.size)
        with np.errstate(over="ignore"):  # an overflowing sum is handled (or truly inf)
            return self._reduce(per_sample, z.size)


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax followed by cross-entropy, fused, on logits Z of shape (N, C).

    Target: integer labels (N,) in [0, C) or a one-hot / probability matrix (N, C).
        l_n = logsumexp(Z_n) - Z_n[k_n] = -log_softmax(Z_n)[k_n]
        dl/dZ_n = softmax(Z_n) - onehot(k_n)
    Soft targets q (N, C): l_n = -sum_j q_nj log_softmax(Z_n)_j, dl/dZ_n = softmax(Z_n) - q_n.

    For accuracy where the loss is tiny (the true class dominates by 40, say), logsumexp
    is split as m + log1p(s), with m the row's max and s the sum of exp(Z_j - m) over the
    other classes: the loss is then log1p(s) itself (~ s), and the true class's gradient
    -s / (1 + s), not p - 1 rounded to 0. The rows' arithmetic is
    ``functional.softmax_cross_entropy``; this class checks, weighs and reduces.
    """

    def _validate(self, logits: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """-> logits (N, C) and either integer labels (N,) or soft targets (N, C)."""
        z = self._prediction(logits)
        if z.ndim != 2:
            raise ValueError(f"SoftmaxCrossEntropyLoss logits must be (N, C), got shape {z.shape}")
        return z, self._labels(target, z)

    def forward(
        self, logits: ArrayLike, target: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        z, target = self._validate(logits, target)
        n = z.shape[0]
        w = None if sample_weight is None else self._weights(sample_weight, n, z.dtype)
        per_sample, grad = F.softmax_cross_entropy(z, target)
        if w is not None:
            return self._weighted(per_sample, grad, w)
        self._grad = grad * self._scale(n)
        with np.errstate(over="ignore"):  # an overflowing sum is handled (or truly inf)
            value = self._reduce(per_sample, n)
        if self.reduction == "mean" and not math.isfinite(value) and target.ndim == 1:
            # (m - z_k) overflows where the logits span more than the largest float: the
            # mean of the halves of its terms does not
            with np.errstate(over="ignore"):
                value = finite_mean_of_sum(*F.softmax_cross_entropy_terms(z, target))
        return value

    def _labels(self, target: ArrayLike, z: np.ndarray) -> np.ndarray:
        """-> integer labels (N,), or soft targets (N, C) when the rows are not one-hot."""
        n, c = z.shape
        name = "SoftmaxCrossEntropyLoss target"
        target = np.asarray(target)
        if target.ndim == 2 and target.shape == (n, c):
            soft = as_float_array(target, name, z.dtype)
            check_finite(soft, name)
            if np.any(soft < 0) or not np.allclose(soft.sum(axis=1), 1.0):
                raise ValueError(
                    f"{name}: each row of a (N, C) target must be a probability "
                    "vector (non-negative, summing to 1)"
                )
            is_one_hot = np.all((soft == 0) | (soft == 1))
            return np.argmax(soft, axis=1) if is_one_hot else soft
        if target.ndim == 2 and target.shape == (n, 1):
            target = target[:, 0]
        if target.ndim != 1 or target.shape[0] != n:
            raise ValueError(
                f"{name} has shape {target.shape}; expected labels ({n},) or "
                f"one-hot ({n}, {c}) for logits {z.shape}"
            )
        if not np.issubdtype(target.dtype, np.integer):
            t = as_float_array(target, name)
            check_finite(t, name)
            if not np.all(t == np.round(t)):
                raise ValueError(f"{name}: labels must be integers, got non-integer values")
            target = t.astype(np.intp)
        if target.min() < 0 or target.max() >= c:
            bad = target[(target < 0) | (target >= c)][0]
            raise ValueError(f"{name}: label {bad} is out of range [0, {c})")
        return target.astype(np.intp, copy=False)


class PoissonLoss(Loss):
    """Half the Poisson deviance, from the log of the rate: the network emits z = log(mu).

    Shapes: z (N,) or (N, K), counts y >= 0 the same.
        l(z, y) = exp(z) - y z + y log y - y      (0 where mu = y; y log y = 0 at y = 0)
        dl/dz   = exp(z) - y
    Working from z keeps log(mu) exact (no log of a rounded exp) and the gradient free of a
    division by mu; exp(z) overflows only where the rate itself exceeds the float range.
    Reduction: mean over all elements, like ``MSELoss``.
    """

    def _validate(self, prediction: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        z, y = super()._validate(prediction, target)
        if np.any(y < 0):
            raise ValueError(
                f"PoissonLoss target must be >= 0 (counts or rates), found {y[y < 0][0]!r}"
            )
        return z, y

    def forward(
        self, prediction: ArrayLike, target: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        z, y = self._validate(prediction, target)
        with np.errstate(over="ignore"):  # a rate beyond the float range: the loss is inf
            mu = np.exp(z)
            y_log_y = np.zeros_like(y)
            np.log(y, out=y_log_y, where=y > 0)
            y_log_y *= y
            per_term = (mu - y * z) + (y_log_y - y)
            grad = mu - y
        if sample_weight is not None:
            return self._weighted(per_term, grad, self._weights(sample_weight, z.shape[0], z.dtype))
        self._grad = grad * self._scale(z.size)
        with np.errstate(over="ignore"):
            return self._reduce(per_term, z.size)


class L2Penalty:
    """An L2 penalty on the weights, as an explicit loss term.

    ``convention="half"``:  R = (lam / 2) * sum ||W||^2,  dR/dW = lam * W   (matches weight decay)
    ``convention="full"``:  R = lam * sum ||W||^2,        dR/dW = 2 lam W  (Keras L2)
    Only parameters with ``regularize=True`` (weights, not biases) are penalized.
    ``add_gradient`` adds dR/dW to each parameter's ``.grad`` in place, after backward.
    """

    def __init__(self, lam: float, convention: str = "half"):
        self.lam: float = check(lam, Real(0.0), "lam", "L2Penalty")
        self.convention: str = check(convention, Options("half", "full"), "convention", "L2Penalty")
        self._factor: float = 0.5 * self.lam if convention == "half" else self.lam

    def __call__(self, params: Iterable[Parameter]) -> float:
        return self.value(params)

    def value(self, params: Iterable[Parameter]) -> float:
        return self._factor * sum(float(np.sum(p.value * p.value)) for p in params if p.regularize)

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        if self.lam == 0.0:
            return
        for p in params:
            if p.regularize:
                p.grad += (2.0 * self._factor) * p.value


class L1Penalty:
    """An L1 penalty on the weights, as an explicit loss term (Lasso's penalty).

    R = lam * sum |W|,   dR/dW = lam * sign(W)
    |W| has no derivative at W = 0; ``add_gradient`` uses the subgradient 0 there
    (``np.sign(0) == 0``). What that means for a learner: a weight that is exactly 0 feels
    no pull from the penalty, only the data's gradient, so a weight at 0 that the data does
    not move (zero data gradient) sits exactly at 0. Anywhere else the pull has the same
    size lam however small the weight is, so unneeded weights are driven to 0 and then hop
    across it by about lr * lam a step (a gradient step rarely lands exactly on 0; a
    proximal step, soft-thresholding, would). L2's pull lam * W fades as W shrinks instead.
    Only parameters with ``regularize=True`` (weights, not biases) are penalized.
    ``add_gradient`` adds dR/dW to each parameter's ``.grad`` in place, after backward.
    """

    def __init__(self, lam: float):
        self.lam: float = check(lam, Real(0.0), "lam", "L1Penalty")

    def __call__(self, params: Iterable[Parameter]) -> float:
        return self.value(params)

    def value(self, params: Iterable[Parameter]) -> float:
        return self.lam * sum(float(np.sum(np.abs(p.value))) for p in params if p.regularize)

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        if self.lam == 0.0:
            return
        for p in params:
            if p.regularize:
                p.grad += self.lam * np.sign(p.value)


# the losses whose targets ``prepare_target`` checks with their own rules (exact types)
BUILTIN_LOSSES = (MSELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss)
