"""The optimizers by name: the one table every front end reads.

    name      class     default lr   estimators' solver=
    sgd       SGD       0.05         "sgd"
    adam      Adam      0.003        "adam"
    rmsprop   RMSProp   0.003        "rmsprop"

``handgrad train``, its config files and sweeps take these names and, when no rate is given,
the default rate (chosen for standardized tabular inputs). The estimators take the same
names as ``solver=``, besides "lbfgs" (not a step rule), and keep scikit-learn's single
``learning_rate_init``; the playground offers them with one rate for all, plus "momentum"
(SGD with momentum).
"""

from __future__ import annotations

from dataclasses import dataclass

from .optim import SGD, Adam, Optimizer, RMSProp

__all__ = ["OptimizerEntry", "OPTIMIZERS", "default_learning_rates"]


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer: its class, its default learning rate, the estimators' spelling."""

    cls: type[Optimizer]
    lr: float
    solver: str


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry(SGD, 0.05, "sgd"),
    "adam": OptimizerEntry(Adam, 0.003, "adam"),
    "rmsprop": OptimizerEntry(RMSProp, 0.003, "rmsprop"),
}


def default_learning_rates() -> str:
    """The defaults as help text shows them: "sgd 0.05, adam 0.003, rmsprop 0.003"."""
    return ", ".join(f"{name} {entry.lr:g}" for name, entry in OPTIMIZERS.items())
