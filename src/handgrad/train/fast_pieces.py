"""What a cached fast step was built for, and how a ``fit`` call finds out whether it still
serves: the pieces' key (``pieces_of``, ``step_key``) and the comparison of what the step
keeps with the pieces as they are now (``KeptPieces.serves``, C-level: no Python line per
layer or parameter, since it runs on every call). ``fast`` holds the steps and the cache.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from ..nn import _changes
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
from ..nn.losses import BCEWithLogitsLoss, Loss, MSELoss, SoftmaxCrossEntropyLoss
from ..nn.optim import SGD, Adam, Optimizer, RMSProp
from . import threads

__all__ = ["LAYERS", "LOSSES", "OPTIMIZERS", "KeptPieces", "Pieces", "pieces_of", "step_key"]

# the exact types this module implements
LAYERS = (Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Identity)
LOSSES = (MSELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss)
OPTIMIZERS = (SGD, Adam, RMSProp)
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_LAYER_SET = frozenset(LAYERS)
_PATCHED = frozenset({"forward", "backward"})  # methods a module's instance may replace


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


_VALUE, _GRAD = operator.attrgetter("value"), operator.attrgetter("grad")
_SHAPE, _DTYPE = operator.attrgetter("shape"), operator.attrgetter("dtype")
_C_CONTIGUOUS = operator.attrgetter("flags.c_contiguous")
_WEIGHT_BIAS = operator.attrgetter("weight", "bias")  # a Linear's parameters (bias or None)
_LAYOUT = operator.attrgetter("shape", "dtype", "strides")


def _widths(layers: Sequence[Module]) -> tuple[Any, ...]:
    """Each layer's in_features and out_features (None where it has none)."""
    return (*map(getattr, layers, _IN_FEATURES, _NONE), *map(getattr, layers, _OUT_FEATURES, _NONE))


def gather_threads(X: np.ndarray) -> int:
    """The threads the batch gather may split across (the only work of the step that does;
    ``threads.available`` for batches of about a thousand rows of X)."""
    return threads.available(1024 * math.prod(X.shape[1:]))


class Pieces(NamedTuple):
    """What ``pieces_of`` found: the model's parameters, their values, and a key of
    everything else a step's kernels and buffers depend on (see there)."""

    key: tuple[Any, ...]
    params: list[Any]
    values: list[np.ndarray]


def pieces_of(model: Module, loss: Loss, optimizer: Optimizer) -> Pieces | None:
    """The pieces of a ``fit`` call as a cached step knows them, or None when they are not
    of the built-in types or not plain (a ``forward``/``backward``/``step`` set on an
    instance, a parameter's value not a C-contiguous array). The key: the pieces' ids and
    types, the loss's reduction, the layers' widths, the parameters' ids, gradients' ids,
    values' shapes and dtypes. The values themselves are compared by identity
    (``FastStep.same_pieces``), so that a value rebound between calls, even to a copy,
    gets a step of its own (the guard's views of the values are the step's). Ids are
    safe: the step keeps every object the key names alive."""
    layers = model.layers if type(model) is Sequential else [model]
    if not _built_in(model, layers, loss, optimizer):
        return None
    params = model.parameters()
    values = [*map(_VALUE, params)]
    if not (all(map(isinstance, values, _ARRAY)) and all(map(_C_CONTIGUOUS, values))):
        return None
    key = (
        type(model), type(loss), id(loss), loss.reduction, type(optimizer), id(optimizer),
        *map(type, layers), *map(id, layers), *_widths(layers),
        *map(id, params), *map(id, map(_GRAD, params)),
        *map(_SHAPE, values), *map(_DTYPE, values),
    )  # fmt: skip
    opt_params = optimizer.params
    if opt_params != params:  # (Parameters compare by identity; the rare case: a loop)
        own = [p.value for p in opt_params]
        if not (all(map(isinstance, own, _ARRAY)) and all(map(_C_CONTIGUOUS, own))):
            return None
        key += ("the optimizer's own", *map(id, opt_params), *map(_SHAPE, own), *map(_DTYPE, own))
    return Pieces(key, params, values)


_ARRAY = itertools.repeat(np.ndarray)
_NONE = itertools.repeat(None)
_IN_FEATURES, _OUT_FEATURES = itertools.repeat("in_features"), itertools.repeat("out_features")


def step_key(
    pieces: Pieces | None, X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None
) -> tuple[Any, ...]:
    """What a cached step's kernels and buffers were built for: the pieces' key, then the
    rows' dtypes and shapes and the batch gather's thread count now (``rows_key``); (False,)
    when the pieces are not plain (``pieces_of`` gave None)."""
    return (False,) if pieces is None else (*pieces.key, *rows_key(X, target, y_metrics))


def rows_key(X: np.ndarray, target: np.ndarray, y_metrics: np.ndarray | None) -> tuple[Any, ...]:
    metrics = (None, None) if y_metrics is None else (y_metrics.dtype, y_metrics.shape[1:])
    return (X.dtype, X.shape[1:], target.dtype, target.shape[1:], *metrics, gather_threads(X))


class KeptPieces:
    """The pieces a step was built for, as ``KeptPieces.serves`` compares them: its layers,
    loss, optimizer and their types, the loss's reduction, the layers' widths, each
    Linear's Parameters, the optimizer's parameters, the gradient arrays, and the values
    (held: the guard's views of them are the step's) with their shapes, dtypes and strides.
    """

    def __init__(
        self,
        model: Module,
        loss: Loss,
        optimizer: Optimizer,
        key: tuple[Any, ...],
        params: list[Any],
        count: int,
    ) -> None:
        self.key, self.params = key, params  # the step's whole key (``step_key``), its params
        self._count = count
        self._values = [p.value for p in params]
        layers = model.layers if type(model) is Sequential else [model]
        self._layer_list, self._layers = layers, [*layers]  # (the list itself, and a copy)
        self._types = (type(model), type(loss), type(optimizer), *map(type, layers))
        self._loss_fn, self._optimizer, self._reduction = loss, optimizer, loss.reduction
        self._widths = _widths(layers)
        self._linears = [layer for layer in layers if type(layer) is Linear]
        self._linear_params = [*map(_WEIGHT_BIAS, self._linears)]
        self._opt_list, self._opt_params = optimizer.params, [*optimizer.params]
        self._grads = [*map(_GRAD, self.params)]
        self._layouts = [*map(_LAYOUT, map(_VALUE, self.params))]

    def serves(self, model: Module, loss: Loss, optimizer: Optimizer) -> bool:
        """Built for these very pieces (the model's step: ``fast.serving``), unchanged.

        Quickly: no attribute of a module, Parameter, loss or optimizer set since the
        pieces were last found unchanged (``nn._changes.count``: a weight array rebound, a
        Parameter, a width, a method, a class, the reduction all count), the same loss
        and optimizer objects, and what that count does not see: the layers in the
        model's list and the parameters in the optimizer's, and the values' shapes,
        dtypes and strides (an array's own attributes). Else by asking every piece
        (``unchanged``), which, when it answers yes, makes the next call's quick."""
        count = _changes.count  # (read first: a change made while checking shows next time)
        if (
            count == self._count
            and loss is self._loss_fn
            and optimizer is self._optimizer
            and self._layer_list == self._layers  # (Modules compare by identity)
            and self._opt_list == self._opt_params
            and [*map(_LAYOUT, self._values)] == self._layouts
        ):
            return True
        if self.unchanged(model, loss, optimizer):
            self._count = count
            return True
        return False

    def unchanged(self, model: Module, loss: Loss, optimizer: Optimizer) -> bool:
        """Built for these very pieces, unchanged: what ``pieces_of`` would key, found
        by comparing with what this step keeps (C-level, no Python line per piece): the
        same layers, loss and optimizer (types too), no ``forward``/``backward``/``step``
        set on an instance, the same reduction and widths, the same Parameter objects in
        the layers and the optimizer, the same gradient arrays, the very same values with
        their shapes, dtypes and strides. Only for the common case, the optimizer training
        the model's parameters; anything else answers False (and goes through
        ``pieces_of``)."""
        layers = model.layers if type(model) is Sequential else [model]
        params = self.params
        return (
            layers == self._layers  # (Modules compare by identity)
            and loss is self._loss_fn
            and optimizer is self._optimizer
            and (type(model), type(loss), type(optimizer), *map(type, layers)) == self._types
            and "step" not in vars(optimizer)
            and all(map(_PATCHED.isdisjoint, map(vars, (model, *layers, loss))))
            and loss.reduction == self._reduction
            and _widths(layers) == self._widths
            and [*map(_WEIGHT_BIAS, self._linears)] == self._linear_params  # (by identity)
            and optimizer.params == self._opt_params == params
            and all(map(operator.is_, map(_GRAD, params), self._grads))
            and all(map(operator.is_, map(_VALUE, params), self._values))
            and [*map(_LAYOUT, map(_VALUE, params))] == self._layouts
        )

    def same_pieces(self, pieces: Pieces) -> bool:
        """Built for these pieces: an equal key (``pieces_of``) and the very same values."""
        return self.key[: len(pieces.key)] == pieces.key and all(
            map(operator.is_, self._values, pieces.values)
        )

    def fits(self, key: tuple[Any, ...], pieces: Pieces) -> bool:
        """Built for this call: the same key (``step_key``) and the very same values."""
        return self.key == key and all(map(operator.is_, self._values, pieces.values))
