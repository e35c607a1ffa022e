"""Where one ``fit`` call stands: its checked inputs, its step and guard, its position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.layers import Module
from ..nn.losses import L2Penalty, Loss
from .callbacks import Callback, History
from .checkpoints import TrainingState, callback_state, save_checkpoint
from .inputs import Metric

__all__ = ["Position", "Run", "zero_sums"]


@dataclass
class Position:
    """Where the run stands, as a checkpoint records it: the epoch in progress, the steps
    done in it, the Generator's state when it started (None when no callback could save a
    checkpoint: nobody reads it), its partial sums."""

    epoch: int
    step: int
    rng_state: dict[str, Any] | None
    sums: dict[str, float]


@dataclass
class Run:
    """Everything one ``fit`` call works with (``loop._prepare`` and ``_choose_step`` fill it).
    (Built with positional arguments, each named as the field it fills, which a test checks:
    a class called with keywords packs them into a dict, ~6 k instructions more a call.)"""

    model: Module
    loss: Loss
    optimizer: Any
    X: np.ndarray
    y: np.ndarray
    l2: L2Penalty | None
    n_val: int  # rows still to split off for validation (validation_fraction)
    validation_data: tuple[np.ndarray, np.ndarray] | None
    epochs: int
    batch_size: int
    shuffle: bool
    drop_last: bool
    rng: np.random.Generator
    metric_fns: dict[str, Metric]
    outputs_shape: tuple[int, ...]
    resume_from: str | Path | None
    target: Any  # y in the loss's own form (``inputs.prepare_target_and_form``)
    history: History = field(default_factory=History)
    # set by the loop's steps (until then the class's None, not set by __init__: a call
    # pays for no assignment it does not need)
    resume: TrainingState | None = field(default=None, init=False)  # read from resume_from
    callbacks: Sequence[Callback] = field(default=(), init=False)
    ctx: Any = field(default=None, init=False)  # the TrainingContext the callbacks see
    step: Any = field(default=None, init=False)  # the Step
    guard: Any = field(default=None, init=False)  # the DivergenceGuard
    replay: bool = field(default=False, init=False)
    quiet: bool = field(default=False, init=False)  # nothing acts between steps (``_train_steps``)
    at: Any = field(default=None, init=False)  # the Position
    interrupted: Any = field(default=None, init=False)  # Ctrl-C's flag, {"set": bool}
    hint: Any = field(default=None, init=False)  # ``steps.look_up``'s, for ``steps.step_for``

    @property
    def rows(self) -> int:
        """The training rows (after the validation split)."""
        rows: int = self.X.shape[0] - self.n_val
        return rows

    def rng_state(self) -> dict[str, Any] | None:
        """The Generator's state now, for a checkpoint of the epoch that starts here; None
        without callbacks, the only ones who can save a checkpoint (``ctx.save_checkpoint``)."""
        return dict(self.rng.bit_generator.state) if self.callbacks else None

    def save_checkpoint(self, target: str | Path) -> Path:
        """A checkpoint of the run where it stands (``ModelCheckpoint`` calls it through the
        callbacks' context); its path."""
        assert self.at.rng_state is not None  # (there is a callback: it was recorded)
        return save_checkpoint(
            target,
            self.model,
            self.optimizer,
            rng_state=self.at.rng_state,
            epoch=self.at.epoch,
            step=self.at.step,
            progress={
                "loop": self.loop,
                "sums": self.at.sums,
            },  # (read back as floats; null is NaN)
            history=self.history.as_dict(),
            callbacks=[callback_state(cb) for cb in self.callbacks],
        )

    @property
    def loop(self) -> dict[str, int | bool]:
        """The loop's shape, as a checkpoint records it."""
        return {
            "rows": self.rows,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }


def zero_sums(metric_fns: dict[str, Metric]) -> dict[str, float]:
    """The partial sums of an epoch before its first step."""
    return {"loss": 0.0, "seen": 0, **dict.fromkeys(metric_fns, 0.0)}
