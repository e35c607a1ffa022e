"""The fast path's fused loss kernels: each returns (loss, dL/d(outputs)) in one pass
over buffers it keeps, for the target ``Loss.prepare_target`` returned (validated once).

``handgrad.nn.losses`` (through ``handgrad.nn.functional``) is the readable reference;
``tests/test_fastpath.py`` keeps these kernels equal to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..nn.losses import (
    BCEWithLogitsLoss,
    Loss,
    MSELoss,
    SoftmaxCrossEntropyLoss,
    finite_mean,
    finite_mean_of_sum,
)

__all__ = ["LossKernel", "RowWeighted", "SoftmaxCEKernel", "bce_kernel"]


class RowWeighted(NamedTuple):
    """A batch's target with one weight per row, for the kernels' weighted sum:
    value sum_n w_n l_n (l_n: row n's loss, summed over its outputs), gradient row n times
    w_n. Only for ``reduction="sum"``: the textbook ``Loss.forward(z, t, w)`` is the
    reference, equal to a few ulps (the sums' order differs)."""

    target: np.ndarray
    weights: np.ndarray


def _bce_terms(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BCE on logits z and 0/1 labels y (same shape) -> (each term l, dl/dz), both z's shape.

    With t = z (y = 0) or -z (y = 1), the logit of the wrong answer: l = softplus(t) and
    dl/dz = sign * sigmoid(t), both from e = exp(-|z|) = exp(-|t|):
    softplus(t) = max(t, 0) + log1p(e), sigmoid(t) = (1 if t >= 0 else e) / (1 + e).
    This is F.softplus and F.sigmoid written out once for both terms, bit for bit.
    """
    sign = 1.0 - 2.0 * y
    t = z * sign
    e = np.exp(-np.abs(z))
    terms = np.maximum(t, 0)
    terms += np.log1p(e)
    grad = np.where(t >= 0, 1.0, e)
    grad /= 1.0 + e
    grad *= sign
    return terms, grad


def bce_kernel(
    z: np.ndarray, y: np.ndarray, scale: float, reduction_mean: bool
) -> tuple[float, np.ndarray]:
    """BCE on logits z and 0/1 labels y (same shape) -> (loss, dL/dz) (``_bce_terms``)."""
    terms, grad = _bce_terms(z, y)
    total = float(terms.sum())
    grad *= scale
    if reduction_mean:  # a sum of terms near 1e308 may overflow where the mean does not
        total = total / z.size if math.isfinite(total) else finite_mean(terms)
    return total, grad


class SoftmaxCEKernel:
    """Softmax cross-entropy on integer labels through flat indices into z.ravel():
    l_n = (m - z_k) + log1p(s), dl/dz = (e - (1 + s) onehot(k)) / (1 + s), with m the
    row max, e = exp(z - m) and s the mass of the non-maximal classes.

    Every array it writes is a buffer per (N, C, dtype); the gradient it returns is one of
    them, overwritten by the next call. The sums are BLAS products with a vector of ones
    (a row sum of a 32 x 10 array: 0.6 us against 1.5 for ``np.add.reduce``; equal to a
    few ulps, and NaN still propagates); the takes use mode="clip" (no bounds-checking
    copy), safe because the indices are built in range.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[Any, ...], tuple[np.ndarray, ...]] = {}

    def _for_shape(self, n: int, c: int, dtype: np.dtype[Any], scale: float) -> tuple[Any, ...]:
        """Buffers and their views: row starts; flat indices [argmax; label] (2N,) and its
        halves; the z there [m; z_k] (2N,) and its halves; the values to put at the indices
        [1; e at the label] (2N,) and its label half; ones (C,) and (N,); e (N, C); s and
        its (N, 1) column; m's (N, 1) column; per-sample; tmp; then 0, 1 and ``scale`` as
        arrays of the dtype (a Python number costs a conversion on every call)."""
        bufs = self._buffers.get((n, c, dtype, scale))
        if bufs is None:
            at, fix, z_at = np.empty(2 * n, np.intp), np.empty(2 * n, dtype), np.empty(2 * n, dtype)
            fix[:n] = 1.0  # e at each row's max, restored after the sum; never overwritten
            s = np.empty(n, dtype)
            bufs = self._buffers[n, c, dtype, scale] = (
                np.arange(0, n * c, c),
                at,
                at[:n],
                at[n:],
                z_at,
                z_at[:n],
                z_at[n:],
                fix,
                fix[n:],
                np.ones(c, dtype),
                np.ones(n, dtype),
                np.empty((n, c), dtype),
                s,
                s[:, None],
                z_at[:n, None],
                np.empty(n, dtype),
                np.empty(n, dtype),
                np.zeros((), dtype),
                np.ones((), dtype),
                np.array(scale, dtype),
            )
        return bufs

    def per_sample(self, z: np.ndarray) -> np.ndarray:
        """The (N,) per-row losses of the last call with ``scale=1`` on z's shape and dtype
        (a buffer, overwritten by the next call)."""
        n, c = z.shape
        return self._buffers[n, c, z.dtype, 1.0][15]

    def __call__(
        self, z: np.ndarray, labels: np.ndarray, scale: float, reduction_mean: bool
    ) -> tuple[float, np.ndarray]:
        n, c = z.shape
        bufs = self._buffers.get((n, c, z.dtype, scale)) or self._for_shape(n, c, z.dtype, scale)
        row_start, at, at_top, at_label, z_at, m, z_label, fix, e_label = bufs[:9]
        ones_c, ones_n, e, s, s_col, m_col, per_sample, tmp, zero, one, scale_ = bufs[9:]
        # (ufunc calls with ``out`` in place of ``+=`` and the like: the operators take a
        # slower path, ~0.2 us a call on these small arrays)
        add, subtract = np.add, np.subtract
        z.argmax(1, at_top)
        add(at_top, row_start, at_top)
        add(labels, row_start, at_label)

        z.take(at, None, z_at, "clip")  # m, the (N,) row maxima, and z_k at the labels
        subtract(z, m_col, e)
        np.exp(e, e)  # (N, C), each in (0, 1], exactly 1 at the max
        e.take(at_label, None, e_label, "clip")
        e.put(at_top, zero)
        e.dot(ones_c, s)  # (N,) the non-maximal classes' mass, relative to the max
        subtract(m, z_label, per_sample)
        add(per_sample, np.log1p(s, tmp), per_sample)
        total = float(per_sample.dot(ones_n))
        value = total / n if reduction_mean else total
        if reduction_mean and not math.isfinite(total):  # m - z_k itself may overflow
            value = finite_mean_of_sum(m, -z_label, np.log1p(s))

        # at the label, e_k - (1 + s) as (e_k - 1) - s: exactly -s where the label is the max.
        # One put writes 1 back at every max, then the label entries: put writes in order,
        # so where the label is the max its entry wins.
        subtract(e_label, one, e_label)
        subtract(e_label, s, e_label)
        e.put(at, fix)
        add(s, one, s)
        np.divide(scale_, s, s)
        np.multiply(e, s_col, e)
        return value, e


_KERNELS = {SoftmaxCrossEntropyLoss: "_softmax_ce", BCEWithLogitsLoss: "_bce", MSELoss: "_mse"}


class LossKernel:
    """The fused loss for the target in the form ``Loss.prepare_target`` returns:
    ``(outputs, target) -> (loss, dL/d(outputs))``."""

    def __init__(self, loss: Loss):
        self.loss = loss
        self.mean = loss.reduction == "mean"
        self.softmax_ce = SoftmaxCEKernel()

    @property
    def kernel(self) -> Callable[[np.ndarray, Any], tuple[float, np.ndarray]]:
        """The loss's kernel, a bound method made on each access (kept on the object, it
        would make a reference cycle, left to the cycle collector when the step dies)."""
        kernel: Callable[[np.ndarray, Any], tuple[float, np.ndarray]] = getattr(
            self, _KERNELS[type(self.loss)]
        )
        return kernel

    def __call__(self, z: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        return self.kernel(z, target)

    def _softmax_ce(self, z: np.ndarray, target: Any) -> tuple[float, np.ndarray]:
        if type(target) is RowWeighted:
            return self._weighted(z, *target)
        if target.ndim == 2:  # soft targets: the reference computation
            return self.loss.value_and_gradient(z, target)
        return self.softmax_ce(z, target, 1.0 / len(z) if self.mean else 1.0, self.mean)

    def _bce(self, z: np.ndarray, target: Any) -> tuple[float, np.ndarray]:
        if type(target) is RowWeighted:
            return self._weighted(z, *target)
        return bce_kernel(z, target, 1.0 / z.size if self.mean else 1.0, self.mean)

    def _mse(self, z: np.ndarray, target: Any) -> tuple[float, np.ndarray]:
        if type(target) is RowWeighted:
            return self._weighted(z, *target)
        return self.loss.value_and_gradient(z, target)

    def _weighted(
        self, z: np.ndarray, target: np.ndarray, w: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """(sum_n w_n l_n, w_n dl_n/dz_n) for ``reduction="sum"`` (``RowWeighted``); w (N,)."""
        if self.mean:
            raise ValueError("RowWeighted targets are for reduction='sum' only")
        loss = self.loss
        if isinstance(loss, SoftmaxCrossEntropyLoss):
            if target.ndim == 2:  # soft targets: the reference computation
                return loss.forward(z, target, w), loss.backward()
            _, grad = self.softmax_ce(z, target, 1.0, False)
            per_row = self.softmax_ce.per_sample(z)
        elif isinstance(loss, BCEWithLogitsLoss):
            per_row, grad = _bce_terms(z, target)
        else:  # MSELoss
            per_row = z - target
            grad = per_row * 2.0  # (the reference's 2 err, then times w)
            per_row *= per_row
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(w.dot(per_row).sum())
            grad *= w.reshape((-1,) + (1,) * (grad.ndim - 1))
        return value, grad
