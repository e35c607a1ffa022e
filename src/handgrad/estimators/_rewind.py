"""The minibatch loop's divergence guard: undo the last update, cheaply.

When a step's loss is not finite (or an epoch ends with a weight NaN or inf), the model
goes back to the weights before the last update: the last weights whose loss was finite.
An update cannot be undone in floating point (W - lr g + lr g is not always W), and
copying every weight before every update costs a pass over the weights per step (0.4-0.9 %
of a fit on digits, 2.5-3.5 % on a wide sparse table). So, as ``handgrad.train.guard``
does for ``fit``: a snapshot of the weights and the optimizer's state every
``STEPS_PER_SNAPSHOT`` updates, and the list of the batches (with the learning rate each
used) trained since. Undoing restores the snapshot and trains those batches again but the
last: the same computations on the same values give the same bits. Per step this costs one
list append (and a weight check when a snapshot is due: weights an update made NaN or inf
are never recorded, the older snapshot stays); the replay is paid only when training
diverges, with a weight check after each replayed update, so an earlier update that made a
weight NaN or inf (hidden from the loss by a ReLU) is found and undone too: the weights kept
are finite whenever the call began with finite weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn._checks import all_finite

# Updates between two snapshots. A snapshot copies the weights and the optimizer's arrays
# (Adam: three times the weights): every 32 updates it costs about a tenth of the old copy
# per update; a divergence replays at most 31 updates.
STEPS_PER_SNAPSHOT = 32


class Rewind:
    """Snapshots of (weights, optimizer state) and the updates since the last one.

    ``solver`` is a ``_solvers.StochasticSolver``; ``gradient(idx)`` computes the gradients
    of the batch ``idx`` into the parameters' ``.grad`` (the loop's own computation)."""

    def __init__(self, params: list[Any], solver: Any, gradient: Callable[[Any], Any]):
        self.params, self.solver, self.gradient = params, solver, gradient
        self.saved: list[np.ndarray] | None = None  # copies of self._arrays()
        self.scalars: dict[str, Any] = {}
        self.since: list[tuple[Any, float]] = []  # (batch, learning rate) per update since

    def _arrays(self) -> list[np.ndarray]:
        """The arrays a step writes: the weights, then the optimizer's state arrays."""
        state = [a for s in self.solver.optimizer.state for a in s.values()]
        return [p.value for p in self.params] + state

    def before_update(self, idx: Any) -> None:
        """Called with the batch whose update is about to be applied (its loss was finite)."""
        if self.saved is None or (len(self.since) >= STEPS_PER_SNAPSHOT and self._finite()):
            self._take()  # (weights made NaN or inf by an update: the older snapshot stays)
        self.since.append((idx, self.solver.learning_rate))

    def _finite(self) -> bool:
        return all(all_finite(p.value) for p in self.params)

    def _take(self) -> None:
        arrays = self._arrays()
        if self.saved is None:
            self.saved = [a.copy() for a in arrays]
        else:
            for keep, a in zip(self.saved, arrays):
                np.copyto(keep, a)
        optimizer = self.solver.optimizer
        self.scalars = {k: v for k, v in vars(optimizer).items() if k not in ("params", "state")}
        self.scalars["learning_rate (solver)"] = self.solver.learning_rate
        self.since = []

    def _restore(self) -> None:
        assert self.saved is not None
        for a, keep in zip(self._arrays(), self.saved):
            np.copyto(a, keep)
        scalars = dict(self.scalars)
        self.solver.learning_rate = scalars.pop("learning_rate (solver)")
        _restore(self.solver.optimizer, scalars)

    def undo_last_update(self) -> None:
        """Back to the weights (and optimizer state) before the last update; earlier still
        if the replay finds an update that made a weight NaN or inf. Nothing to undo when no
        update has been applied (the weights are those this call began with)."""
        if not self.since:
            return
        again, (_, last_lr) = self.since[:-1], self.since[-1]
        self._restore()
        self.since = []
        optimizer = self.solver.optimizer
        for idx, lr in [*again, (None, last_lr)]:
            if lr != self.solver.learning_rate:  # a schedule changed it between epochs
                self.solver.set_learning_rate(lr)
            if idx is None:  # (the state the undone update began from, its rate included)
                break
            self.gradient(idx)
            before = [a.copy() for a in self._arrays()], dict(vars(optimizer))
            optimizer.step()
            if not self._finite():
                for a, keep in zip(self._arrays(), before[0]):
                    np.copyto(a, keep)
                _restore(optimizer, before[1])
                break
        self.saved = None  # (the state no longer matches: a later update takes a new one)


def _restore(optimizer, scalars: dict) -> None:
    """Set the optimizer's saved attributes back through ``setattr`` (rare: on divergence),
    so the engine's change count sees them as any other setting would."""
    for name, value in scalars.items():
        setattr(optimizer, name, value)
