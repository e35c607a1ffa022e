"""How many trainings go into one Dask task: several when each is shorter than a task's cost.

A task costs about the same whatever it runs: the scheduler's round trip, the result's trip
back, the client writing its record (5-12 ms per task on a loaded 2-core machine:
``benchmarks/sweep_speedup.py`` states it). A training of a few milliseconds (a small network,
a few epochs) would then spend more time on the task than on itself, so short trainings
travel together: one task trains a *batch* of them one after another and returns each one's
result, and the client writes each record on its own.

The plan is made as the sweep goes:

- each trial's relative cost is estimated from its settings (``estimated_cost``: epochs x
  (rows x parameters + steps x a step's fixed cost) + a training's fixed cost);
- the first tasks hold one training each; their seconds give the seconds per unit of cost
  (the lower quartile of the recent trainings': a worker's first training also imports
  what training needs, and other jobs' load only ever makes a training slower);
- later tasks take trainings until their estimated seconds reach ``TASK_SECONDS`` (a
  training that long alone goes alone), at most ``MAX_PER_TASK``, and never so many that
  fewer than ``TASKS_LEFT_PER_SLOT`` tasks per worker thread remain (the last tasks stay
  small, so the workers finish together);
- the costliest trainings go first, so the sweep does not end waiting for one long training.

Batching changes which process runs a training and when, never what it computes: the
records are the same bits with any batch sizes (the tests check it).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable

from ._pipeline import TrainConfig
from .grid import Trial

__all__ = ["Batcher", "estimated_cost"]

TASK_SECONDS = 0.25  # a batch's target length: ~25x a task's overhead keeps it near 4 %
MAX_PER_TASK = 32  # trainings in one task, at most (the task's key names them all)
TASKS_LEFT_PER_SLOT = 3  # batches shrink near the end: no worker waits on a long last task
STEP_COST = 30_000  # a step's fixed cost, in row x parameter multiply-adds (rough)
TRAINING_COST = 3_000_000  # a training's fixed cost (split, scaling, metrics), the same unit
RECENT = 64  # the seconds-per-cost estimate: the lower quartile of the last RECENT trainings


def estimated_cost(config: dict, rows: int, features: int) -> float:
    """A training's relative cost, in multiply-adds: what matters is how trainings compare.

    config: TrainConfig keyword arguments (settings left out take TrainConfig's defaults);
    rows, features: the data's shape. The output layer is counted as one unit wide.
    """
    defaults = TrainConfig()
    hidden = tuple(config.get("hidden", defaults.hidden))
    epochs = config.get("epochs", defaults.epochs)
    batch_size = config.get("batch_size", defaults.batch_size)
    widths = (features, *hidden, 1)
    parameters = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    steps = math.ceil(rows / batch_size)
    return epochs * (rows * parameters + steps * STEP_COST) + TRAINING_COST


def lower_quartile(values: Iterable[float]) -> float:
    """The first quartile (the value itself for one value)."""
    values = list(values)
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=4)[0]


class Batcher:
    """The trials not yet submitted, handed out in batches (see the module docstring).

    slots: the cluster's worker threads. per_task: a fixed batch size instead of the
    adaptive one (1: one training per task).
    """

    def __init__(
        self,
        trials: Iterable[Trial],
        rows: int,
        features: int,
        slots: int,
        per_task: int | None = None,
    ):
        if per_task is not None and per_task < 1:
            raise ValueError(f"per_task must be an integer >= 1 (got {per_task})")
        self.cost = {t.key: estimated_cost(t.config, rows, features) for t in trials}
        costliest_first = sorted(trials, key=lambda t: -self.cost[t.key])  # stable: grid order
        self.waiting: deque[Trial] = deque(costliest_first)
        self.slots = max(slots, 1)
        self.per_task = per_task
        self.seconds_per_cost: deque[float] = deque(maxlen=RECENT)

    def __len__(self) -> int:
        return len(self.waiting)

    def learn(self, trial: Trial, seconds: float | None) -> None:
        """A finished training's seconds (None or not positive: it failed early; ignored)."""
        if seconds is not None and seconds > 0:
            self.seconds_per_cost.append(seconds / self.cost[trial.key])

    def next_batch(self) -> list[Trial]:
        """The next task's trials, costliest first; [] when every trial has been handed out."""
        if not self.waiting:
            return []
        if self.per_task is not None:
            size = self.per_task
        else:
            size = self._adaptive_size()
        return [self.waiting.popleft() for _ in range(min(size, len(self.waiting)))]

    def _adaptive_size(self) -> int:
        if not self.seconds_per_cost:
            return 1  # nothing measured yet
        cap = min(MAX_PER_TASK, math.ceil(len(self.waiting) / (TASKS_LEFT_PER_SLOT * self.slots)))
        rate = lower_quartile(self.seconds_per_cost)  # seconds per unit of cost
        size, seconds = 0, 0.0
        for trial in self.waiting:
            if size >= cap or seconds >= TASK_SECONDS:
                break
            seconds += rate * self.cost[trial.key]
            size += 1
        return max(size, 1)
