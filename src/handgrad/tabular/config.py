"""Every choice ``handgrad train`` makes (``TrainConfig``), checked before any work starts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from ..nn.layers import ACTIVATIONS, count_parameters
from ..nn.registry import OPTIMIZERS

__all__ = [
    "ConfigError",
    "TrainConfig",
    "OPTIMIZERS",
    "MAX_PARAMETERS",
    "DEFAULT_PATIENCE",
]

# ``handgrad train`` turns early stopping on with this patience when there is a validation part
DEFAULT_PATIENCE = 20

# A bigger network is refused before any array is allocated: 20 million float64
# parameters are 160 MB for the weights alone, and several times that while training.
MAX_PARAMETERS = 20_000_000

# Learning rates above this cannot train anything on standardized inputs; refusing them
# early gives a clearer message than a run that diverges at its first step.
MAX_LEARNING_RATE = 1e3


class ConfigError(ValueError):
    """An impossible training configuration (bad fraction, unknown optimizer, ...)."""


@dataclass
class TrainConfig:
    """Every choice ``handgrad train`` makes; ``lr=None`` means the optimizer's default.

    Preprocessing: numeric columns get missing values filled with the training ``impute``
    statistic (median or mean), optionally with a 0/1 "was missing" column
    (``missing_indicator``); categories seen in fewer than ``rare_min`` training rows share
    one "(rare)" column; ``drop_missing`` drops every row with a missing feature instead.
    """

    hidden: tuple[int, ...] = (64, 32)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.0
    epochs: int = 100
    batch_size: int = 32
    l2: float = 0.0
    patience: int | None = None
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    task: str | None = None
    impute: str = "median"
    missing_indicator: bool = False
    rare_min: int = 5
    drop_missing: bool = False

    def validate(self) -> None:
        """Raise ConfigError naming every impossible value (all of them, in one message)."""
        problems = list(self._problems())
        if problems:
            raise ConfigError("; ".join(problems))

    def _problems(self):
        hidden = tuple(self.hidden)
        if not all(isinstance(h, Integral) and h >= 1 for h in hidden):
            yield f"--hidden sizes must be positive integers, got {hidden}"
        elif count_parameters([1, *hidden, 1]) > MAX_PARAMETERS:
            n = count_parameters([1, *hidden, 1])
            yield (
                f"--hidden {','.join(map(str, hidden))} makes a network of at least {n:,} "
                f"parameters ({n * 8 / 1e9:.3g} GB of float64 weights); the limit is "
                f"{MAX_PARAMETERS:,}"
            )
        if self.activation not in ACTIVATIONS or self.activation == "identity":
            names = ", ".join(a for a in ACTIVATIONS if a != "identity")
            yield f"unknown activation {self.activation!r}; choose from {names}"
        if self.optimizer not in OPTIMIZERS:
            yield f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"
        if self.lr is not None and not (_finite(self.lr) and 0 < self.lr <= MAX_LEARNING_RATE):
            yield f"--lr must be a number in (0, {MAX_LEARNING_RATE:g}], got {self.lr}"
        if not (_finite(self.momentum) and 0.0 <= self.momentum < 1.0):
            yield f"--momentum must be in [0, 1), got {self.momentum}"
        elif self.momentum and self.optimizer != "sgd":
            yield "--momentum applies to --optimizer sgd only"
        if not _int_at_least(self.epochs, 1):
            yield f"--epochs must be an integer >= 1, got {self.epochs}"
        if not _int_at_least(self.batch_size, 1):
            yield f"--batch-size must be an integer >= 1, got {self.batch_size}"
        if not (_finite(self.l2) and self.l2 >= 0):
            yield f"--l2 must be a number >= 0, got {self.l2}"
        if not _int_at_least(self.seed, 0):
            yield f"--seed must be an integer >= 0, got {self.seed}"
        yield from self._split_problems()
        if self.task not in (None, "classification", "regression"):
            yield f"--task must be classification or regression, got {self.task!r}"
        if self.impute not in ("median", "mean"):
            yield f"--impute must be median or mean, got {self.impute!r}"
        if not _int_at_least(self.rare_min, 1):
            yield f"--rare must be an integer >= 1, got {self.rare_min}"

    def _split_problems(self):
        test_ok = _finite(self.test_fraction) and 0.0 < self.test_fraction < 1.0
        val_ok = _finite(self.val_fraction) and 0.0 <= self.val_fraction < 1.0
        if not test_ok:
            yield f"--test-fraction must be in (0, 1), got {self.test_fraction}"
        if not val_ok:
            yield f"--val-fraction must be in [0, 1), got {self.val_fraction}"
        if test_ok and val_ok and self.val_fraction + self.test_fraction >= 1.0:
            yield (
                f"--val-fraction {self.val_fraction} + --test-fraction {self.test_fraction} "
                "leave no rows for training"
            )
        if self.patience is not None:
            if not _int_at_least(self.patience, 1):
                yield f"--patience must be an integer >= 1, got {self.patience}"
            elif val_ok and self.val_fraction == 0:
                yield "--patience needs a validation split (--val-fraction > 0)"

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else OPTIMIZERS[self.optimizer].lr


def _finite(x) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x)


def _int_at_least(x, minimum: int) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool) and int(x) >= minimum
