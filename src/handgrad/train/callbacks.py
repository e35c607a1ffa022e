"""What ``fit`` reports and calls: ``History``, ``TrainingContext`` and the callbacks
(``ProgressBar``, ``EarlyStopping``, ``ModelCheckpoint``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..io import number_from_json
from ..nn.constraints import Integer, Options, Real, check
from ..nn.layers import Module

__all__ = [
    "History",
    "TrainingContext",
    "Callback",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
]


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

    def as_dict(self) -> dict[str, Any]:
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        """The inverse of ``as_dict`` (a checkpoint's history); checks the shape of each field.
        A number written as null (not finite, ``handgrad.io``'s rule) comes back as NaN."""
        lists = ("step_loss", "epoch_loss", "val_loss", "epoch_seconds")
        dicts = ("metrics", "val_metrics")
        if not isinstance(d, dict) or set(d) != {*lists, *dicts, "stop_reason", "message"}:
            raise ValueError("a history must be the dict History.as_dict() returns")
        for name in lists:
            if not isinstance(d[name], list):
                raise ValueError(f"history {name} must be a list")
        for name in dicts:
            if not isinstance(d[name], dict) or not all(
                isinstance(v, list) for v in d[name].values()
            ):
                raise ValueError(f"history {name} must map names to lists")
        numbers = number_from_json
        return cls(
            step_loss=[numbers(v) for v in d["step_loss"]],
            epoch_loss=[numbers(v) for v in d["epoch_loss"]],
            metrics={k: [numbers(x) for x in v] for k, v in d["metrics"].items()},
            val_loss=[numbers(v) for v in d["val_loss"]],
            val_metrics={k: [numbers(x) for x in v] for k, v in d["val_metrics"].items()},
            epoch_seconds=[numbers(v) for v in d["epoch_seconds"]],
            stop_reason=d["stop_reason"],
            message=str(d["message"]),
        )


@dataclass
class TrainingContext:
    """What callbacks see; setting ``stop_training`` ends training after the current epoch."""

    model: Module
    history: History
    epochs: int
    steps_per_epoch: int
    epoch: int = 0
    step: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    stop_training: bool = False
    stop_reason: str | None = None
    log_names: tuple[str, ...] = ()  # the keys ``logs`` will hold at each epoch's end
    optimizer: Any = None
    # set by ``fit``: writes the whole training state (model, optimizer, Generator, counters,
    # history) to a path, resumable with ``fit(..., resume_from=path)``
    save_checkpoint: Callable[[str | Path], Path] | None = None


class Callback:
    """Hooks called by ``fit``; override the ones you need.

    ``on_interrupt`` runs when training stops on Ctrl-C, before any ``on_train_end`` (so a
    checkpoint sees the weights of the last step, not the best ones put back). A callback
    with state that a resumed run needs defines ``state_dict()`` (JSON numbers and NumPy
    arrays, flat) and ``load_state_dict(state)``; checkpoints carry it.
    """

    def on_train_begin(self, ctx: TrainingContext) -> None: ...
    def on_batch_end(self, ctx: TrainingContext) -> None: ...
    def on_epoch_end(self, ctx: TrainingContext) -> None: ...
    def on_interrupt(self, ctx: TrainingContext) -> None: ...
    def on_train_end(self, ctx: TrainingContext) -> None: ...


class ProgressBar(Callback):
    """Training progress on ``stream`` (stderr by default).

    On a terminal: one line rewritten in place (a bar through the epoch, then the epoch's
    logs), left on screen when training ends. Otherwise (a pipe, a file, a notebook, CI): a
    plain line per epoch, flushed at once, so a log shows every epoch. ``live`` forces
    either (default: the stream's ``isatty()``).
    """

    def __init__(self, stream: TextIO | None = None, width: int = 24, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.width = width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)()) if live is None else live
        self._last = 0.0
        self._drawn = False

    def _line(self, ctx: TrainingContext, frac: float | None) -> str:
        """'epoch 3/100 [####....] loss 0.41  val_loss 0.39' (no bar when ``frac`` is None)."""
        logs = "  ".join(f"{k} {v:.4g}" for k, v in ctx.logs.items())
        if frac is None:
            return f"epoch {ctx.epoch + 1}/{ctx.epochs}  {logs}".rstrip()
        filled = int(self.width * frac)
        bar = "#" * filled + "." * (self.width - filled)
        return f"epoch {ctx.epoch + 1}/{ctx.epochs} [{bar}] {logs}".rstrip()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def on_batch_end(self, ctx: TrainingContext) -> None:
        now = time.perf_counter()
        if self.live and now - self._last > 0.1:
            self._last = now
            self._write("\r\x1b[K" + self._line(ctx, ctx.step / max(ctx.steps_per_epoch, 1)))
            self._drawn = True

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if self.live:
            self._write("\r\x1b[K" + self._line(ctx, 1.0))
            self._drawn = True
        else:
            self._write(self._line(ctx, None) + "\n")

    def on_interrupt(self, ctx: TrainingContext) -> None:
        self.on_train_end(ctx)

    def on_train_end(self, ctx: TrainingContext) -> None:
        if self._drawn:  # end the line rewritten in place
            self._write("\n")
            self._drawn = False


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
        check(mode, Options("min", "max", "auto"), "mode", "EarlyStopping")
        if mode == "auto":
            mode = "min" if "loss" in monitor or "error" in monitor else "max"
        patience = check(patience, Integer(0), "patience", "EarlyStopping")
        min_delta = check(min_delta, Real(0.0), "min_delta", "EarlyStopping")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
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

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs: the best value, its epoch, the wait, the best weights."""
        state: dict[str, Any] = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self._wait,
        }
        for i, w in enumerate(self._best_weights or []):
            state[f"weight.{i}"] = w.copy()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back what ``state_dict`` returned (after ``on_train_begin``)."""
        best = state["best"]
        self.best = None if best is None else float(best)
        self.best_epoch, self._wait = int(state["best_epoch"]), int(state["wait"])
        weights = [state[f"weight.{i}"] for i in range(len(state)) if f"weight.{i}" in state]
        self._best_weights = [np.array(w) for w in weights] or None


class ModelCheckpoint(Callback):
    """Save the training state every ``every`` epochs to ``path`` (may contain ``{epoch}``).

    Each file is a checkpoint (``handgrad.train.checkpoints``): the model, as ``handgrad.load``
    reads it, plus the optimizer's state, the Generator's state, the epoch and step counters
    and the history, so that ``fit(..., resume_from=file)`` continues the run bit for bit.
    ``on_interrupt``: also save when training stops on Ctrl-C (mid-epoch; the file is named
    for the epoch in progress). ``latest_only``: remove each earlier file once the next one
    is written, keeping one checkpoint on disk.
    """

    def __init__(
        self,
        path: str | Path,
        every: int = 1,
        *,
        latest_only: bool = False,
        on_interrupt: bool = True,
    ):
        every = check(every, Integer(1), "every", "ModelCheckpoint")
        self.path, self.every = str(path), every
        self.latest_only, self.save_on_interrupt = bool(latest_only), bool(on_interrupt)
        self.saved: list[Path] = []

    def _save(self, ctx: TrainingContext, epoch: int) -> None:
        if ctx.save_checkpoint is None:
            raise RuntimeError("ModelCheckpoint: the training loop gave no way to save")
        written = ctx.save_checkpoint(self.path.format(epoch=epoch))
        if self.latest_only:
            for old in self.saved:
                if old != written and old.exists():
                    old.unlink()
            self.saved = []
        if written not in self.saved:
            self.saved.append(written)

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if (ctx.epoch + 1) % self.every == 0:
            self._save(ctx, ctx.epoch + 1)

    def on_interrupt(self, ctx: TrainingContext) -> None:
        if self.save_on_interrupt:
            self._save(ctx, ctx.epoch + 1)
