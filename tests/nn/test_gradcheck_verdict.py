"""gradcheck's verdict on a broad set of trained models: PASSED on every correct one, FAILED on
every wrong backward injected at the same trained weights.

The set (tests/nn/gradcheck_zoo.py): ReLU, LeakyReLU, tanh and sigmoid networks; BCE, softmax
cross-entropy and MSE; float64 and float32 (checked on a float64 copy); two or five hidden
layers; inputs at scales 0.1, 1 and 10; checked at initialization and after tens, hundreds
and thousands of Adam steps. The wrong backwards: a weight gradient 1 % too large, the sign
of one output-bias entry flipped, a square weight gradient transposed, an activation's derivative
left out, a bias gradient taken from one sample or averaged instead of summed.

The fast test trains one model per activation for 300 steps (every injection FAILS in each);
the slow one takes four cells of the grid to 3000 steps, chosen so that with the fast test
every activation meets two losses and every loss both dtypes. The whole grid (24 cells x 3
shapes, ~140 CPU s) is `make attack-grid` (tests/nn/gradcheck_zoo.py ``attack``).
"""

from __future__ import annotations

import importlib.util
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
ACTIVATIONS, INJECTIONS, LOSSES, SHAPES, Setting, trajectory = (
    zoo.ACTIVATIONS, zoo.INJECTIONS, zoo.LOSSES, zoo.SHAPES, zoo.Setting, zoo.trajectory
)  # fmt: skip
# the slow test's cells: with the fast test's (relu-bce-float64, leaky_relu-softmax_ce-float32,
# tanh-mse-float64, sigmoid-bce-float32) every loss meets both dtypes
SAMPLE = (("relu", "softmax_ce", "float64"), ("leaky_relu", "mse", "float32"),
          ("tanh", "bce", "float32"), ("sigmoid", "mse", "float32"))  # fmt: skip


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
@pytest.mark.parametrize("activation,loss,dtype", SAMPLE)
def test_a_sample_of_the_grid_to_thousands_of_steps(activation, loss, dtype):
    """Four cells of the grid, two depths and three input scales, to 3000 steps."""
    problems = []
    for k in range(len(SHAPES)):
        problems += _check_trajectory(*zoo.cell(activation, loss, dtype, k))
    assert problems == [], "\n\n".join(problems)


def test_the_sample_and_the_fast_test_meet_every_loss_in_both_dtypes():
    fast = {(LOSSES[i % 3], ("float64", "float32")[i % 2]) for i in range(len(ACTIVATIONS))}
    assert fast | {(loss, dtype) for _, loss, dtype in SAMPLE} == {
        (loss, dtype) for loss in LOSSES for dtype in zoo.DTYPES
    }
    assert {a for a, _, _ in SAMPLE} == set(ACTIVATIONS)
