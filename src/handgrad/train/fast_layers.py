"""The fast step's layers and batch gather: ``fast.FastStep`` runs a model's forward and
backward passes through these kernels, into buffers they keep per batch size, and takes
each batch's rows through ``BatchGather``.

``handgrad.nn.layers`` is the readable reference; ``tests/test_fastpath.py`` and
``tests/test_fastpath_small.py`` keep these kernels equal to it (the products bit for bit).

A small network's step (W3: ~40 us) pays for every call, so the buffers of the last
batch size are attributes (one comparison a call, no look-up), ufuncs get ``out`` and
constants as arrays of the dtype (``y += b`` or ``x + 1.0`` costs ~0.2-0.4 us more on such
arrays), and the gather runs a plan made once per batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..nn.layers import Linear, Module, ReLU, Sequential
from . import threads

__all__ = ["LinearKernel", "ReLUKernel", "Model", "BatchGather"]


# --- layers (each kernel keeps its buffers per batch size: an epoch has a full and a last) ---


class LinearKernel:
    """Linear.forward / backward into buffers; db as the BLAS product 1^T G (several times
    faster than G.sum(axis=0) on small G; equal to a few ulps). Every product goes through
    ``np.dot``, which calls BLAS with less overhead than ``np.matmul`` (0.4 us of 1 on
    1^T G, about 10% of a 32 x 64 x 64 X^T G), in its method form ``a.dot(b, out)``:
    the same function without np.dot's dispatch (~0.15 us a call).

    The buffers of the batch size last seen are attributes (``y``, ``dx``, ``ones``): the
    forward pass compares one number per call and switches only when the size changes
    (twice an epoch with a short last batch); the backward pass reads them as they are."""

    def __init__(self, layer: Linear, dtype: DTypeLike, input_grad: bool):
        self.layer, self.dtype, self.input_grad = layer, dtype, input_grad
        self.weight, self.bias = layer.weight, layer.bias
        self.x: np.ndarray = np.empty((0, 0))
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.rows = -1  # the batch size of the buffers below
        self.y = self.dx = self.ones = self.x

    def _use_rows(self, n: int) -> None:
        """y (n, out), dx (n, in) and ones (n,) become the buffers for batches of n rows."""
        bufs = self._buffers.get(n)
        if bufs is None:
            layer, dtype = self.layer, self.dtype
            bufs = self._buffers[n] = (
                np.empty((n, layer.out_features), dtype),
                np.empty((n, layer.in_features), dtype),
                np.ones(n, dtype),
            )
        self.y, self.dx, self.ones = bufs
        self.rows = n

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        if len(x) != self.rows:
            self._use_rows(len(x))
        y = x.dot(self.weight.value, self.y)
        if self.bias is not None:
            np.add(y, self.bias.value, y)  # (``y += b`` takes a slower path: ~0.2 us)
        return y

    def backward(self, g: np.ndarray) -> np.ndarray | None:
        """dL/dW and dL/db into the parameters' gradients, for the batch of the last
        forward pass (whose buffers are the current ones); returns dL/dx (a buffer) or None."""
        self.x.T.dot(g, self.weight.grad)
        bias = self.bias
        if bias is not None:
            self.ones.dot(g, bias.grad)
        if not self.input_grad:
            return None
        return g.dot(self.weight.value.T, self.dx)


class ReLUKernel:
    """max(x, 0) and G * (x > 0), into buffers (the mask too). The zero is an array of the
    dtype: a Python 0 costs a scalar conversion on every call.

    In place where nothing else reads the array: forward over x when x is the output
    buffer of the Linear before it (x > 0 exactly where max(x, 0) > 0, so the mask is
    taken from the output alone), backward over G when G is the input-gradient buffer of
    the Linear after it. A pass writing a second array costs more than one writing back
    where it read (128 x 256 float64: 21 us against 15), and the buffers stay fewer.
    Like the Linear kernel's, the buffers of the shape last seen are attributes."""

    def __init__(
        self, dtype: DTypeLike, in_place_forward: bool = False, in_place_backward: bool = False
    ):
        self.dtype = dtype
        self.zero = np.zeros((), dtype)
        self.in_place_forward, self.in_place_backward = in_place_forward, in_place_backward
        self._buffers: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.shape: tuple[int, ...] = ()  # the inputs' shape of the buffers below
        self.x = self.y = self.dx = np.empty((0, 0), dtype)
        self.mask = np.empty((0, 0), np.bool_)

    def _use_shape(self, shape: tuple[int, ...]) -> None:
        """y, dx and mask become the buffers for inputs of ``shape`` (y is x itself when
        forward works in place, dx is G when backward does)."""
        bufs = self._buffers.get(shape)
        if bufs is None:
            dtype = self.dtype
            bufs = self._buffers[shape] = (
                np.empty((0,) if self.in_place_forward else shape, dtype),
                np.empty((0,) if self.in_place_backward else shape, dtype),
                np.empty(shape, np.bool_),
            )
        self.y, self.dx, self.mask = bufs
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        if x.shape != self.shape:
            self._use_shape(x.shape)
        y: np.ndarray = np.maximum(x, self.zero, out=x if self.in_place_forward else self.y)
        return y

    def backward(self, g: np.ndarray) -> np.ndarray:
        mask = np.greater(self.x, self.zero, self.mask)
        grad_x: np.ndarray = np.multiply(g, mask, g if self.in_place_backward else self.dx)
        return grad_x


class Model:
    """The layers' kernels in order; layers before the first with parameters get no
    backward at all, and that one skips dL/dx. Other activations run their own methods.
    A ReLU between two Linear layers works in place both ways (``ReLUKernel``)."""

    def __init__(self, model: Module, dtype: DTypeLike):
        layers = model.layers if type(model) is Sequential else [model]
        with_params = [i for i, layer in enumerate(layers) if layer.parameters()]
        self.first = with_params[0] if with_params else len(layers)
        linear = [type(layer) is Linear for layer in layers] + [False]
        self.kernels: list[LinearKernel | ReLUKernel | Module] = []
        for i, layer in enumerate(layers):
            if type(layer) is Linear:
                self.kernels.append(LinearKernel(layer, dtype, input_grad=i > self.first))
            elif type(layer) is ReLU:
                # (the Linear after it returns its own dx buffer: it has one, as i + 1 > first)
                after_linear = i > 0 and linear[i - 1]
                self.kernels.append(ReLUKernel(dtype, after_linear, linear[i + 1]))
            else:
                self.kernels.append(layer)

        self._forwards = [kernel.forward for kernel in self.kernels]
        # each returns dL/d(its input), or None (the first layer with parameters, called last)
        self._backwards: Sequence[Callable[[np.ndarray], Any]] = [
            kernel.backward for kernel in self.kernels[self.first :]
        ][::-1]

    def fold_first(self, backward: Callable[[np.ndarray], None]) -> None:
        """``backward`` runs as the first layer's (a ``fast_fold.FoldedUpdate``'s)."""
        self._backwards = [*self._backwards[:-1], backward]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for forward in self._forwards:
            x = forward(x)
        return x

    def backward(self, g: np.ndarray) -> None:
        for backward in self._backwards:  # last layer first, down to the first with parameters
            g = backward(g)


# --- the batch gather -------------------------------------------------------------------------


class BatchGather:
    """The rows idx of each array, gathered into buffers reused across steps of the same
    size. Returns one batch per array given (None stays None). A large batch of the first
    array (X) is copied by several threads, each its own rows.

    Per batch size, a plan: the buffers to fill and the list to return, made at the size's
    first batch and kept across calls (it holds no reference to the data: a released step
    keeps none). What does refer to the data, the arrays' ``take`` methods, is made once
    whenever ``arrays`` is set."""

    def __init__(self, *arrays: np.ndarray | None, thread_count: int = 1):
        self.thread_count = thread_count
        self._plans: dict[int, tuple[list[np.ndarray], list[np.ndarray | None]]] = {}
        self._rows: dict[int, list[tuple[int, int]]] = {}  # row ranges of X per thread
        self.arrays = arrays

    @property
    def arrays(self) -> tuple[np.ndarray | None, ...]:
        return self._arrays

    @arrays.setter
    def arrays(self, arrays: tuple[np.ndarray | None, ...]) -> None:
        self._arrays = arrays
        self.last: Any = None  # the row indices of the last batch gathered
        takes: list[Callable[..., Any]] = [a.take for a in arrays if a is not None]
        if takes and self.thread_count > 1:  # (X's rows split across threads when large)
            takes[0] = self._take_first
        self._takes = takes

    def __call__(self, idx: np.ndarray) -> list[np.ndarray | None]:
        self.last = idx  # (the rows the buffers of its size hold: ``fast_fold``)
        plan = self._plans.get(len(idx))
        bufs, out = self._plan(len(idx)) if plan is None else plan
        # idx is always in range (it comes from batches()); mode="clip" spares take the
        # bounds-checking copy that the default mode makes when given ``out``
        for take, buf in zip(self._takes, bufs):
            take(idx, 0, buf, "clip")
        return out

    def _plan(self, k: int) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """For batches of k rows: the buffers of the arrays given, in order, and the
        batches' list (None where no array was given)."""
        out = [None if a is None else np.empty((k, *a.shape[1:]), a.dtype) for a in self.arrays]
        self._rows[k] = self._row_parts(k)
        plan = self._plans[k] = ([b for b in out if b is not None], out)
        return plan

    def _take_first(self, idx: np.ndarray, axis: int, xb: np.ndarray, mode: str) -> None:
        """X.take(idx, axis, xb, mode), each thread copying its own rows of xb when the
        batch is large enough to gain (``_row_parts``)."""
        first: Any = self._arrays[0]
        rows = self._rows[len(idx)]
        if len(rows) == 1:
            first.take(idx, axis, xb, mode)
            return
        threads.run_parts(lambda r: first.take(idx[r[0] : r[1]], axis, xb[r[0] : r[1]], mode), rows)

    def _row_parts(self, k: int) -> list[tuple[int, int]]:
        """Rows [a, b) of a batch of k for each thread (one range when too small to gain)."""
        first: Any = self.arrays[0]
        row = math.prod(first.shape[1:])
        parts = max(1, min(self.thread_count, k * row // threads.MIN_PER_THREAD, k))
        return [(k * j // parts, k * (j + 1) // parts) for j in range(parts)]
