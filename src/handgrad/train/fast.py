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
  SGD of a small network has its lr * g checked for finiteness by one dot product; plain
  SGD of a large first layer is folded into its weight-gradient product, one BLAS call,
  where ``fit`` says nothing reads ``.grad`` until ``fold_updates(False)``: ``fast_fold``);
- the batch gather copies the rows of X into a reused buffer.

It writes into the user's own arrays (``p.value``, ``p.grad``, the optimizer's ``state``),
never rebinds them, and keeps nothing on them. A ``FastStep`` serves one ``fit`` call at a
time; ``fit`` hands it back (``release``) and the model's next call with the same pieces
and shapes takes it again (``serving``, ``take``; ``fast_step``). A very large batch
gather is split across threads (``threads``); large SGD updates run on NumPy's BLAS
threads (``blas``); neither changes a bit with the thread count.

``tests/test_fastpath.py`` keeps every kernel and whole trajectories equal to the reference
to a few ulps in float64. Everything else takes the reference path.
"""

from __future__ import annotations

import math
import operator
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..nn import _changes
from ..nn._checks import DOT_CHECK_MAX
from ..nn.layers import (
    Module,
    Sequential,
)
from ..nn.losses import L2Penalty, Loss
from ..nn.optim import Optimizer
from . import blas
from .fast_fold import FoldedUpdate
from .fast_layers import BatchGather, Model
from .fast_losses import LossKernel
from .fast_pieces import (
    _DTYPES,
    LAYERS,
    LOSSES,
    OPTIMIZERS,
    KeptPieces,
    Pieces,
    _built_in,
    _plain,
    gather_threads,
    pieces_of,
    rows_key,
    step_key,
)
from .fast_updates import Update
from .guard import WeightChecks

__all__ = [
    "FastStep",
    "fast_step",
    "cached_step",
    "pieces_of",
    "serving",
    "take",
    "release",
    "supports",
    "BatchGather",
    "LAYERS",
    "LOSSES",
    "OPTIMIZERS",
]


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


# --- the whole step -----------------------------------------------------------------------


def fast_step(model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
              X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
              pieces: Pieces | None = None) -> FastStep:  # fmt: skip
    """A ``FastStep`` for this call: the one the model's previous ``fit`` call left
    (``release``), with its buffers, when it was built for the same pieces (the same
    layers, parameters, loss, optimizer, dtypes, row shapes and thread count, which
    ``threads.available`` gives for the work); else a new one. The cache holds the model
    weakly and one step per model; a step taken from it is out of it until released, so
    two calls at once never share buffers. (The caller has checked ``supports``.)
    ``pieces``: ``pieces_of(model, loss, optimizer)`` when the caller has it, unchanged."""
    pieces = pieces or pieces_of(model, loss, optimizer)
    key = step_key(pieces, X, target, y_metrics)
    with _LOCK:
        cached = _CACHE.pop(model, None)
    if cached is not None and pieces is not None and cached.fits(key, pieces):
        cached.begin(l2, X, target, y_metrics)
        return cached
    count = key[-1] if pieces is not None else gather_threads(X)
    return FastStep(model, loss, optimizer, l2, X, target, y_metrics, key=key, thread_count=count)


def cached_step(model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
                X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
                pieces: Pieces | None = None) -> FastStep | None:  # fmt: skip
    """``fast_step``'s cached step when there is one for these very pieces, else None (the
    cache then stays as it was). No ``supports`` needed first: a step is cached only for
    pieces it supports, and equal pieces mean that still holds (``pieces_of``)."""
    pieces = pieces or pieces_of(model, loss, optimizer)
    if pieces is None:
        return None
    key = step_key(pieces, X, target, y_metrics)
    with _LOCK:
        cached = _CACHE.get(model)
        if cached is None or not cached.fits(key, pieces):
            return None
        del _CACHE[model]
    cached.begin(l2, X, target, y_metrics)
    return cached


def serving(model: Module, loss: Loss, optimizer: Optimizer) -> FastStep | None:
    """The step the model's last ``fit`` call left, when it still serves these very pieces
    (``FastStep.serves``), else None; it stays in the cache (``take`` takes it once the
    data are checked). Its ``shapes`` say what that call learned from the layers."""
    if type(model) is not Sequential and type(model) not in LAYERS:
        return None  # (only built-in models are cached; any other may not take a weakref)
    cached = _CACHE_DATA.get(weakref.ref(model))
    return cached if cached is not None and cached.serves(model, loss, optimizer) else None


def take(model: Module, step: FastStep, l2: L2Penalty | None, X: np.ndarray,
         target: np.ndarray, y_metrics: np.ndarray | None) -> FastStep | None:  # fmt: skip
    """``step`` (from ``serving``, for pieces unchanged since) for this call when it was
    built for these rows (dtypes, shapes, thread count) and is still in the cache; taken
    out of it. Else None, and the cache stays as it was."""
    tail = rows_key(X, target, y_metrics)
    if step.key[-len(tail) :] != tail:
        return None
    with _LOCK:
        cached = _CACHE_DATA.pop(weakref.ref(model), None)
        if cached is not step:  # (another call took it meanwhile, and maybe left its own)
            if cached is not None:
                _CACHE[model] = cached
            return None
    step.begin(l2, X, target, y_metrics)
    return step


def release(model: Module, step: FastStep) -> None:
    """Keep ``step`` for the model's next ``fit`` call, without the call's data (every
    gradient written first)."""
    step.fold_updates(False)
    step.begin(None, None, None, None)
    with _LOCK:  # (as ``_CACHE[model] = step`` does, without the mapping's Python frame)
        _CACHE_DATA[weakref.ref(model, _FORGET)] = step


_CACHE: weakref.WeakKeyDictionary[Module, FastStep] = weakref.WeakKeyDictionary()
# its dict of weak references to the models, read and popped directly on every call (the
# mapping's methods cost a Python frame each; setting goes through them, for the callback)
_CACHE_DATA: dict[weakref.ref[Module], FastStep] = _CACHE.data  # type: ignore[attr-defined]
_FORGET = _CACHE._remove  # type: ignore[attr-defined]  # (drops a model's entry when it dies)
_NO_GRADIENT = np.empty(0)  # a step's dL/d(outputs) before its first loss (shared: never written)
_NO_GRADIENT.flags.writeable = False
_LOCK = threading.Lock()


class FastStep:
    """One training step of the built-in types (``steps.Step``). The same batches through
    the same buffers give the same bits, so the divergence guard may replay them."""

    replays_exactly = True

    def __init__(self, model: Module, loss: Loss, optimizer: Optimizer, l2: L2Penalty | None,
                 X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None,
                 key: tuple[Any, ...] = (), thread_count: int = 1):  # fmt: skip
        changes = _changes.count  # (before anything is read from the pieces)
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
        # the pieces it was built for: each call asks whether it still serves them
        kept = KeptPieces(model, loss, optimizer, key, self.params, changes)
        self.serves, self.same_pieces, self.fits = kept.serves, kept.same_pieces, kept.fits
        # the guard's weight checks of the values (their flat views keep a value rebound
        # between calls alive until the model's next call, which builds a step of its own)
        self.weight_checks = WeightChecks([p.value for p in self.params])
        self.snapshot: Any = None  # the guard's last snapshot, re-taken by the next call's
        # what fit learned of the inputs and outputs for these pieces (``serving``)
        self.shapes: tuple[Any, ...] | None = None
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
        # plain SGD of a large first layer: its update folded into its gradient's product,
        # where fit allows it (``fold_updates``; ``fast_fold``)
        self._fold = update.fold = fold = FoldedUpdate.of(
            self._model, self.batch, optimizer, self.params
        )
        if fold is not None:
            self._model.fold_first(fold.backward)
        self._large_unfolded = [p.grad for p in self.params[1:] if p.grad.size > DOT_CHECK_MAX]

    def keep_shapes(self, pieces: Pieces | None, shapes: tuple[Any, ...]) -> None:
        """Keep what ``fit`` learned from the layers for ``pieces`` (X's dtype, X's width,
        one output row's shape) for the model's next calls (``serving``), when this step
        was built for those very pieces and the model fixes X's width."""
        if pieces is not None and shapes[1] is not None and self.same_pieces(pieces):
            self.shapes = shapes

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
        fold = self._fold
        if fold is not None:
            fold.on = fold.allowed and self.l2 is None and self._update.plain_sgd()
        self._model.backward(self._grad)
        if self.l2 is not None:
            self.l2.add_gradient(self.params)

    def gradients_finite(self) -> bool:
        if self._scaled_finite is not None and self._scaled_finite():
            return True  # (every parameter is small: ``self._large`` is empty)
        for g, zeros in self._checks:  # (the method: np.dot's dispatch costs 0.15 us a call)
            if math.isnan(g.dot(zeros)):
                return False
        fold = self._fold
        # (the folded weight gradient unwritten: proved finite by a bound, or written now)
        large = (
            self._large_unfolded
            if fold is not None and fold.due and fold.bounded()
            else self._large
        )
        return not large or all(map(blas.all_finite, large))

    def fold_updates(self, allowed: bool) -> None:
        """``allowed``: nothing reads a gradient until this is called again (fit: a run of
        steps with no callback acting between them), so a plain SGD step may leave its first
        layer's weight gradient unwritten (``fast_fold``). ``False`` writes it: every
        ``.grad`` is then what the unfolded step writes for the last step trained."""
        fold = self._fold
        if fold is not None:
            fold.allowed = allowed
            if not allowed:
                fold.write()
