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
early stopping, checkpoints; ``handgrad.callbacks``), a clean stop on Ctrl-C, resuming from
a checkpoint bit for bit (``handgrad.checkpoint``), and a stop on divergence that keeps the
last weights whose loss and outputs were finite (``checkpoint.DivergenceGuard`` says how,
cheaply: a snapshot per epoch and a replay on the fast path).
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import fastpath
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    ProgressBar,
    TrainingContext,
)
from .checkpoint import DivergenceGuard, read_checkpoint, save_checkpoint
from .fit_inputs import (
    _count,
    _loss_target,
    _output_shape,
    _prepare_inputs,
    _prepare_target,
    _resolve_metrics,
    _split_validation,
    _try_metrics,
    _validation_rows,
)
from .nn._checks import (
    NonFiniteError,
    check_finite,
    surely_finite,
)
from .nn.init import make_rng
from .nn.layers import Module
from .nn.losses import L2Penalty, Loss
from .nn.optim import Optimizer

__all__ = [
    "batches",
    "fit",
    "evaluate",
    "predict_outputs",
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
    batch_size = _count("batch_size", batch_size, 1)
    if shuffle:
        if rng is None:
            raise ValueError("batches: shuffle=True needs an explicit rng (numpy Generator)")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def predict_outputs(model: Module, X, batch_size: int = 4096) -> np.ndarray:
    """Raw model outputs for X (N, D): logits for a classifier, predictions for a regression;
    computed in chunks of ``batch_size`` rows to bound memory."""
    X = _prepare_inputs(model, X)
    return np.concatenate(
        [model.forward(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    )


def predict_logits(model: Module, X, batch_size: int = 4096) -> np.ndarray:
    """Deprecated: the outputs are not always logits; use ``predict_outputs``."""
    warnings.warn(
        "predict_logits is deprecated (it also returns regression outputs); "
        "use handgrad.train.predict_outputs",
        DeprecationWarning,
        stacklevel=2,
    )
    return predict_outputs(model, X, batch_size)


def evaluate(model: Module, loss: Loss, X, y, metrics=(), batch_size: int = 4096) -> dict:
    """Loss (same reduction as ``loss``) and metrics of ``model`` on (X, y).

    ``metrics``: names / callables, or a dict name -> callable(outputs, target).
    """
    metric_fns = metrics if isinstance(metrics, dict) else _resolve_metrics(metrics, loss)
    outputs = predict_outputs(model, X, batch_size)
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
    resume_from: str | Path | None = None,
) -> History:
    """Train ``model`` on (X, y) with minibatches; returns a ``History``.

    X (N, D); y (N,) integer labels for softmax cross-entropy, or (N,) / (N, K) targets.
    Everything is validated before the first parameter changes or the Generator draws.
    ``l2`` adds an ``L2Penalty`` to the loss and its gradient. Shuffling (and a validation
    split drawn with ``validation_fraction``) come from ``seed``/``rng``: same seed, same bits.
    ``resume_from``: a checkpoint written by ``ModelCheckpoint`` (or ``save_checkpoint``):
    give the call the run started with (same data, model, optimizer type, seed, ``epochs``);
    the run continues where the checkpoint stands and ends with the same bits as if it had
    never stopped.
    """
    epochs = _count("epochs", epochs, 0)
    batch_size = _count("batch_size", batch_size, 1)
    if validation_data is not None and validation_fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    if validation_data is not None and (
        not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2
    ):
        got = len(validation_data) if isinstance(validation_data, (tuple, list)) else "not a pair"
        raise ValueError(f"validation_data must be a pair (X_val, y_val), got {got!r}")
    rng = make_rng(seed, rng)
    X = _prepare_inputs(model, X)
    outputs_shape = _output_shape(model, X)
    y = _prepare_target(loss, y, X, outputs_shape)
    n_val = 0 if validation_fraction is None else _validation_rows(validation_fraction, len(X))
    if validation_data is not None:
        X_val = _prepare_inputs(model, validation_data[0], "validation X")
        y_val = _prepare_target(loss, validation_data[1], X_val, outputs_shape, "validation y")
        validation_data = (X_val, y_val)
    metric_fns = _resolve_metrics(metrics, loss)
    _try_metrics(metric_fns, model, X[:1], y[:1])
    n = X.shape[0] - n_val
    loop = {
        "rows": n,
        "batch_size": batch_size,
        "shuffle": bool(shuffle),
        "drop_last": bool(drop_last),
    }
    resume = None if resume_from is None else read_checkpoint(resume_from)
    if resume is not None:  # checked against this call; nothing changes yet
        resume.check_fits(model, optimizer, rng, loop, epochs)
        if set(resume.progress["sums"]) != set(_zero(metric_fns)):
            raise ValueError(
                f"checkpoint {resume_from} was written by a run with metrics "
                f"{sorted(set(resume.progress['sums']) - {'loss', 'seen'})}: resume with those"
            )
    callbacks = list(callbacks)
    if verbose:
        callbacks.append(ProgressBar())

    steps_per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    history = History()
    if resume is not None:  # the run so far, continuing: how it stopped is not how it ends
        try:
            history = History.from_dict(resume.history)
        except ValueError as exc:
            raise ValueError(f"checkpoint {resume_from}: {exc}") from None
        history.stop_reason, history.message = None, ""
    log_names = ("loss", *metric_fns)
    if validation_data is not None or n_val:
        log_names += tuple(f"val_{name}" for name in log_names)
    ctx = TrainingContext(
        model, history, epochs, steps_per_epoch, log_names=log_names, optimizer=optimizer
    )
    # Ctrl-C is deferred from before on_train_begin: a callback that says "Ctrl-C keeps the
    # model" as training begins is true at once. Overflow shows up as a non-finite loss or
    # gradient, which the loop reports as divergence with a message that says what to do;
    # NumPy's own warnings would only precede it.
    with _deferred_interrupt() as interrupted, np.errstate(over="ignore", invalid="ignore"):
        for cb in callbacks:
            cb.on_train_begin(ctx)  # may refuse (a monitor that is not logged): nothing drawn yet
        if resume is not None:
            _resume_callbacks(callbacks, resume.callbacks, str(resume_from))

        # --- from here on, state changes: the Generator draws, the weights train
        if n_val:
            X, y, (X_val, y_val) = _split_validation(X, y, n_val, rng)
            validation_data = (X_val, y_val)
        if resume is not None:
            resume.restore(model, optimizer, rng)
        outputs_name = f"{type(loss).__name__} prediction"
        path: fastpath.FastStep | _ReferenceStep
        if fastpath.supports(model, loss, optimizer, X.dtype):
            target = _loss_target(loss, y, (n, *outputs_shape), X.dtype)  # the loss's own form
            path = fastpath.FastStep(
                model, loss, optimizer, l2, X, target, y if metric_fns and target is not y else None
            )
        else:
            path = _ReferenceStep(model, loss, optimizer, l2, X, y)
        replay = isinstance(path, fastpath.FastStep) and not any(
            type(cb).on_batch_end not in (Callback.on_batch_end, ProgressBar.on_batch_end)
            for cb in callbacks
        )
        guard = DivergenceGuard(path, model.parameters(), optimizer, replay)
        at = _Position(
            epoch=0, step=0, rng_state=dict(rng.bit_generator.state), sums=_zero(metric_fns)
        )
        if resume is not None:
            sums = {
                k: int(v) if k == "seen" else float(v) for k, v in resume.progress["sums"].items()
            }
            at = _Position(resume.epoch, resume.step, resume.rng_state, sums)
        ctx.save_checkpoint = lambda target: save_checkpoint(
            target,
            model,
            optimizer,
            rng_state=at.rng_state,
            epoch=at.epoch,
            step=at.step,
            progress={"loop": loop, "sums": at.sums},  # (read back as floats, "nan" too)
            history=history.as_dict(),
            callbacks=[_callback_state(cb) for cb in callbacks],
        )
        for epoch in range(at.epoch, epochs):
            skip = at.step if epoch == at.epoch else 0
            if not skip:  # a fresh epoch starts from the Generator as it is now
                at = _Position(epoch, 0, dict(rng.bit_generator.state), _zero(metric_fns))
            else:  # a resumed one from the Generator as it was when it started
                rng.bit_generator.state = at.rng_state
            ctx.epoch, ctx.step, ctx.logs = epoch, skip, {}
            guard.renew = True
            started = time.perf_counter()
            sums = at.sums
            order = batches(n, batch_size, rng=rng, shuffle=shuffle, drop_last=drop_last)
            for idx in itertools.islice(order, skip, None):
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
                    if not path.gradients_finite():  # the weights are fine: keep them
                        _diverged(ctx, f"step {ctx.step + 1}", "a gradient is not finite", None)
                        break
                elif reason is None:
                    reason = _why_not_finite(outputs, outputs_name, value)
                if reason is not None:  # these weights are bad: back to the previous ones
                    _diverged(ctx, f"step {ctx.step + 1}", reason, guard.rollback())
                    break
                guard.before_step(idx)
                path.step()
                ctx.step += 1
                at.step = ctx.step
                history.step_loss.append(value)
                sums["loss"] += value * len(idx)
                sums["seen"] += len(idx)
                for name, fn in metric_fns.items():
                    sums[name] += fn(outputs, tb if yb is None else yb) * len(idx)
                if not replay and guard.check_weights and not guard.weights_finite():
                    _diverged(ctx, f"step {ctx.step}", _WEIGHT, guard.rollback())
                    break
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
            seen = sums["seen"]
            if seen and ctx.stop_reason != "interrupted":
                end = _end_of_epoch_problem(guard, model, loss, validation_data, metric_fns)
                if isinstance(end, str):
                    _diverged(ctx, "the end of the epoch", end, guard.rollback())
                    break
                metrics_now = {k: sums[k] / seen for k in metric_fns}
                _end_epoch(ctx, sums["loss"] / seen, metrics_now)
                history.epoch_seconds.append(time.perf_counter() - started)
                if end is not None:
                    history.val_loss.append(end.pop("loss"))
                    for name, value in end.items():
                        history.val_metrics.setdefault(name, []).append(value)
                    ctx.logs["val_loss"] = history.val_loss[-1]
                    ctx.logs.update({f"val_{k}": v[-1] for k, v in history.val_metrics.items()})
                at = _Position(epoch + 1, 0, dict(rng.bit_generator.state), _zero(metric_fns))
                for cb in callbacks:
                    cb.on_epoch_end(ctx)
            if ctx.stop_training:
                history.stop_reason = ctx.stop_reason
                break
        if history.stop_reason != "diverged" and guard.since:
            # the last update's weights have not been tried yet: one forward on its batch
            problem = _final_problem(path, guard, outputs_name)
            if problem is not None:
                _diverged(ctx, "the end of training", problem, guard.rollback())
    if history.stop_reason == "interrupted":
        for cb in callbacks:
            cb.on_interrupt(ctx)
    for cb in callbacks:
        cb.on_train_end(ctx)
    return history


def _callback_state(cb: Callback) -> dict | None:
    """A callback's state for a checkpoint, with its type to match it on resume."""
    state_dict = getattr(cb, "state_dict", None)
    return None if state_dict is None else {"type": type(cb).__name__, **state_dict()}


def _resume_callbacks(callbacks: Sequence[Callback], saved: list, where: str) -> None:
    """Give each callback that has a state (EarlyStopping, ...) its state from the
    checkpoint, in order; ValueError, before any change, if they do not match."""
    stateful = [cb for cb in callbacks if hasattr(cb, "state_dict")]
    states = [s for s in saved if s is not None]
    if [type(cb).__name__ for cb in stateful] != [s.get("type") for s in states]:
        raise ValueError(
            f"checkpoint {where} was written with the callbacks {[s.get('type') for s in states]} "
            f"holding state, not {[type(cb).__name__ for cb in stateful]}: resume with the same"
        )
    for cb, state in zip(stateful, states):
        cb.load_state_dict({k: v for k, v in state.items() if k != "type"})  # type: ignore[attr-defined]


_WEIGHT = "an update made a weight NaN or inf"


@dataclass
class _Position:
    """Where the run stands, as a checkpoint records it: the epoch in progress, the steps
    done in it, the Generator's state when it started, its partial sums."""

    epoch: int
    step: int
    rng_state: dict
    sums: dict[str, float]


def _zero(metric_fns: dict) -> dict[str, float]:
    return {"loss": 0.0, "seen": 0, **dict.fromkeys(metric_fns, 0.0)}


def _end_of_epoch_problem(guard, model, loss, validation_data, metric_fns) -> str | dict | None:
    """Why the weights at the end of an epoch are bad (a reason), else the validation scores
    (or None without validation data)."""
    if guard.check_weights and not guard.weights_finite():
        return _WEIGHT
    if validation_data is None:
        return None
    try:
        X_val, y_val = validation_data
        val = evaluate(model, loss, X_val, y_val, metric_fns)
    except NonFiniteError as exc:
        return f"on the validation data, {exc}"
    if not math.isfinite(val["loss"]):
        return f"the validation loss is {val['loss']}"
    return val


def _final_problem(path, guard, outputs_name: str) -> str | None:
    """Why the final weights are bad, tried on the last batch trained: a non-finite weight,
    output or loss; None if they are fine."""
    if guard.check_weights and not guard.weights_finite():
        return _WEIGHT
    xb, tb, _ = path.batch(guard.since[-1])
    try:
        outputs = path.forward(xb)
        value = path.loss(outputs, tb)
    except NonFiniteError as exc:
        return str(exc)
    return None if math.isfinite(value) else _why_not_finite(outputs, outputs_name, value)


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


def _diverged(ctx: TrainingContext, where: str, reason: str, undone: int | None) -> None:
    """Record and announce divergence. ``undone``: what the guard's rollback returned."""
    history = ctx.history
    if undone is None:
        kept = "the weights it had before (no update had been applied)"
    else:
        if undone:
            del history.step_loss[-undone:]
        kept = (
            f"the weights of step {len(history.step_loss)}, the last whose loss and outputs "
            "were finite (the optimizer state goes with them)"
        )
    lr = getattr(ctx.optimizer, "lr", None)
    hint = f" (now {lr:g})" if isinstance(lr, (int, float)) else ""
    message = (
        f"training diverged at epoch {ctx.epoch + 1}, {where}: {reason}. "
        f"Stopped; the model keeps {kept}. Try a smaller learning rate{hint}."
    )
    history.stop_reason, history.message = "diverged", message
    warnings.warn(message, RuntimeWarning, stacklevel=3)
