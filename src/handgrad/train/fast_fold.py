"""Plain SGD's update of the first layer's weights folded into its weight-gradient product.

The unfolded fast step spends three passes over the first layer's weights: the product
dL/dW = X^T G into the gradient (which zeroes it first), the check that it is finite, and
W <- W - lr dL/dW. Folded, one BLAS call does W <- W - lr X^T G (``blas.fold_update``) and
the gradient is never written at the step. On W2 (784 x 256) that is the largest cost
outside the products (docs/performance.md, "The SGD update folded into the product").

What that must not change, and how it does not:

- **the numbers**: the fold gives the bits of product-then-``axpy`` on OpenBLAS (one fused
  multiply-add per element either way; tested), each element computed by one thread;
- **the divergence verdicts**: before the update the step needs to know whether dL/dW is
  finite. ``blas.product_bounded`` proves it without the product (X and G finite and
  sum|X| sum|G| far below the largest float); when it cannot, the gradient is written and
  checked exactly as the unfolded step does, and the update then reads it;
- **what users see in ``.grad``**: ``fit`` allows folding only for a run of steps where
  nothing can read the gradients (no callback acting between steps) and ends every run
  with ``write``, which puts X^T G of the last step trained into the gradient: the very
  product the unfolded step writes. X is that step's batch (gathered again from its rows
  when a later batch took the buffer: a rollback after a non-finite loss), G its backward's
  array, which only a later backward replaces (G comes from a later Linear's dL/dx buffer,
  hence the second Linear asked for).

Anything else (momentum, weight decay, an L2 penalty, a learning rate that is not a Python
number, small weights, no usable BLAS) takes the unfolded step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn._checks import DOT_CHECK_MAX
from ..nn.layers import Parameter
from ..nn.optim import SGD, Optimizer
from . import blas
from .fast_layers import BatchGather, LinearKernel, Model

__all__ = ["FoldedUpdate"]


class FoldedUpdate:
    """The first Linear's backward and its weights' plain SGD update, folded (see above).

    States: ``due`` (G recorded, the gradient unwritten, the update not applied); after
    ``apply``, G stays recorded until ``write`` or the next backward; ``g`` is None once the
    gradient is written (or when the step did not fold)."""

    def __init__(self, kernel: LinearKernel, gather: BatchGather):
        self.kernel, self.gather, self.weight = kernel, gather, kernel.weight
        self.allowed = False  # fit's say: nothing reads .grad during these steps
        self.on = False  # this step folds (``FastStep.backward`` decides)
        self.due = False
        self.g: np.ndarray | None = None  # G (n, out) of a step whose dL/dW is unwritten
        self.x: np.ndarray = kernel.x  # its batch (n, in), and the rows it came from
        self.idx: Any = None

    @classmethod
    def of(
        cls, model: Model, gather: BatchGather, optimizer: Optimizer, params: list[Parameter]
    ) -> FoldedUpdate | None:
        """The fold for this step's pieces, or None when it cannot apply: the model starts
        with a Linear whose weights are large (a BLAS update), a later Linear exists, the
        optimizer is SGD over the model's own parameters, and NumPy's BLAS has a gemm."""
        kernels = model.kernels
        first = kernels[0] if kernels else None
        if type(first) is not LinearKernel or not any(type(k) is LinearKernel for k in kernels[1:]):
            return None
        w = first.weight.value
        return (
            cls(first, gather)
            if type(optimizer) is SGD
            and optimizer.params == params
            and params[0] is first.weight
            and w.size >= blas.MIN_SIZE
            and w.size > DOT_CHECK_MAX
            and blas.can_fold(w.dtype)
            else None
        )

    def backward(self, g: np.ndarray) -> None:
        """The first Linear's backward (``LinearKernel.backward`` when not folding): dL/db,
        and G kept for the update instead of dL/dW written."""
        kernel = self.kernel
        if not self.on:
            self.g, self.due = None, False
            kernel.backward(g)
            return
        if kernel.bias is not None:
            kernel.ones.dot(g, kernel.bias.grad)
        self.g, self.x, self.idx, self.due = g, kernel.x, self.gather.last, True

    def bounded(self) -> bool:
        """True if dL/dW = X^T G is certainly finite (``blas.product_bounded``); else it is
        written into the gradient, to be checked there, and False."""
        assert self.g is not None
        if blas.product_bounded(self.x, self.g):
            return True
        self.write()
        return False

    def apply(self, lr: float) -> bool:
        """W <- W - lr X^T G in one BLAS call; False (the gradient written, the update left to
        the caller) when the BLAS cannot take the arrays."""
        assert self.g is not None
        self.due = False
        if blas.fold_update(-lr, self.x, self.g, self.weight.value):
            return True
        self.write()
        return False

    def write(self) -> None:
        """dL/dW of the last step trained into the weight's gradient, if not there yet: the
        product the unfolded step writes, on that step's batch."""
        g = self.g
        if g is None:
            return
        x = self.x
        if self.gather.last is not self.idx:  # (the buffer holds a later batch's rows now)
            X: Any = self.gather.arrays[0]
            x = X.take(self.idx, 0)
        x.T.dot(g, self.weight.grad)
        self.g, self.due = None, False
