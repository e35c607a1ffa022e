"""Every choice ``handgrad train`` makes (``TrainConfig``), checked before any work starts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..nn.constraints import Constraint, Integer, Options, Real, problem
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


# what each option of ``handgrad train`` may be: the command line's types and
# ``TrainConfig.validate`` read these same constraints
WIDTH = Integer(1)
LEARNING_RATE = Real(0.0, MAX_LEARNING_RATE, low_open=True)
MOMENTUM = Real(0.0, 1.0, high_open=True)
TEST_FRACTION = Real(0.0, 1.0, low_open=True, high_open=True)
VAL_FRACTION = Real(0.0, 1.0, high_open=True)
PATIENCE = Integer(1)
ACTIVATION_NAMES = tuple(a for a in ACTIVATIONS if a != "identity")
CONSTRAINTS: dict[str, tuple[str, Constraint]] = {
    "activation": ("--activation", Options(*ACTIVATION_NAMES)),
    "optimizer": ("--optimizer", Options(*OPTIMIZERS)),
    "lr": ("--lr", LEARNING_RATE),
    "momentum": ("--momentum", MOMENTUM),
    "epochs": ("--epochs", Integer(1)),
    "batch_size": ("--batch-size", Integer(1)),
    "l2": ("--l2", Real(0.0)),
    "seed": ("--seed", Integer(0)),
    "test_fraction": ("--test-fraction", TEST_FRACTION),
    "val_fraction": ("--val-fraction", VAL_FRACTION),
    "patience": ("--patience", PATIENCE),
    "task": ("--task", Options("classification", "regression")),
    "impute": ("--impute", Options("median", "mean")),
    "rare_min": ("--rare", Integer(1)),
}
OPTIONAL = ("lr", "patience", "task")  # None means: the default, none, or inferred


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

    def _problems(self) -> Iterator[str]:
        hidden = tuple(self.hidden)
        widths = [problem(h, WIDTH, "each --hidden size") for h in hidden]
        if any(widths):
            yield next(w for w in widths if w)
        elif count_parameters([1, *hidden, 1]) > MAX_PARAMETERS:
            n = count_parameters([1, *hidden, 1])
            yield (
                f"--hidden {','.join(map(str, hidden))} makes a network of at least {n:,} "
                f"parameters ({n * 8 / 1e9:.3g} GB of float64 weights); the limit is "
                f"{MAX_PARAMETERS:,}"
            )
        for field, (option, constraint) in CONSTRAINTS.items():
            value = getattr(self, field)
            message = (
                None if value is None and field in OPTIONAL else problem(value, constraint, option)
            )
            if message:
                yield message
        if self.momentum and self.optimizer != "sgd" and not problem(self.momentum, MOMENTUM, ""):
            yield "--momentum applies to --optimizer sgd only"
        yield from self._split_problems()

    def _split_problems(self) -> Iterator[str]:
        test_ok = not problem(self.test_fraction, TEST_FRACTION, "")
        val_ok = not problem(self.val_fraction, VAL_FRACTION, "")
        if test_ok and val_ok and self.val_fraction + self.test_fraction >= 1.0:
            yield (
                f"--val-fraction {self.val_fraction} + --test-fraction {self.test_fraction} "
                "leave no rows for training"
            )
        patience_ok = self.patience is not None and not problem(self.patience, PATIENCE, "")
        if patience_ok and val_ok and self.val_fraction == 0:
            yield "--patience needs a validation split (--val-fraction > 0)"

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else OPTIMIZERS[self.optimizer].lr
