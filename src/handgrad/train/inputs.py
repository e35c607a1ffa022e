"""Checking and preparing what ``fit`` and ``evaluate`` are given: counts, X, y, the
validation split and the metrics, all before anything changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..nn._checks import as_float_array, check_finite, check_matrix
from ..nn.constraints import Integer, Real, check
from ..nn.layers import Identity, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from ..nn.losses import BCEWithLogitsLoss, Loss, SoftmaxCrossEntropyLoss
from ..splits import held_out_count, split_rows
from .blas import all_finite

# a metric: f(outputs, target) -> a number
Metric = Callable[[np.ndarray, np.ndarray], float]


def count(name: str, value: object, low: int) -> int:
    """``value`` as an int, if it is an integer of any Python/NumPy type, >= low (a plain
    int in range needs no general check: ``numbers.Integral``'s isinstance is slow)."""
    if type(value) is int and value >= low:
        return value
    return int(check(value, Integer(low), name))


# --- metrics --------------------------------------------------------------------------------


def _accuracy_for(loss: Loss) -> Metric:
    def accuracy(outputs: np.ndarray, target: np.ndarray) -> float:
        if isinstance(loss, SoftmaxCrossEntropyLoss):
            labels = target if target.ndim == 1 else np.argmax(target, axis=1)
            return float(np.mean(np.argmax(outputs, axis=1) == labels))
        predicted = outputs > 0 if isinstance(loss, BCEWithLogitsLoss) else np.round(outputs)
        return float(np.mean(predicted.reshape(target.shape) == target))

    return accuracy


def _mse(outputs: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((outputs.reshape(target.shape) - target) ** 2))


def _mae(outputs: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean(np.abs(outputs.reshape(target.shape) - target)))


def resolve_metrics(metrics: Sequence[str | Metric] | None, loss: Loss) -> dict[str, Metric]:
    if not metrics:
        return {}
    builtin: dict[str, Callable[[], Metric]] = {
        "accuracy": lambda: _accuracy_for(loss),
        "mse": lambda: _mse,
        "mae": lambda: _mae,
    }
    resolved: dict[str, Metric] = {}
    for m in metrics:
        if isinstance(m, str):
            if m not in builtin:
                raise ValueError(
                    f"unknown metric {m!r}; built in: {sorted(builtin)} "
                    "(or pass a callable f(outputs, target) -> float)"
                )
            if m in ("mse", "mae") and isinstance(loss, SoftmaxCrossEntropyLoss):
                raise ValueError(
                    f"metric {m!r} compares outputs with targets of the same shape, but "
                    "SoftmaxCrossEntropyLoss outputs are logits (N, C) and its targets class "
                    "labels: use 'accuracy', or a callable f(logits, labels) -> float"
                )
            resolved[m] = builtin[m]()
        elif callable(m):
            resolved[getattr(m, "__name__", f"metric{len(resolved)}")] = m
        else:
            raise TypeError(f"a metric must be a name or a callable, got {m!r}")
    return resolved


def prepare_inputs(
    model: Module, X: ArrayLike, name: str = "X", known: tuple[Any, ...] | None = None
) -> np.ndarray:
    """X as a finite (N, D) array of the model's dtype, D its input width when it has one.
    ``known``: (dtype, input width or None) when the caller knows them already (what the
    model's last ``fit`` call learned: ``fast.serving``)."""
    if known is None:
        dtype, width = getattr(model, "dtype", np.float64), None
    else:
        dtype, width = known[0], known[1]
    X = as_float_array(X, name, dtype)
    check_matrix(X, name, width if known else getattr(model, "in_features", None))
    if not all_finite(X):  # (the BLAS's sum of |x| on a large X: ~2/3 of NumPy's sum's time)
        check_finite(X, name)  # (the named error)
    return X


def prepare_target(
    loss: Loss, y: ArrayLike, X: np.ndarray, outputs_shape: tuple[int, ...], name: str = "y"
) -> np.ndarray:
    """y as an array with one row per row of X, checked by the loss against outputs of shape
    (N, *outputs_shape) (integer labels stay integers for softmax cross-entropy)."""
    return prepare_target_and_form(loss, y, X, outputs_shape, name)[0]


def prepare_target_and_form(
    loss: Loss, y: ArrayLike, X: np.ndarray, outputs_shape: tuple[int, ...], name: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """(y as ``prepare_target`` returns it, y in the loss's own form (``loss_target``)): one
    validation gives both, so that ``fit`` checks its target once."""
    labels = _plain_labels(loss, y, X, outputs_shape)
    if labels is not None:
        return labels, labels
    y_arr = np.asarray(y)
    if y_arr.ndim == 0 or y_arr.shape[0] != X.shape[0]:
        got = "a scalar" if y_arr.ndim == 0 else f"{y_arr.shape[0]} rows"
        raise ValueError(f"{name} has {got} but the inputs have {X.shape[0]} rows")
    if not isinstance(loss, SoftmaxCrossEntropyLoss) or y_arr.ndim == 2:
        y_arr = as_float_array(y_arr, name, X.dtype)
    # Validate labels and shapes once, up front, with the loss's own checks on dummy outputs.
    form = loss_target(loss, y_arr, (X.shape[0], *outputs_shape), X.dtype)
    if isinstance(loss, SoftmaxCrossEntropyLoss) and y_arr.ndim == 1:
        y_arr = y_arr.astype(np.intp, copy=False)  # validated integer-valued: converted once
        if form.dtype != np.intp:  # the labels' form, in the same integer type
            form = y_arr if type(loss) is SoftmaxCrossEntropyLoss else form
    return y_arr, form


def _plain_labels(
    loss: Loss, y: ArrayLike, X: np.ndarray, outputs_shape: tuple[int, ...]
) -> np.ndarray | None:
    """The common case of softmax cross-entropy, accepted in one pass: y an array of
    integer labels (N,) in [0, C) for the built-in loss and outputs (N, C), C >= 1 (the
    largest label read as unsigned: a negative one reads as 2**bits - |y| >= C).
    Returns them as ``np.intp`` (what the loss's own checks return, and the form it
    computes with); None for anything else, which then goes through those checks (and gets
    their errors)."""
    if not (
        type(loss) is SoftmaxCrossEntropyLoss
        and type(y) is np.ndarray
        and y.ndim == 1
        and y.dtype.kind in "iu"
        and len(outputs_shape) == 1
        and outputs_shape[0] >= 1
        and y.shape[0] == X.shape[0] >= 1
    ):
        return None
    if np.maximum.reduce(y.view(_UNSIGNED[y.dtype.itemsize])) >= outputs_shape[0]:
        return None
    return y.astype(np.intp, copy=False)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # itemsize -> unsigned


def loss_target(loss: Loss, y: np.ndarray, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """Validate y against outputs of ``shape``. A built-in loss returns y in the form it
    computes with (integer labels, or targets shaped like the outputs); any other loss
    runs its ``forward`` on zeros, and y comes back as it was."""
    if isinstance(loss, Loss):
        return loss.prepare_target(y, shape, dtype)
    loss.forward(np.zeros(shape, dtype=dtype), y)  # a loss that only follows the protocol
    return y


# layers whose output has the shape of their input
_SAME_SHAPE = (ReLU, LeakyReLU, Tanh, Sigmoid, Identity)
_FORWARD = frozenset({"forward"})
_KNOWN_WIDTHS = frozenset((Linear, *_SAME_SHAPE))


def output_shape(model: Module, X: np.ndarray) -> tuple[int, ...]:
    """The shape of one output row: the last Linear's width when the model is a chain of
    built-in layers whose widths fit together (``declared_output_shape``), else learned
    from a forward pass on X's first row (which also raises a mismatch's clear error)."""
    declared = declared_output_shape(model)
    if declared is not None:
        return declared
    return np.shape(model.forward(X[:1]))[1:]


def declared_output_shape(model: Module) -> tuple[int, ...] | None:
    """(out_features,) of the last Linear of a Linear or a Sequential of built-in layers
    (exact types, no ``forward`` replaced on an instance) in which each Linear takes the
    width the one before gives; else None."""
    layers = model.layers if type(model) is Sequential else [model]
    width = None
    # the types first: nothing else is asked of a module of one's own (it may have no __dict__)
    if not _KNOWN_WIDTHS.issuperset(map(type, layers)):
        return None
    if not all(map(_FORWARD.isdisjoint, map(vars, (model, *layers)))):  # (no Python loop)
        return None
    for layer in layers:
        if type(layer) is Linear:
            if width is not None and layer.in_features != width:
                return None
            width = layer.out_features
        elif type(layer) not in _SAME_SHAPE:
            return None
    return None if width is None else (width,)


def try_metrics(
    metric_fns: dict[str, Metric], model: Module, x_row: np.ndarray, y_row: np.ndarray
) -> None:
    """Run each metric once on the first row, so a metric that cannot work fails before
    any weight changes, with its name."""
    if not metric_fns:
        return
    outputs = model.forward(x_row)
    for name, fn in metric_fns.items():
        try:
            value = fn(outputs, y_row)
            float(value)
        except Exception as exc:  # noqa: BLE001  (any failure of a user's metric)
            raise ValueError(
                f"metric {name!r} cannot be computed on these outputs {outputs.shape} and "
                f"targets {y_row.shape}: {type(exc).__name__}: {exc}"
            ) from None


def validation_rows(fraction: object, n: int) -> int:
    """How many of n rows ``validation_fraction`` sets aside: ceil(fraction * n), as
    ``handgrad.splits.held_out_count`` rounds (checked: a real number in (0, 1) leaving rows
    on both sides)."""
    share: float = check(
        fraction, Real(0.0, 1.0, low_open=True, high_open=True), "validation_fraction"
    )
    n_val = held_out_count(n, share)
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"validation_fraction={fraction} leaves no rows for training or validation out of {n}"
        )
    return n_val


def validation_order(n: int, n_val: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) of n, drawn from ``rng`` by ``split_rows``: n_val
    rows set aside, both parts in random order."""
    return split_rows(n, n_val, rng)


def check_validation_arguments(validation_data: object, validation_fraction: object) -> None:
    """At most one of the two, and validation_data a pair (X_val, y_val)."""
    if validation_data is not None and validation_fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    if validation_data is not None and (
        not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2
    ):
        got = len(validation_data) if isinstance(validation_data, (tuple, list)) else "not a pair"
        raise ValueError(f"validation_data must be a pair (X_val, y_val), got {got!r}")
