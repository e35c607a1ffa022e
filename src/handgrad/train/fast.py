"""The fast implementation of the built-in modules, losses and optimizers, used by ``fit``.

``handgrad.nn`` is the readable reference: every module, loss and optimizer computes its
math in plain NumPy expressions that allocate fresh arrays and check their inputs. This
module computes the same numbers for the built-in types ``fit`` recognises (exact types:
a ``Sequential`` of Linear / ReLU / LeakyReLU / Tanh / Sigmoid / Identity, the three
built-in losses, SGD / Adam / RMSProp), the way PyTorch keeps a readable single-tensor
optimizer beside a fused one:

- every array a step writes is a buffer allocated once per batch size and reused;
- the first layer with parameters skips dL/dx, which nobody needs;
- the losses are fused kernels on a target validated once (``fast_losses``: flat-index
  softmax cross-entropy with its exact tail; BCE sharing one exp between loss and gradient);
- the optimizers update each parameter in place (``fast_updates``; SGD in one pass);
- the batch gather copies the rows of X into a reused buffer.

It writes into the user's own arrays (``p.value``, ``p.grad``, the optimizer's ``state``),
never rebinds them, and keeps nothing on them. A ``FastStep`` serves one ``fit`` call at a
time; ``fit`` hands it back (``release``) and the model's next call with the same pieces
and shapes takes it again (``fast_step``). A very large batch gather is split across
threads (``threads``); large SGD updates run on NumPy's BLAS threads (``blas``); neither
changes a bit with the thread count.

``tests/test_fastpath.py`` keeps every kernel and whole trajectories equal to the reference
to a few ulps in float64. Everything else takes the reference path.
"""

from __future__ import annotations

import math
import operator
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..nn._checks import DOT_CHECK_MAX
from ..nn.layers import (
    Identity,
    LeakyReLU,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from ..nn.losses import BCEWithLogitsLoss, L2Penalty, Loss, MSELoss, SoftmaxCrossEntropyLoss
from ..nn.optim import SGD, Adam, Optimizer, RMSProp
from . import blas, threads
from .fast_losses import LossKernel
from .fast_updates import Update
from .guard import weight_checks

__all__ = [
    "FastStep",
    "fast_step",
    "cached_step",
    "release",
    "supports",
    "BatchGather",
    "LAYERS",
    "LOSSES",
    "OPTIMIZERS",
]

# the exact types this module implements
LAYERS = (Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Identity)
LOSSES = (MSELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss)
OPTIMIZERS = (SGD, Adam, RMSProp)
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_LAYER_SET = frozenset(LAYERS)
_PATCHED = frozenset({"forward", "backward"})  # methods a module's instance may replace


def supports(model: Module, loss: Loss, optimizer: Optimizer, dtype: DTypeLike) -> bool:
    """True if every piece is a built-in type this module implements, in float32 or float64.

    Exact types, and no method replaced on an instance: a subclass or a patched object
    keeps its own code, on the reference path.
    """
    layers = model.layers if type(model) is Sequential else [model]
    if not (dtype in _DTYPES and _built_in(model, layers, loss, optimizer)):
        return False
    return all(
        _plain(p.value, dtype) and _plain(p.grad, dtype)
        for p in (*model.parameters(), *optimizer.params)
    )


def _built_in(model: Module, layers: Sequence[Module], loss: Loss, optimizer: Optimizer) -> bool:
    """The pieces are of the exact types this module implements, with no ``forward``,
    ``backward`` or ``step`` set on an instance. The types are asked first, so that nothing
    else is asked of pieces of any other type."""
    if not (
        type(loss) in LOSSES
        and type(optimizer) in OPTIMIZERS
        and _LAYER_SET.issuperset(map(type, layers))
    ):
        return False
    # (set operations over the instances' dicts: no Python-level loop, ~1 us a call less)
    return "step" not in vars(optimizer) and all(
        map(_PATCHED.isdisjoint, map(vars, (model, *layers, loss)))
    )


def _plain(a: object, dtype: DTypeLike) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous


# --- layers (each kernel keeps its buffers per batch size: an epoch has a full and a last) ---


class _LinearKernel:
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


class _ReLUKernel:
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
        self.x: np.ndarray = np.empty((0, 0))
        self._buffers: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.shape: tuple[int, ...] = ()  # the inputs' shape of the buffers below
        self.y = self.dx = self.mask = self.x

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


class _Model:
    """The layers' kernels in order; layers before the first with parameters get no
    backward at all, and that one skips dL/dx. Other activations run their own methods.
    A ReLU between two Linear layers works in place both ways (``_ReLUKernel``)."""

    def __init__(self, model: Module, dtype: DTypeLike):
        layers = model.layers if type(model) is Sequential else [model]
        with_params = [i for i, layer in enumerate(layers) if layer.parameters()]
        self.first = with_params[0] if with_params else len(layers)
        linear = [type(layer) is Linear for layer in layers] + [False]
        self.kernels: list[_LinearKernel | _ReLUKernel | Module] = []
        for i, layer in enumerate(layers):
            if type(layer) is Linear:
                self.kernels.append(_LinearKernel(layer, dtype, input_grad=i > self.first))
            elif type(layer) is ReLU:
                # (the Linear after it returns its own dx buffer: it has one, as i + 1 > first)
                after_linear = i > 0 and linear[i - 1]
                self.kernels.append(_ReLUKernel(dtype, after_linear, linear[i + 1]))
            else:
                self.kernels.append(layer)

        self._forwards = [kernel.forward for kernel in self.kernels]
        # each returns dL/d(its input), or None (the first layer with parameters, called last)
        self._backwards: Sequence[Callable[[np.ndarray], Any]] = [
            kernel.backward for kernel in self.kernels[self.first :]
        ][::-1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for forward in self._forwards:
            x = forward(x)
        return x

    def backward(self, g: np.ndarray) -> None:
        for backward in self._backwards:  # last layer first, down to the first with parameters
            g = backward(g)


# --- the batch gather and the whole step ----------------------------------------------------


class BatchGather:
    """The rows idx of each array, gathered into buffers reused across steps of the same
    size. Returns one batch per array given (None stays None). A large batch of the first
    array (X) is copied by several threads, each its own rows.

    Per batch size, a plan: the (take, buffer) pairs to run and the list to return, made
    at the size's first batch and dropped whenever ``arrays`` is set (a released step
    keeps no reference to the data; the buffers stay)."""

    def __init__(self, *arrays: np.ndarray | None, thread_count: int = 1):
        self.thread_count = thread_count
        self._buffers: dict[int, list[np.ndarray | None]] = {}
        self._rows: dict[int, list[tuple[int, int]]] = {}  # row ranges of X per thread
        self.arrays = arrays

    @property
    def arrays(self) -> tuple[np.ndarray | None, ...]:
        return self._arrays

    @arrays.setter
    def arrays(self, arrays: tuple[np.ndarray | None, ...]) -> None:
        self._arrays = arrays
        self._plans: dict[int, tuple[list[tuple[Callable[..., Any], Any]], list[Any]]] = {}

    def __call__(self, idx: np.ndarray) -> list[np.ndarray | None]:
        plan = self._plans.get(len(idx))
        takes, out = self._plan(len(idx)) if plan is None else plan
        # idx is always in range (it comes from batches()); mode="clip" spares take the
        # bounds-checking copy that the default mode makes when given ``out``
        for take, buf in takes:
            take(idx, 0, buf, "clip")
        return out

    def _plan(self, k: int) -> tuple[list[tuple[Callable[..., Any], Any]], list[Any]]:
        """The takes for batches of k rows, each with its buffer, and the batches' list."""
        out = self._buffers.get(k)
        if out is None:
            out = self._buffers[k] = [
                None if a is None else np.empty((k, *a.shape[1:]), a.dtype) for a in self.arrays
            ]
            self._rows[k] = self._row_parts(k)
        takes: list[tuple[Callable[..., Any], Any]] = [
            (a.take, buf) for a, buf in zip(self.arrays, out) if a is not None
        ]
        rows = self._rows[k]
        if len(rows) > 1:
            takes[0] = (self._split_take(self.arrays[0], rows), out[0])
        plan = self._plans[k] = (takes, out)
        return plan

    @staticmethod
    def _split_take(first: Any, rows: list[tuple[int, int]]) -> Callable[..., None]:
        """X.take(idx, 0, xb, "clip") with each thread copying its own rows of xb."""

        def take(idx: np.ndarray, axis: int, xb: np.ndarray, mode: str) -> None:
            threads.run_parts(
                lambda r: first.take(idx[r[0] : r[1]], axis, xb[r[0] : r[1]], mode), rows
            )

        return take

    def _row_parts(self, k: int) -> list[tuple[int, int]]:
        """Rows [a, b) of a batch of k for each thread (one range when too small to gain)."""
        first: Any = self.arrays[0]
        row = math.prod(first.shape[1:])
        parts = max(1, min(self.thread_count, k * row // threads.MIN_PER_THREAD, k))
        return [(k * j // parts, k * (j + 1) // parts) for j in range(parts)]


def fast_step(model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
              X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
              ) -> FastStep:  # fmt: skip
    """A ``FastStep`` for this call: the one the model's previous ``fit`` call left
    (``release``), with its buffers, when it was built for the same pieces (the same
    layers, parameters, loss, optimizer, dtypes, row shapes and thread count, which
    ``threads.available`` gives for the work); else a new one. The cache holds the model
    weakly and one step per model; a step taken from it is out of it until released, so
    two calls at once never share buffers. (The caller has checked ``supports``.)"""
    key = _key(model, loss, optimizer, X, target, y_metrics)
    with _LOCK:
        cached = _CACHE.pop(model, None)
    if cached is not None and cached.key == key and key[0]:
        cached.begin(l2, X, target, y_metrics)
        return cached
    count = key[-1] if key[0] else _gather_threads(X)
    return FastStep(model, loss, optimizer, l2, X, target, y_metrics, key=key, thread_count=count)


def cached_step(model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
                X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
                ) -> FastStep | None:  # fmt: skip
    """``fast_step``'s cached step when there is one for these very pieces, else None (the
    cache then stays as it was). No ``supports`` needed first: a step is cached only for
    pieces it supports, and an equal key means that still holds (``_key``)."""
    key = _key(model, loss, optimizer, X, target, y_metrics)
    if not key[0]:
        return None
    with _LOCK:
        cached = _CACHE.get(model)
        if cached is None or cached.key != key:
            return None
        del _CACHE[model]
    cached.begin(l2, X, target, y_metrics)
    return cached


def release(model: Module, step: FastStep) -> None:
    """Keep ``step`` for the model's next ``fit`` call, without the call's data."""
    step.begin(None, None, None, None)
    with _LOCK:
        _CACHE[model] = step


_CACHE: weakref.WeakKeyDictionary[Module, FastStep] = weakref.WeakKeyDictionary()
_NO_GRADIENT = np.empty(0)  # a step's dL/d(outputs) before its first loss (shared: never written)
_NO_GRADIENT.flags.writeable = False
_LOCK = threading.Lock()


def _gather_threads(X: np.ndarray) -> int:
    """The threads the batch gather may split across (the only work of the step that does;
    ``threads.available`` for batches of about a thousand rows of X)."""
    return threads.available(1024 * math.prod(X.shape[1:]))


def _key(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    target: np.ndarray,
    y_metrics: np.ndarray | None,
) -> tuple[Any, ...]:
    """What a cached step's kernels and buffers were built for, in one pass: the pieces'
    ids and types, the parameters' ids, values, gradients and shapes, the loss's reduction, the
    rows' dtypes and shapes, and last the batch gather's thread count now. It starts with
    True when the pieces are of the built-in types and nothing ``supports`` looks at has
    changed in a way the ids cannot show (no ``forward``/``backward``/``step`` set on an
    instance, every parameter's value a C-contiguous array of X's dtype), else it is
    (False,). Ids are safe: the cached step keeps every object and array it names alive
    (the values through its ``weight_checks``). A value rebound between calls, even to a
    copy, is a new key: the guard's views of the values are the step's."""
    layers = model.layers if type(model) is Sequential else [model]
    if not _built_in(model, layers, loss, optimizer):
        return (False,)
    dtype = X.dtype
    key: list[Any] = [True, type(model), type(loss), id(loss), loss.reduction]
    key += (type(optimizer), id(optimizer), *map(type, layers), *map(id, layers))
    params, opt_params = model.parameters(), optimizer.params
    for p in params:
        value = p.value  # (``_plain``, inline: this loop runs on every call)
        if not (
            isinstance(value, np.ndarray) and value.dtype == dtype and value.flags.c_contiguous
        ):
            return (False,)
        key += (id(p), id(value), id(p.grad), value.shape)
    if len(opt_params) == len(params) and all(map(operator.is_, opt_params, params)):
        key.append("the model's parameters")  # (checked above)
    else:
        for p in opt_params:
            if not _plain(p.value, dtype):
                return (False,)
            key += (id(p), p.value.shape)
    key += (dtype, X.shape[1:], target.dtype, target.shape[1:])
    key += (None, None) if y_metrics is None else (y_metrics.dtype, y_metrics.shape[1:])
    key.append(_gather_threads(X))
    return tuple(key)


class FastStep:
    """One training step of the built-in types (``steps.Step``). The same batches through
    the same buffers give the same bits, so the divergence guard may replay them."""

    replays_exactly = True

    def __init__(self, model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
                 X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
                 key: tuple[Any, ...] = (), thread_count: int = 1):  # fmt: skip
        self.key = key
        count = thread_count
        self.batch = BatchGather(X, target, y_metrics, thread_count=count)
        self._model = _Model(model, X.dtype)
        self.forward = self._model.forward  # the kernels, without a call in between
        self._loss = LossKernel(loss).kernel
        self._update = update = Update(optimizer)
        self.step = update.step
        self.l2 = l2
        self.params = model.parameters()
        self.weight_checks = weight_checks(self.params)  # the guard's, kept for every call
        # 0 * g is 0 for finite g, NaN otherwise: a dot product decides for small g; large g
        # the sum of |g| (``blas.all_finite``: one pass on the BLAS's threads)
        self._checks = [
            (p.grad.reshape(-1), np.zeros(p.grad.size, p.grad.dtype))
            for p in self.params
            if p.grad.size <= DOT_CHECK_MAX
        ]
        self._large = [p.grad for p in self.params if p.grad.size > DOT_CHECK_MAX]
        # plain SGD of a small network: lr * g of all parameters checked at once, when the
        # optimizer's parameters are the model's
        same = len(optimizer.params) == len(self.params) and all(
            map(operator.is_, optimizer.params, self.params)
        )
        self._scaled_finite = update.scaled_finite if same else None
        self._grad: np.ndarray = np.empty(0)

    def begin(
        self,
        l2: L2Penalty | None,
        X: np.ndarray | None,
        target: np.ndarray | None,
        y_metrics: np.ndarray | None,
    ) -> None:
        """Train on these arrays from now on (the buffers stay)."""
        self.l2 = l2
        self.batch.arrays = (X, target, y_metrics)
        self._grad = _NO_GRADIENT

    def loss(self, outputs: np.ndarray, tb: np.ndarray) -> float:
        value, self._grad = self._loss(outputs, tb)
        if self.l2 is not None:
            value += self.l2.value(self.params)
        return value

    def backward(self) -> None:
        self._update.scaled = False  # (a step not checked first scales the new gradients)
        self._model.backward(self._grad)
        if self.l2 is not None:
            self.l2.add_gradient(self.params)

    def gradients_finite(self) -> bool:
        if self._scaled_finite is not None and self._scaled_finite():
            return True  # (every parameter is small: ``self._large`` is empty)
        for g, zeros in self._checks:  # (the method: np.dot's dispatch costs 0.15 us a call)
            if math.isnan(g.dot(zeros)):
                return False
        return not self._large or all(map(blas.all_finite, self._large))
