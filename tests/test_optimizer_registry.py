"""The optimizer registry is the one table the front ends read."""

from __future__ import annotations

import numpy as np
import pytest

from handgrad.estimators._params import SOLVERS, STOCHASTIC
from handgrad.nn.layers import Parameter
from handgrad.nn.optim import Optimizer
from handgrad.nn.registry import OPTIMIZERS, default_learning_rates
from handgrad.playground.network import OPTIMIZERS as PLAYGROUND_OPTIMIZERS
from handgrad.tabular import TrainConfig


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_entry_builds_its_optimizer_at_its_default_rate(name):
    entry = OPTIMIZERS[name]
    opt = entry.cls([Parameter(np.zeros(3))], lr=entry.lr)
    assert isinstance(opt, Optimizer)
    assert opt.lr == entry.lr


def test_the_front_ends_offer_exactly_the_registry():
    assert STOCHASTIC == tuple(e.solver for e in OPTIMIZERS.values()) == ("sgd", "adam", "rmsprop")
    assert SOLVERS == ("lbfgs", "sgd", "adam", "rmsprop")
    assert set(PLAYGROUND_OPTIMIZERS) == {*OPTIMIZERS, "momentum"}
    assert [TrainConfig(optimizer=n).learning_rate for n in OPTIMIZERS] == [0.05, 0.003, 0.003]
    assert default_learning_rates() == "sgd 0.05, adam 0.003, rmsprop 0.003"
