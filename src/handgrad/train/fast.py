"""The fast implementation of the built-in modules, losses and optimizers, used by ``fit``.

``handgrad.nn`` is the readable reference: every module, loss and optimizer computes its
math in plain NumPy expressions that allocate fresh arrays and check their inputs. This
module computes the same numbers for the built-in types ``fit`` recognises (exact types:
a ``Sequential`` of Linear / ReLU / LeakyReLU / Tanh / Sigmoid / Identity, the three
built-in losses, SGD / Adam / RMSProp), the way PyTorch keeps a readable single-tensor
optimizer beside a fused one:

- every array a step writes is a buffer allocated once per batch size and reused;
- the first layer with parameters skips dL/dx, which nobody needs (``fast_layers``);
- the losses are fused kernels on a target validated once (``fast_losses``: flat-index
  softmax cross-entropy with its exact tail; BCE sharing one exp between loss and gradient);
- the optimizers update each parameter in place (``fast_updates``; SGD in one pass; plain
  SGD of a small network has its lr * g checked for finiteness by one dot product);
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
from .fast_layers import BatchGather, Model
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


# --- the whole step -----------------------------------------------------------------------


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
        self._model = Model(model, X.dtype)
        self.forward: Callable[[np.ndarray], np.ndarray] = self._model.forward  # (no call between)
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
        # optimizer's parameters are the model's (Parameters compare by identity)
        same = list(optimizer.params) == self.params
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
