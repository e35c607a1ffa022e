"""gradcheck's verdict on a broad set of trained models: PASSED on every correct one, FAILED on
every wrong backward injected at the same trained weights.

The set (tests/nn/gradcheck_zoo.py): ReLU, LeakyReLU, tanh and sigmoid networks; BCE, softmax
cross-entropy and MSE; float64 and float32 (checked on a float64 copy); two or five hidden
layers; inputs at scales 0.1, 1 and 10; checked at initialization and after tens, hundreds
and thousands of Adam steps. The wrong backwards: a weight gradient 1 % too large, the sign
of one output-bias entry flipped, a square weight gradient transposed, an activation's derivative
left out, a bias gradient taken from one sample or averaged instead of summed.

The fast test trains one model per activation for 300 steps; the slow one covers the whole
grid to 3000 steps.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg

_spec = importlib.util.spec_from_file_location(
    "gradcheck_zoo", Path(__file__).with_name("gradcheck_zoo.py")
)
zoo = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_zoo"] = zoo  # dataclasses look their module up
_spec.loader.exec_module(zoo)
ACTIVATIONS, INJECTIONS, LOSSES, Setting, trajectory = (
    zoo.ACTIVATIONS, zoo.INJECTIONS, zoo.LOSSES, zoo.Setting, zoo.trajectory
)  # fmt: skip

SHAPES = ((2, 1.0), (5, 0.1), (2, 10.0))  # (hidden layers, input scale)


def _check_trajectory(setting: Setting, checkpoints: tuple[int, ...]) -> list[str]:
    """Every problem found along the training: a correct model FAILED, or a wrong one PASSED."""
    problems = []
    for step, model, loss, X, y in trajectory(setting, checkpoints):
        before = [p.value.copy() for p in model.parameters()]
        report = hg.gradcheck(model, loss, X, y)
        if not report.passed:
            problems.append(f"{setting} step {step}: correct model FAILED\n{report.table()}")
        if setting.dtype == "float32":
            assert "float64 copy" in report.summary()
            assert all(np.array_equal(b, p.value) for b, p in zip(before, model.parameters()))
        if step != checkpoints[-1]:
            continue
        for name, inject in INJECTIONS.items():
            wrong = hg.gradcheck(inject(model), loss, X, y)
            if wrong.passed:
                problems.append(f"{setting} step {step}: {name} PASSED\n{wrong.table()}")
            elif not wrong.explanation().startswith("The analytic gradient of "):
                problems.append(f"{setting}: no explanation for {name}")
    return problems


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_correct_models_pass_and_wrong_backwards_fail(activation):
    """One model per activation, losses and dtypes rotating: at init, 30 and 300 steps."""
    i = ACTIVATIONS.index(activation)
    setting = Setting(activation, LOSSES[i % 3], ("float64", "float32")[i % 2], 2, 1.0, seed=i)
    assert _check_trajectory(setting, (0, 30, 300)) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "activation,loss,dtype",
    list(itertools.product(ACTIVATIONS, LOSSES, ("float64", "float32"))),
)
def test_the_whole_grid_to_thousands_of_steps(activation, loss, dtype):
    """Every activation x loss x dtype, two depths and three input scales, to 3000 steps."""
    problems = []
    for k, (depth, scale) in enumerate(SHAPES):
        setting = Setting(activation, loss, dtype, depth, scale, seed=k)
        checkpoints = (0, 30, 300, 3000) if k == 0 else (0, 3000)
        problems += _check_trajectory(setting, checkpoints)
    assert problems == [], "\n\n".join(problems)
