"""Minibatch training: the loop the course writes by hand, once, with its edge cases handled.

    for each epoch:
        shuffle the row indices (one permutation, never a copy of X)
        for each batch of indices:
            logits = model.forward(X[batch])
            loss   = loss_fn.forward(logits, y[batch])
            model.backward(loss_fn.backward())        # writes every parameter's .grad
            optimizer.step()                          # in place

``fit`` is that loop as named steps, each a function below, called in this order and
grouped as the house names them (prepare, step, epoch, finish):

    prepare  _prepare              check every input and build the run (nothing changes yet)
             _begin                the history, the callbacks' context, their on_train_begin
    step     _choose_step          split validation rows, restore a checkpoint, pick the
                                   step (``steps.step_for``) and the divergence guard
    epoch    _run_epoch            the batches of one epoch (``_train_steps``; its rare
                                   paths apart: ``_diverged``, ``_interrupted``)
             _end_epoch            epoch averages, validation scores, the callbacks' epoch
                                   end; True when the loop ends there
    finish   _check_final_weights  one forward with the final weights
             _finish               the divergence warning, the callbacks' interrupt and
                                   train end; the step and the Generator back for next time

Around the loop ``fit`` adds what a user expects: validation, metrics, callbacks
(``callbacks``), a clean stop on Ctrl-C, resuming from a checkpoint bit for bit
(``checkpoints``), and a stop on divergence that keeps the last weights whose loss and
outputs were finite (``guard.DivergenceGuard`` says how, cheaply).
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..nn import NonFiniteError
from ..nn.layers import Module
from ..nn.losses import L2Penalty, Loss
from ..nn.optim import Optimizer
from .batching import batches
from .callbacks import Callback, History, ProgressBar, TrainingContext
from .checkpoints import read_checkpoint, resume_callbacks
from .fast import FastStep
from .generators import give_back, seeded
from .guard import (
    WEIGHT_NOT_FINITE,
    DivergenceGuard,
    end_of_epoch_problem,
    final_problem,
    record_divergence,
    why_not_finite,
)
from .inputs import (
    Metric,
    check_validation_arguments,
    count,
    output_shape,
    prepare_inputs,
    prepare_target,
    prepare_target_and_form,
    resolve_metrics,
    try_metrics,
    validation_order,
    validation_rows,
)
from .interrupt import deferred_interrupt
from .state import Position, Run, zero_sums
from .steps import look_up, release, step_for

__all__ = ["fit"]


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X: ArrayLike,
    y: ArrayLike,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    validation_fraction: float | None = None,
    metrics: Sequence[str | Metric] = (),
    l2: L2Penalty | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: bool = False,
    resume_from: str | Path | None = None,
    fast: bool = True,
) -> History:
    """Train ``model`` on (X, y) with minibatches; returns a ``History``.

    X (N, D); y (N,) integer labels for softmax cross-entropy, or (N,) / (N, K) targets.
    Everything is validated before the first parameter changes or the Generator draws.
    ``l2`` adds an ``L2Penalty`` to the loss and its gradient. Shuffling (and a validation
    split of ceil(validation_fraction * N) rows, ``handgrad.splits``) come from ``seed``/``rng``:
    same seed, same bits.
    ``resume_from``: a checkpoint written by ``ModelCheckpoint`` (or ``save_checkpoint``):
    give the call the run started with (same data, model, optimizer type, seed, ``epochs``);
    the run continues where the checkpoint stands and ends with the same bits as if it had
    never stopped. ``fast``: run the built-in modules, losses and optimizers through fused
    kernels (``handgrad.train.fast``, the same numbers to a few ulps); ``False`` always takes
    the reference step, the textbook ``forward``/``backward``/``step`` calls.
    """
    # (positional, each named as the parameter it fills, which a test checks: a keyword
    # call costs ~1 k instructions more, in matching the names)
    run = _prepare(
        model,
        loss,
        optimizer,
        X,
        y,
        epochs,
        batch_size,
        seed,
        rng,
        shuffle,
        drop_last,
        validation_data,
        validation_fraction,
        metrics,
        l2,
        resume_from,
        fast,
    )
    # Ctrl-C is deferred from before on_train_begin: a callback that says "Ctrl-C keeps the
    # model" as training begins is true at once. Overflow shows up as a non-finite loss or
    # gradient, which the loop reports as divergence with a message that says what to do;
    # NumPy's own warnings would only precede it.
    with deferred_interrupt(quiet_overflow=True) as run.interrupted:
        _begin(run, callbacks, verbose)
        # --- from here on, state changes: the Generator draws, the weights train
        _choose_step(run, fast)
        for epoch in range(run.at.epoch, run.epochs):
            started = _run_epoch(run, epoch)
            if _end_epoch(run, epoch, started):
                break
        _check_final_weights(run)
    _finish(run, seed, rng)
    return run.history


# --- 1. prepare inputs ----------------------------------------------------------------------


def _prepare(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X: ArrayLike,
    y: ArrayLike,
    epochs: int,
    batch_size: int,
    seed: int | None,
    rng: np.random.Generator | None,
    shuffle: bool,
    drop_last: bool,
    validation_data: tuple[ArrayLike, ArrayLike] | None,
    validation_fraction: float | None,
    metrics: Sequence[str | Metric],
    l2: L2Penalty | None,
    resume_from: str | Path | None,
    fast: bool,
) -> Run:
    """Check every input of ``fit`` (and a checkpoint against them); nothing changes yet.
    For the built-in pieces the model's last call left a fast step for (unchanged), the
    model's dtype, input width and output shape come from that step (``steps.look_up``)."""
    if not isinstance(fast, (bool, np.bool_)):
        raise TypeError(f"fast must be True or False, got {fast!r}")
    if not (type(epochs) is int and epochs >= 0):  # (else count's general check)
        epochs = count("epochs", epochs, 0)
    if not (type(batch_size) is int and batch_size >= 1):
        batch_size = count("batch_size", batch_size, 1)
    if validation_data is not None or validation_fraction is not None:
        check_validation_arguments(validation_data, validation_fraction)
    rng = seeded(seed, rng)  # make_rng's Generator, kept from the seed's last call
    shapes, hint = look_up(model, loss, optimizer, fast)  # (the last call's step)
    arrays_given = type(X) is np.ndarray and type(y) is np.ndarray  # (asarray runs no code)
    X = prepare_inputs(model, X, known=shapes)
    outputs_shape = output_shape(model, X) if shapes is None else shapes[2]
    y, target = prepare_target_and_form(loss, y, X, outputs_shape)
    n_val = 0 if validation_fraction is None else validation_rows(validation_fraction, len(X))
    if validation_data is not None:
        X_val = prepare_inputs(model, validation_data[0], "validation X")
        y_val = prepare_target(loss, validation_data[1], X_val, outputs_shape, "validation y")
        validation_data = (X_val, y_val)
    metric_fns = resolve_metrics(metrics, loss) if metrics else {}
    if metric_fns:
        try_metrics(metric_fns, model, X[:1], y[:1])
    run = Run(  # (positional, each named as the field it fills: see ``Run``)
        model,
        loss,
        optimizer,
        X,
        y,
        l2,
        n_val,
        validation_data,
        epochs,
        batch_size,
        bool(shuffle),
        bool(drop_last),
        rng,
        metric_fns,
        outputs_shape,
        resume_from,
        target,
    )
    if arrays_given and not metric_fns and validation_data is None:
        # (what was found above holds: no code of the caller's has run since)
        run.hint = hint
    if resume_from is not None:  # checked against this call; nothing changes yet
        run.resume = read_checkpoint(resume_from)
        run.resume.check_fits(model, optimizer, rng, run.loop, epochs)
        run.resume.check_metrics(metric_fns)
    return run


def _begin(run: Run, callbacks: Sequence[Callback], verbose: bool) -> None:
    """The history (the run so far when resuming), the context the callbacks see (a
    ``ProgressBar`` after them when ``verbose``), and their ``on_train_begin``: a callback
    may still refuse (a monitor that is not logged)."""
    run.callbacks = callbacks = [*callbacks, ProgressBar()] if verbose else [*callbacks]
    if run.resume is not None:  # the run so far, continuing: how it stopped is not how it ends
        try:
            run.history = History.from_dict(run.resume.history)
        except ValueError as exc:
            raise ValueError(f"checkpoint {run.resume_from}: {exc}") from None
        run.history.stop_reason, run.history.message = None, ""
    n, batch_size = run.rows, run.batch_size
    steps_per_epoch = n // batch_size if run.drop_last else math.ceil(n / batch_size)
    log_names = ("loss", *run.metric_fns)
    if run.validation_data is not None or run.n_val:
        log_names += tuple(f"val_{name}" for name in log_names)
    run.ctx = TrainingContext(
        run.model,
        run.history,
        run.epochs,
        steps_per_epoch,
        log_names=log_names,
        optimizer=run.optimizer,
    )
    for cb in callbacks:
        cb.on_train_begin(run.ctx)
    if run.resume is not None:
        resume_callbacks(callbacks, run.resume.callbacks, str(run.resume_from))


# --- 2. choose the step ---------------------------------------------------------------------


def _choose_step(run: Run, fast: bool) -> None:
    """Split off the validation rows, restore a checkpoint, then pick the step, the guard
    that can undo it and where the run starts."""
    if run.n_val:
        train, val = validation_order(len(run.X), run.n_val, run.rng)
        run.validation_data = (run.X[val], run.y[val])
        run.X, run.y, run.target = run.X[train], run.y[train], run.target[train]
        run.n_val = 0
    if run.resume is not None:
        run.resume.restore(run.model, run.optimizer, run.rng)
    run.step = step = step_for(run, fast)
    # the guard replays batches only where that gives the same bits: the fast step, and
    # no callback acting between steps
    run.replay = run.quiet = replay = step.replays_exactly
    if run.callbacks:
        hooks = [_batch_end_hook(cb) for cb in run.callbacks]
        run.replay = replay = replay and all(
            hook in (Callback.on_batch_end, ProgressBar.on_batch_end) for hook in hooks
        )
        run.quiet = replay and all(hook is Callback.on_batch_end for hook in hooks)
    run.guard = DivergenceGuard(step, step.params, run.optimizer, replay)
    if run.resume is None:
        run.at = Position(0, 0, run.rng_state(), zero_sums(run.metric_fns))
    else:
        progress = run.resume.progress["sums"]
        sums = {k: int(v) if k == "seen" else float(v) for k, v in progress.items()}
        run.at = Position(run.resume.epoch, run.resume.step, run.resume.rng_state, sums)
    if run.callbacks:  # (only a callback sees the context)
        run.ctx.save_checkpoint = run.save_checkpoint


def _batch_end_hook(cb: Callback) -> Any:
    """The function ``cb.on_batch_end`` runs (its class's, or one set on the instance)."""
    hook = cb.on_batch_end
    return getattr(hook, "__func__", hook)


# --- 3. run an epoch ------------------------------------------------------------------------


def _run_epoch(run: Run, epoch: int) -> float:
    """Train the batches of one epoch (those not done yet, when resuming in its middle);
    returns its start time."""
    rng, ctx = run.rng, run.ctx
    skip = run.at.step if epoch == run.at.epoch else 0
    if not skip:  # a fresh epoch starts from the Generator as it is now
        if epoch or run.resume is not None:  # (epoch 0's Position is _choose_step's, as new)
            run.at = Position(epoch, 0, run.rng_state(), zero_sums(run.metric_fns))
    else:  # a resumed one from the Generator as it was when it started
        rng.bit_generator.state = run.at.rng_state
    ctx.epoch, ctx.step, ctx.logs = epoch, skip, {}
    run.guard.renew = True
    started = time.perf_counter()
    order = batches(run.rows, run.batch_size, rng=rng, shuffle=run.shuffle, drop_last=run.drop_last)
    if skip:
        order = itertools.islice(order, skip, None)
    # (asked at each epoch: a callback may set its own on_batch_end at an epoch's end)
    acting = not (
        run.quiet and all(_batch_end_hook(cb) is Callback.on_batch_end for cb in run.callbacks)
    )
    _train_steps(run, order, acting)
    return started


def _train_steps(run: Run, order: Iterable[np.ndarray], acting: bool) -> None:
    """One step for each batch of row indices in ``order``, until training stops here
    (divergence: ``_diverged``; Ctrl-C: ``_interrupted``). ``acting``: something may act
    between steps (a callback's ``on_batch_end``, or a step the guard cannot replay), so
    the step counters, the epoch's sums and the logs are brought up to date after each
    step, the weights checked (without replay) and the callbacks called; otherwise they are
    written back once, when the loop ends.

    A NaN or inf in the outputs makes the built-in losses non-finite, except where the limit
    is exact (a logit of -inf for a wrong class), so the outputs are only scanned to explain
    a non-finite loss."""
    # the step's methods and the run's fields as locals, bound once: an attribute look-up
    # inside the loop would be paid at every step (measurable on small batches)
    step, ctx, guard, at = run.step, run.ctx, run.guard, run.at
    batch, forward, loss_and_grad = step.batch, step.forward, step.loss
    backward, gradients_finite, update = step.backward, step.gradients_finite, step.step
    log_loss, isfinite, interrupted = run.history.step_loss.append, math.isfinite, run.interrupted
    metrics, sums, replay = run.metric_fns.items(), at.sums, run.replay
    done, loss_sum, seen, value = ctx.step, sums["loss"], sums["seen"], None
    since: list[np.ndarray] | None = None  # the guard's list, once it took its snapshot
    step.fold_updates(not acting)  # (nothing reads a .grad until the finally below)
    try:  # each batch: batch -> forward -> loss -> backward -> check -> update -> log
        for idx in order:
            xb, tb, yb = batch(idx)
            try:
                outputs = forward(xb)
                value_now = loss_and_grad(outputs, tb)
            except NonFiniteError as exc:  # these weights are bad: back to the previous ones
                return _diverged(run, f"step {done + 1}", str(exc))
            if not isfinite(value_now):
                reason = why_not_finite(outputs, _outputs_name(run), value_now)
                return _diverged(run, f"step {done + 1}", reason)
            backward()
            if not gradients_finite():  # the weights are fine: keep them
                return _diverged(run, f"step {done + 1}", "a gradient is not finite", undo=False)
            # the update, after the guard keeps what undoes it: a snapshot (the epoch's
            # first step, or every step when it cannot replay), else the batch to replay
            if since is None or not replay:
                guard.before_step(idx)
                since = guard.since
            else:
                since.append(idx)
            update()
            # the log: the step's loss, the epoch's sums
            done += 1
            value = value_now
            log_loss(value)
            rows = len(idx)
            loss_sum += value * rows
            seen += rows
            if metrics:
                target = tb if yb is None else yb
                for name, fn in metrics:
                    sums[name] += fn(outputs, target) * rows
            if acting:
                ctx.step = at.step = done
                sums["loss"], sums["seen"] = loss_sum, seen
                if not replay and guard.weights_wrong():
                    return _diverged(run, f"step {done}", WEIGHT_NOT_FINITE)
                ctx.logs = {"loss": value}
                for cb in run.callbacks:
                    cb.on_batch_end(ctx)
                done = ctx.step  # (as a callback left it)
            if interrupted["set"]:
                return _interrupted(run, done)
    finally:
        step.fold_updates(False)  # every .grad written, as the last step trained left it
        ctx.step = at.step = done
        sums["loss"], sums["seen"] = loss_sum, seen
        if value is not None and not acting:  # (acting: the logs as the callbacks left them)
            ctx.logs = {"loss": value}


def _diverged(run: Run, where: str, reason: str, undo: bool = True) -> None:
    """Training stops here: back to the last weights whose loss and outputs were finite
    (``undo``; else the weights are kept), and the history says where and why."""
    record_divergence(run.ctx, where, reason, run.guard.rollback() if undo else None)


def _interrupted(run: Run, done: int) -> None:
    """Ctrl-C: training stops after step ``done``, whose weights the model keeps."""
    ctx = run.ctx
    ctx.stop_training, ctx.stop_reason = True, "interrupted"
    run.history.message = (
        f"interrupted at epoch {ctx.epoch + 1}, step {done}; "
        "the model keeps the weights of that step"
    )


def _outputs_name(run: Run) -> str:
    return f"{type(run.loss).__name__} prediction"


# --- 4. end an epoch ------------------------------------------------------------------------


def _end_epoch(run: Run, epoch: int, started: float) -> bool:
    """Epoch averages and validation scores into the history and logs, then the callbacks'
    ``on_epoch_end``; a divergence if the weights (or validation scores) are not finite.
    True when training ends here: divergence, a callback's stop or Ctrl-C."""
    ctx, history, sums = run.ctx, run.history, run.at.sums
    seen = sums["seen"]
    if seen and history.stop_reason != "diverged" and ctx.stop_reason != "interrupted":
        end = end_of_epoch_problem(
            run.guard, run.model, run.loss, run.validation_data, run.metric_fns
        )
        if isinstance(end, str):
            _diverged(run, "the end of the epoch", end)
            return True
        epoch_loss = sums["loss"] / seen
        metrics_now = {k: sums[k] / seen for k in run.metric_fns}
        history.epoch_loss.append(epoch_loss)
        for name, value in metrics_now.items():
            history.metrics.setdefault(name, []).append(value)
        ctx.logs = {"loss": epoch_loss, **metrics_now}
        history.epoch_seconds.append(time.perf_counter() - started)
        if end is not None:
            history.val_loss.append(end.pop("loss"))
            for name, value in end.items():
                history.val_metrics.setdefault(name, []).append(value)
            ctx.logs["val_loss"] = history.val_loss[-1]
            ctx.logs.update({f"val_{k}": v[-1] for k, v in history.val_metrics.items()})
        run.at = Position(epoch + 1, 0, run.rng_state(), zero_sums(run.metric_fns))
        for cb in run.callbacks:
            cb.on_epoch_end(ctx)
    if history.stop_reason == "diverged":
        return True
    if ctx.stop_training:
        history.stop_reason = ctx.stop_reason
        return True
    return False


# --- 5. finish ------------------------------------------------------------------------------


def _check_final_weights(run: Run) -> None:
    """The last update's weights have not been tried yet: one forward on its batch."""
    if run.history.stop_reason == "diverged" or not run.guard.since:
        return
    # no step since the end of an epoch found the weights finite, and no callback ran after
    # that check (one may write into the weights): try the batch only
    checked = run.at.step == 0 and not run.callbacks
    # the fast step's loss with no L2 term may be vouched for without its value
    vouch = run.loss if run.l2 is None and type(run.step) is FastStep else None
    problem = final_problem(run.step, run.guard, _outputs_name(run), checked, vouch)
    if problem is not None:
        _diverged(run, "the end of training", problem)


def _finish(run: Run, seed: int | None, rng: np.random.Generator | None) -> None:
    """The divergence warning, the callbacks' ``on_interrupt`` (after Ctrl-C) and
    ``on_train_end``; then the step and the Generator go back for the next call."""
    stop_reason = run.history.stop_reason
    if stop_reason == "diverged":
        warnings.warn(run.history.message, RuntimeWarning, stacklevel=3)  # (at fit's caller)
    elif stop_reason == "interrupted":
        for cb in run.callbacks:
            cb.on_interrupt(run.ctx)
    for cb in run.callbacks:
        cb.on_train_end(run.ctx)
    release(run.model, run.step)  # its buffers serve the model's next call
    give_back(seed, rng, run.rng)  # reset, it serves the seed's next call
    run.ctx = None  # (its save_checkpoint refers to run: no cycle, so the run is freed now)
