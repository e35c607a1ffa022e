"""The callable form's known limit: a unit collapsed onto its kink (every row's input so close
to it that every step able to judge its tiny gradients crosses it), as strong L2 leaves a
unit after thousands of Adam steps.

Backward's value for such a unit's bias is the sum over the rows on the positive side, a
right derivative at θ (the loss is smooth within 1e-12 of θ), yet no float64 evaluation of
the loss can show it: across that neighbourhood the loss moves by 1e-18, below its ulp, and
from every step gradcheck can take the rows sit on one side together, so the one-sided
slopes it measures are the sums over all rows. With residuals summing to 0 both slopes are
0 while backward's value is 1e-6: from the loss alone that is exactly what a wrong backward
on a flat loss looks like, so the callable form FAILS it. The module form PASSES it,
because its probe sees the built-in unit cross its kink at every step. Wider:
``PYTHONPATH=src python tests/nn/gradcheck_callable.py 0 500`` (docs/gradcheck.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg

X = np.array([[1.0], [-1.0], [2.0], [-2.0]])
RESIDUALS = np.array([[1.0], [-1.0], [1.0], [-1.0]])  # summing to 0 over the rows
W2 = 1e-6


def collapsed() -> tuple[hg.Sequential, hg.MSELoss, np.ndarray]:
    """1-1-1 leaky ReLU net whose hidden inputs are ±1e-12 and ±2e-12, and its targets."""
    model = hg.Sequential(hg.Linear(1, 1), hg.LeakyReLU(), hg.Linear(1, 1))
    model[0].weight.value[...] = 1e-12
    model[0].bias.value[...] = 0.0
    model[2].weight.value[...] = W2
    model[2].bias.value[...] = 0.5
    y = model.forward(X) - RESIDUALS
    return model, hg.MSELoss(), y


def test_a_unit_collapsed_onto_its_kink_is_right_yet_only_the_module_form_can_tell():
    model, loss, y = collapsed()
    params = [p.value for p in model.parameters()]

    def f() -> float:
        return loss.forward(model.forward(X), y)

    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    grads = [p.grad.copy() for p in model.parameters()]
    alpha = model[1].negative_slope
    # backward's bias gradient: 2/N w2 (r0 + r2 + alpha (r1 + r3)), rows 0 and 2 positive
    expected = 2 / 4 * W2 * (2.0 - 2.0 * alpha)
    np.testing.assert_allclose(grads[1], [expected], rtol=1e-12)

    bias, base = params[1], f()
    for t in np.linspace(-2e-12, 2e-12, 9):  # where backward's value is the derivative ...
        bias[0] = t
        assert f() == base  # ... the loss takes one float64 value: its slope there is unseen
    bias[0] = 0.0
    for h in (1e-1, 1e-3, 1e-7):  # every step moves all rows to one side together
        for t in (h, -h):
            bias[0] = t
            slope = (f() - base) / t
            bias[0] = 0.0
            assert abs(slope) < 1e-2 * expected, (h, t, slope)
    assert hg.gradcheck(model, loss, X, y).passed
    assert hg.gradcheck(model, loss, X, y).kinks > 0
    report = hg.gradcheck(f, params, grads)
    assert not report.passed and report.rows[1].failed == 1, report.table()


def _harness():
    path = Path(__file__).with_name("gradcheck_callable.py")
    spec = importlib.util.spec_from_file_location("gradcheck_callable", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_callable_harness_counts_a_collapsed_unit_apart_and_catches_the_wrong_ones():
    """Seed 92: a ReLU unit decayed onto its kink FAILS in the callable form, and PASSES once
    its entries are left out; its five wrong backwards FAIL. Seed 1: a plain case."""
    harness = _harness()
    counts = dict.fromkeys(
        ("correct", "false FAIL", "collapsed unit", "wrong", "invisible", "miss", "diverged"), 0
    )
    for seed in (1, 92):
        harness.judge(harness.draw(seed), counts)
    assert counts["correct"] == 2 and counts["false FAIL"] == 0, counts
    assert counts["collapsed unit"] == 1 and counts["miss"] == 0, counts
    assert counts["wrong"] >= 5, counts


@pytest.mark.parametrize(("jump", "distance"), [(1e-10, 1e-4), (1e-10, 1e-5), (3e-10, 1e-4)])
def test_a_kink_within_reach_that_only_larger_steps_show_is_a_kink(jump, distance):
    """f = 1 + jump max(x0 - distance, 0) + x1²/2: a kink 1e-5 to 1e-4 from θ whose jump in
    slope is below what the slopes at h = 1e-3 resolve (their rounding, ~1.4e-10 on a loss
    of 1) yet biases the central estimate past its tolerance: a right 0 FAILED (1.3 to 2.9
    times). The slopes at 10 h or 100 h show it: a value between them PASSES as a kink, one
    outside by half the jump, or 1e-9, FAILS, and so does a wrong entry away from it."""
    x = np.array([0.0, 0.3])

    def f() -> float:
        return 1.0 + jump * max(x[0] - distance, 0.0) + 0.5 * x[1] ** 2

    for right in (0.0, jump):  # the slope on θ's side; the other side's, within the jump
        report = hg.gradcheck(f, [x], [np.array([right, 0.3])])
        assert report.passed and report.kinks == 1, report.table()
    for wrong in (-0.5 * jump, 1.5 * jump, 1e-9):
        assert not hg.gradcheck(f, [x], [np.array([wrong, 0.3])]).passed, wrong
    assert not hg.gradcheck(f, [x], [np.array([0.0, 0.3 + 1e-5])]).passed  # rtol 1e-6: 3e-7


def test_a_loss_that_refuses_parameters_far_from_theta_still_gets_its_verdict():
    """The larger steps reach 0.3 from θ: a loss that raises there shows no kink at that
    step, and the verdict stands on the others: no error escapes."""
    x = np.array([0.0])

    def f() -> float:
        if abs(x[0]) > 0.05:
            raise ValueError("outside the domain")
        return 1.0 + 1e-10 * max(x[0] - 1e-4, 0.0)

    assert hg.gradcheck(f, [x], [np.array([0.0])]).passed  # the kink shows at 10 h
    assert not hg.gradcheck(f, [x], [np.array([1e-9])]).passed
