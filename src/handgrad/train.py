"""Minibatch training: the loop every seed writes by hand, once, with its edge cases handled.

    for each epoch:
        shuffle the row indices (one permutation, never a copy of X)
        for each batch of indices:
            logits = model.forward(X[batch])          # gathered into a reused buffer
            loss   = loss_fn.forward(logits, y[batch])
            model.backward(loss_fn.backward())        # writes every parameter's .grad
            optimizer.step()                          # in place

X and y are validated once, before the first step. For the built-in modules, losses and
optimizers the step runs through ``handgrad.fastpath`` (reused buffers, fused losses, the
same numbers to a few ulps); anything else runs its own ``forward``/``backward``/``step``,
the module protocol and nothing more. The loop checks what can go wrong while training:
a non-finite loss (a NaN or inf output makes it so, and is then named) or gradient.

Around that loop ``fit`` adds what a user expects: validation, metrics, callbacks (progress,
early stopping, checkpoints), a clean stop on Ctrl-C, and a stop on divergence that keeps
the last finite weights.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import fastpath
from .nn._checks import (
    NonFiniteError,
    as_float_array,
    check_finite,
    check_matrix,
    surely_finite,
)
from .nn.init import make_rng
from .nn.layers import Module
from .nn.losses import BCEWithLogitsLoss, L2Penalty, Loss, SoftmaxCrossEntropyLoss
from .nn.optim import Optimizer
from .nn.serialization import save

__all__ = [
    "batches",
    "fit",
    "evaluate",
    "predict_logits",
    "History",
    "Callback",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
    "TrainingContext",
]


# --- batches --------------------------------------------------------------------------------


def batches(
    n: int,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Yield index arrays covering range(n) in batches of ``batch_size``.

    With ``shuffle`` the order comes from one permutation drawn from ``rng`` (required);
    with ``drop_last`` a final short batch is skipped.
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if shuffle:
        if rng is None:
            raise ValueError("batches: shuffle=True needs an explicit rng (numpy Generator)")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


# --- history and callbacks ------------------------------------------------------------------


@dataclass
class History:
    """What happened during ``fit``.

    step_loss: the loss of every step's batch (before that step's update);
    epoch_loss: the mean of the step losses of each epoch, weighted by batch size;
    metrics / val_metrics: per-epoch values by name; val_loss: per-epoch validation loss;
    stop_reason: None (ran all epochs), "early_stopping", "interrupted" or "diverged".
    """

    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    stop_reason: str | None = None
    message: str = ""

    @property
    def epochs(self) -> int:
        return len(self.epoch_loss)

    def as_dict(self) -> dict:
        return {
            "step_loss": self.step_loss,
            "epoch_loss": self.epoch_loss,
            "metrics": self.metrics,
            "val_loss": self.val_loss,
            "val_metrics": self.val_metrics,
            "epoch_seconds": self.epoch_seconds,
            "stop_reason": self.stop_reason,
            "message": self.message,
        }


@dataclass
class TrainingContext:
    """What callbacks see; setting ``stop_training`` ends training after the current epoch."""

    model: Module
    history: History
    epochs: int
    steps_per_epoch: int
    epoch: int = 0
    step: int = 0
    logs: dict = field(default_factory=dict)
    stop_training: bool = False
    stop_reason: str | None = None
    log_names: tuple[str, ...] = ()  # the keys ``logs`` will hold at each epoch's end


class Callback:
    """Hooks called by ``fit``; override the ones you need."""

    def on_train_begin(self, ctx: TrainingContext) -> None: ...
    def on_batch_end(self, ctx: TrainingContext) -> None: ...
    def on_epoch_end(self, ctx: TrainingContext) -> None: ...
    def on_train_end(self, ctx: TrainingContext) -> None: ...


class ProgressBar(Callback):
    """A one-line progress bar on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream=None, width: int = 24, force: bool = False):
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def _draw(self, ctx: TrainingContext, done: bool) -> None:
        frac = ctx.step / max(ctx.steps_per_epoch, 1)
        filled = int(self.width * frac)
        bar = "#" * filled + "." * (self.width - filled)
        logs = "  ".join(f"{k} {v:.4g}" for k, v in ctx.logs.items())
        end = "\n" if done else ""
        self.stream.write(f"\repoch {ctx.epoch + 1}/{ctx.epochs} [{bar}] {logs}{end}")
        self.stream.flush()

    def on_batch_end(self, ctx: TrainingContext) -> None:
        now = time.perf_counter()
        if self.enabled and now - self._last > 0.1:
            self._last = now
            self._draw(ctx, done=False)

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if self.enabled:
            self._draw(ctx, done=True)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``mode`` "min" for losses, "max" for scores ("auto" picks by the name). With
    ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ):
        if mode == "auto":
            mode = "min" if "loss" in monitor or "error" in monitor else "max"
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode, self.restore_best_weights = mode, restore_best_weights
        self.best: float | None = None
        self.best_epoch = -1
        self._best_weights: list[np.ndarray] | None = None
        self._wait = 0

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, ctx: TrainingContext) -> None:
        if self.monitor not in ctx.log_names:
            raise ValueError(
                f"EarlyStopping: '{self.monitor}' is not logged; available: "
                f"{list(ctx.log_names)} (val_* needs validation data)"
            )
        self.best, self.best_epoch, self._best_weights, self._wait = None, -1, None, 0

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if self.monitor not in ctx.logs:
            raise ValueError(
                f"EarlyStopping: '{self.monitor}' is not logged; available: "
                f"{sorted(ctx.logs)} (val_* needs validation data)"
            )
        value = ctx.logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self._wait = value, ctx.epoch, 0
            if self.restore_best_weights:
                self._best_weights = [p.value.copy() for p in ctx.model.parameters()]
        else:
            self._wait += 1
            if self._wait >= self.patience:
                ctx.stop_training, ctx.stop_reason = True, "early_stopping"

    def on_train_end(self, ctx: TrainingContext) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            for p, best in zip(ctx.model.parameters(), self._best_weights):
                p.value[...] = best


class ModelCheckpoint(Callback):
    """Save the model every ``every`` epochs to ``path`` (may contain ``{epoch}``)."""

    def __init__(self, path: str | Path, every: int = 1):
        if every < 1:
            raise ValueError(f"ModelCheckpoint: every must be >= 1, got {every}")
        self.path, self.every = str(path), int(every)
        self.saved: list[Path] = []

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if (ctx.epoch + 1) % self.every == 0:
            target = self.path.format(epoch=ctx.epoch + 1)
            self.saved.append(save(ctx.model, target, {"epoch": ctx.epoch + 1}))


# --- metrics --------------------------------------------------------------------------------


def _accuracy_for(loss: Loss) -> Callable[[np.ndarray, np.ndarray], float]:
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


def _resolve_metrics(metrics, loss: Loss) -> dict[str, Callable]:
    builtin = {"accuracy": lambda: _accuracy_for(loss), "mse": lambda: _mse, "mae": lambda: _mae}
    resolved = {}
    for m in metrics or ():
        if isinstance(m, str):
            if m not in builtin:
                raise ValueError(
                    f"unknown metric {m!r}; built in: {sorted(builtin)} "
                    "(or pass a callable f(outputs, target) -> float)"
                )
            resolved[m] = builtin[m]()
        elif callable(m):
            resolved[getattr(m, "__name__", f"metric{len(resolved)}")] = m
        else:
            raise TypeError(f"a metric must be a name or a callable, got {m!r}")
    return resolved


# --- input preparation ----------------------------------------------------------------------


def _prepare_inputs(model: Module, X, name: str = "X") -> np.ndarray:
    dtype = getattr(model, "dtype", np.float64)
    X = as_float_array(X, name, dtype)
    check_matrix(X, name, getattr(model, "in_features", None))
    check_finite(X, name)
    return X


def _prepare_target(loss: Loss, y, X: np.ndarray, outputs_shape, name: str = "y") -> np.ndarray:
    """y as an array with one row per row of X, checked by the loss against outputs of shape
    (N, *outputs_shape) (integer labels stay integers for softmax cross-entropy)."""
    y_arr = np.asarray(y)
    if y_arr.ndim == 0 or y_arr.shape[0] != X.shape[0]:
        got = "a scalar" if y_arr.ndim == 0 else f"{y_arr.shape[0]} rows"
        raise ValueError(f"{name} has {got} but the inputs have {X.shape[0]} rows")
    if not isinstance(loss, SoftmaxCrossEntropyLoss) or y_arr.ndim == 2:
        y_arr = as_float_array(y_arr, name, X.dtype)
    # Validate labels and shapes once, up front, with the loss's own checks on dummy outputs.
    _loss_target(loss, y_arr, (X.shape[0], *outputs_shape), X.dtype)
    if isinstance(loss, SoftmaxCrossEntropyLoss) and y_arr.ndim == 1:
        y_arr = y_arr.astype(np.intp)  # validated integer-valued: convert once, not per step
    return y_arr


def _loss_target(loss: Loss, y: np.ndarray, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Validate y against outputs of ``shape``. A built-in loss returns y in the form it
    computes with (integer labels, or targets shaped like the outputs); any other loss
    runs its ``forward`` on zeros, and y comes back as it was."""
    if type(loss) in fastpath.LOSSES:
        return loss._validate(np.broadcast_to(np.zeros((), dtype), shape), y)[1]
    loss.forward(np.zeros(shape, dtype=dtype), y)
    if isinstance(loss, Loss):
        loss._grad = None
    return y


def _output_shape(model: Module, X: np.ndarray) -> tuple[int, ...]:
    """The shape of one output row, learned from a forward pass on X's first row."""
    return np.shape(model.forward(X[:1]))[1:]


def predict_logits(model: Module, X, batch_size: int = 4096) -> np.ndarray:
    """Raw model outputs for X (N, D), computed in chunks to bound memory."""
    X = _prepare_inputs(model, X)
    return np.concatenate(
        [model.forward(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    )


def evaluate(model: Module, loss: Loss, X, y, metrics=(), batch_size: int = 4096) -> dict:
    """Loss (same reduction as ``loss``) and metrics of ``model`` on (X, y).

    ``metrics``: names / callables, or a dict name -> callable(outputs, target).
    """
    metric_fns = metrics if isinstance(metrics, dict) else _resolve_metrics(metrics, loss)
    outputs = predict_logits(model, X, batch_size)
    y = _prepare_target(loss, y, outputs, outputs.shape[1:])
    result = {"loss": loss.forward(outputs, y)}
    for name, fn in metric_fns.items():
        result[name] = fn(outputs, y)
    return result


# --- Ctrl-C ---------------------------------------------------------------------------------


@contextmanager
def _deferred_interrupt():
    """Turn the first Ctrl-C into a flag checked between steps; a second one interrupts at once."""
    flag = {"set": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if flag["set"]:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag["set"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


# --- fit ------------------------------------------------------------------------------------


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X,
    y,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    validation_data: tuple | None = None,
    validation_fraction: float | None = None,
    metrics: Sequence = (),
    l2: L2Penalty | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: bool = False,
) -> History:
    """Train ``model`` on (X, y) with minibatches; returns a ``History``.

    X (N, D); y (N,) integer labels for softmax cross-entropy, or (N,) / (N, K) targets.
    Everything is validated before the first parameter changes. ``l2`` adds an
    ``L2Penalty`` to the loss and its gradient. Shuffling (and a validation split drawn
    with ``validation_fraction``) come from ``seed``/``rng``: same seed, same bits.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if validation_data is not None and validation_fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    rng = make_rng(seed, rng)
    X = _prepare_inputs(model, X)
    outputs_shape = _output_shape(model, X)
    y = _prepare_target(loss, y, X, outputs_shape)
    if validation_fraction is not None:
        X, y, validation_data = _split_validation(X, y, validation_fraction, rng)
    if validation_data is not None:
        X_val = _prepare_inputs(model, validation_data[0], "validation X")
        y_val = _prepare_target(loss, validation_data[1], X_val, outputs_shape, "validation y")
    metric_fns = _resolve_metrics(metrics, loss)
    callbacks = list(callbacks)
    if verbose:
        callbacks.append(ProgressBar())

    n = X.shape[0]
    steps_per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    history = History()
    log_names = ("loss", *metric_fns)
    if validation_data is not None:
        log_names += tuple(f"val_{name}" for name in log_names)
    ctx = TrainingContext(model, history, epochs, steps_per_epoch, log_names=log_names)
    outputs_name = f"{type(loss).__name__} prediction"
    path: fastpath.FastStep | _ReferenceStep
    if fastpath.supports(model, loss, optimizer, X.dtype):
        target = _loss_target(loss, y, (n, *outputs_shape), X.dtype)  # the loss's own form
        path = fastpath.FastStep(
            model, loss, optimizer, l2, X, target, y if metric_fns and target is not y else None
        )
    else:
        path = _ReferenceStep(model, loss, optimizer, l2, X, y)
    for cb in callbacks:
        cb.on_train_begin(ctx)

    # Overflow shows up as a non-finite loss or gradient, which the loop reports as divergence
    # with a message that says what to do; NumPy's own warnings would only precede it.
    with _deferred_interrupt() as interrupted, np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            ctx.epoch, ctx.step, ctx.logs = epoch, 0, {}
            started = time.perf_counter()
            loss_sum, seen = 0.0, 0
            metric_sums = dict.fromkeys(metric_fns, 0.0)
            for idx in batches(n, batch_size, rng=rng, shuffle=shuffle, drop_last=drop_last):
                xb, tb, yb = path.batch(idx)
                reason: str | None
                try:
                    outputs = path.forward(xb)
                    # a NaN or inf in the outputs makes the built-in losses non-finite, except
                    # where the limit is exact (a logit of -inf for a wrong class), so the
                    # outputs are only scanned to explain a non-finite loss
                    value = path.loss(outputs, tb)
                except NonFiniteError as exc:
                    value, reason = float("nan"), str(exc)
                else:
                    reason = None
                if reason is None and math.isfinite(value):
                    path.backward()
                    if not path.gradients_finite():
                        reason = "a gradient is not finite"
                elif reason is None:
                    reason = _why_not_finite(outputs, outputs_name, value)
                if reason is not None:
                    _diverged(ctx, epoch, ctx.step, reason, optimizer)
                    break
                path.step()
                ctx.step += 1
                history.step_loss.append(value)
                loss_sum += value * len(idx)
                seen += len(idx)
                for name, fn in metric_fns.items():
                    metric_sums[name] += fn(outputs, tb if yb is None else yb) * len(idx)
                ctx.logs = {"loss": value}
                for cb in callbacks:
                    cb.on_batch_end(ctx)
                if interrupted["set"]:
                    ctx.stop_training, ctx.stop_reason = True, "interrupted"
                    history.message = (
                        f"interrupted at epoch {epoch + 1}, step {ctx.step}; "
                        "the model keeps the weights of that step"
                    )
                    break
            if history.stop_reason == "diverged":
                break
            if seen:
                _end_epoch(ctx, loss_sum / seen, {k: v / seen for k, v in metric_sums.items()})
                history.epoch_seconds.append(time.perf_counter() - started)
                if validation_data is not None:
                    val = evaluate(model, loss, X_val, y_val, metric_fns)
                    history.val_loss.append(val.pop("loss"))
                    for name, value in val.items():
                        history.val_metrics.setdefault(name, []).append(value)
                    ctx.logs["val_loss"] = history.val_loss[-1]
                    ctx.logs.update({f"val_{k}": v[-1] for k, v in history.val_metrics.items()})
                for cb in callbacks:
                    cb.on_epoch_end(ctx)
            if ctx.stop_training:
                history.stop_reason = ctx.stop_reason
                break
    for cb in callbacks:
        cb.on_train_end(ctx)
    return history


def _why_not_finite(outputs: np.ndarray, name: str, value: float) -> str:
    """The reason a step's loss is not finite: the outputs' first NaN/inf, or the loss itself."""
    try:
        check_finite(outputs, name)
    except NonFiniteError as exc:
        return str(exc)
    return f"the loss is {value}"


def _gradients_finite(params) -> bool:
    """True if every gradient entry is finite."""
    return all(surely_finite(p.grad) or np.isfinite(p.grad).all() for p in params)


class _ReferenceStep:
    """One training step through the public protocol only: ``model.forward``, the loss's
    ``forward``/``backward``, ``model.backward(grad)``, ``optimizer.step()``. Batches are
    fresh arrays (``X[idx]``), as a module that keeps its input may expect."""

    def __init__(self, model: Module, loss: Loss, optimizer, l2: L2Penalty | None, X, y):
        self.model, self.loss_fn, self.optimizer, self.l2 = model, loss, optimizer, l2
        self.X, self.y = X, y
        self.params = model.parameters()

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        return self.X[idx], self.y[idx], None

    def forward(self, xb: np.ndarray) -> np.ndarray:
        return self.model.forward(xb)

    def loss(self, outputs: np.ndarray, tb: np.ndarray) -> float:
        value = self.loss_fn.forward(outputs, tb)
        if self.l2 is not None:
            value += self.l2.value(self.params)
        return value

    def backward(self) -> None:
        self.model.backward(self.loss_fn.backward())
        if self.l2 is not None:
            self.l2.add_gradient(self.params)

    def gradients_finite(self) -> bool:
        return _gradients_finite(self.params)

    def step(self) -> None:
        self.optimizer.step()


def _end_epoch(ctx: TrainingContext, epoch_loss: float, metrics: dict[str, float]) -> None:
    h = ctx.history
    h.epoch_loss.append(epoch_loss)
    for name, value in metrics.items():
        h.metrics.setdefault(name, []).append(value)
    ctx.logs = {"loss": epoch_loss, **metrics}


def _diverged(ctx: TrainingContext, epoch: int, step: int, reason: str, optimizer) -> None:
    lr = getattr(optimizer, "lr", None)
    hint = f" (now {lr:g})" if lr is not None else ""
    message = (
        f"training diverged at epoch {epoch + 1}, step {step + 1}: {reason}. "
        f"Stopped before updating; the model keeps its last finite weights. "
        f"Try a smaller learning rate{hint}."
    )
    ctx.history.stop_reason, ctx.history.message = "diverged", message
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _split_validation(X: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator):
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction!r}")
    n_val = int(round(fraction * X.shape[0]))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(
            f"validation_fraction={fraction} leaves no rows for training or "
            f"validation out of {X.shape[0]}"
        )
    order = rng.permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], (X[val], y[val])
