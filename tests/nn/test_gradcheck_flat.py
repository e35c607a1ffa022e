"""A loss that is exactly 0 around θ: a correct network late in training PASSES, a wrong one
FAILS where the loss can show it.

A learner's cross-entropy through probabilities, -log softmax, at logits ~80 apart: p
rounds to 1 and the loss is exactly 0 at every point of every step, while backward returns
e^-80 ~ 1e-35. Before, the finite differences were 0 with an allowed error of 0, and a
correct network FAILED ("infinitely the allowed error"). Now such an entry is allowed the
rounding of the loss at its own scale (its size where it is not saturated, from the loss
at moved predictions, or f at moved parameters), and a backward off by more than that
still FAILS.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg

# a learner's -log softmax (its one copy: the late-training harness's)
_spec = importlib.util.spec_from_file_location(
    "gradcheck_late", Path(__file__).with_name("gradcheck_late.py")
)
_late = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_late"] = _late  # dataclasses look their module up
_spec.loader.exec_module(_late)
NaiveCrossEntropy = _late.NaiveCrossEntropy


def saturated(n, classes, margin, seed):
    """A trained-looking ReLU net whose logits are ``margin`` apart for every sample: the
    output layer's weights zero, its bias one class at +margin/2, the others at -margin/2."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    model = hg.mlp([3, 5, classes], "relu", seed=seed)
    model[2].weight.value[...] = 0.0
    model[2].bias.value[...] = -margin / 2
    model[2].bias.value[seed % classes] = margin / 2
    return model, X, np.full(n, seed % classes)


def quantized(n, margin, seed):
    """``saturated`` with output weights ~N(0, 0.3²): each sample at its own margin near
    ``margin``, so -log p moves in quanta of ~1e-16 (p = 1 - k 2^-53) while backward
    gives ~1e-16 x: the loss repeats values and jumps by a quantum."""
    model, X, y = saturated(n, 2, margin, seed)
    shape = model[2].weight.value.shape
    model[2].weight.value[...] = np.random.default_rng(1).normal(size=shape) * 0.3
    return model, X, y


@pytest.mark.parametrize("margin", [35.75, 36.25, 36.5, 37.0, 38.0])
@pytest.mark.parametrize(("n", "reduction"), [(1, "mean"), (16, "sum"), (16, "mean")])
def test_a_loss_moving_in_quanta_above_its_ulp_passes_a_correct_backward(margin, n, reduction):
    """Before: 36 of 108 such networks (margins 33 to 42 in steps of 1/4) FAILED at up to
    1.5e11 times the tolerance, which took a loss of 2e-16 to be known to its own ulp;
    the right backward PASSES, p instead of p - onehot FAILS."""
    model, X, y = quantized(n, margin, int(margin * 4) % 7)
    assert hg.gradcheck(model, NaiveCrossEntropy(reduction), X, y).passed
    assert not hg.gradcheck(model, NaiveCrossEntropy(reduction, "no-minus-one"), X, y).passed


GRID = [
    (n, classes, margin, reduction, seed)
    for n, classes, margin, reduction, seed in [
        (1, 2, 80.0, "mean", 0),
        (2, 2, 80.0, "sum", 1),
        (16, 2, 80.0, "mean", 2),
        (16, 3, 80.0, "sum", 3),
        (64, 3, 100.0, "mean", 4),
        (5, 4, 200.0, "mean", 5),
        (16, 2, 60.0, "sum", 6),
        (7, 3, 45.0, "mean", 7),
        (16, 2, 38.0, "mean", 8),  # exactly 0 too: e^-38 = 3e-17 < ulp(1)/2
        (16, 2, 30.0, "sum", 9),  # not 0: -log p in quanta of ~1e-16, ~1e-13 each
    ]
]


@pytest.mark.parametrize(("n", "classes", "margin", "reduction", "seed"), GRID)
def test_a_correct_network_whose_loss_is_exactly_zero_passes(n, classes, margin, reduction, seed):
    """Before: FAILED at margins 45 and more (allowed 0), at every n, reduction, class
    count; now every one PASSES, and so do margins 30, 38, where the loss is not 0."""
    model, X, y = saturated(n, classes, margin, seed)
    report = hg.gradcheck(model, NaiveCrossEntropy(reduction), X, y)
    assert report.passed, report.table()
    assert report.checked > 0


@pytest.mark.parametrize("wrong", ["no-minus-one", "other-class"])
@pytest.mark.parametrize(("n", "classes", "margin", "reduction", "seed"), GRID)
def test_a_wrong_backward_of_the_same_network_fails(wrong, n, classes, margin, reduction, seed):
    """The loss's backward forgetting the -1 of p - onehot, or subtracting it at the wrong
    class: gradients ~1/N where the right ones are ~e^-margin; FAILED before and now."""
    model, X, y = saturated(n, classes, margin, seed)
    report = hg.gradcheck(model, NaiveCrossEntropy(reduction, wrong), X, y)
    assert not report.passed, report.table()
    assert report.rows[3].failed > 0  # the output bias, whose gradient is ~1/N or 1


@pytest.mark.parametrize("offset", [1e-6, 1e-8, 3e-10])
def test_a_small_error_on_a_flat_entry_fails_once_the_loss_could_show_it(offset):
    """A weight gradient off by ``offset`` on entries whose loss is exactly 0: a slope of
    1e-8 would move the loss by ~3e-11 over the steps, far above its rounding at its scale
    (~1), so it FAILS; the tolerance there is 64 ulp of that scale over the step."""
    model, X, y = saturated(16, 2, 80.0, 0)

    def backward(self, grad_y):
        dx = hg.Linear.backward(self, grad_y)
        self.weight.grad += offset
        return dx

    model[2].backward = types.MethodType(backward, model[2])
    report = hg.gradcheck(model, NaiveCrossEntropy(), X, y)
    assert not report.passed
    row = report.rows[2]
    assert row.failed == row.checked == 10
    assert row.worst_numerical == 0.0 and 0 < row.worst_allowed < offset


def test_what_the_loss_resolves_widens_only_steps_of_three_levels_or_fewer():
    from handgrad.nn._gradcheck_steps import Step, coarsened, resolution  # new (main lacks)

    h, ulp = 1e-3, 2.220446049250313e-16
    stencil = 110 / 60 / h  # the sixth-order weights' sum of magnitudes, over h
    # flat (no quantum): 64 ulp of the loss's scale while L(θ) is below it, else nothing
    assert resolution(None, 0.0, 2.0) == 64 * ulp * 2.0
    assert resolution(None, 1e-16, 2.0) == 64 * ulp * 2.0
    assert resolution(None, 0.5, 2.0) == 0.0 and resolution(None, 0.0, 0.0) == 0.0
    assert resolution(1.1e-16, 0.5, 2.0) == 1.1e-16 and resolution(0.0, 0.0, 2.0) == 0.0
    zero = Step(h, (0.0,) * 8, 0.0, 0.0, 0.0)
    assert coarsened(zero, 0.0, 64 * ulp * 2.0).allowed == pytest.approx(128 * ulp * stencil)
    assert coarsened(zero, 0.0, 0.0).allowed == 0.0  # 0 wherever evaluated: nothing to allow
    # a staircase in quanta of ulp(1)/2 (offsets 1, -1, 2, -2, 3, -3, 1/2, -1/2): the spread
    q = ulp / 2
    stairs = Step(h, (2 * q, 2 * q, 3 * q, 2 * q, 3 * q, q, 2 * q, 2 * q), 0.0, 1e-30, 0.0)
    assert coarsened(stairs, 2 * q, 0.0).allowed == pytest.approx(1e-30 + 2 * q * stencil)
    # a precise loss (all nine values distinct) is left alone, whatever the resolution
    g = 1e-9
    smooth = tuple(0.5 + g * k * h for k in (1, -1, 2, -2, 3, -3, 0.5, -0.5))
    step = Step(h, smooth, g, 1e-20, 0.0)
    assert coarsened(step, 0.5, 1e-10) is step


def test_a_loss_that_is_zero_wherever_it_is_evaluated_still_fails_a_nonzero_gradient():
    """f = 0 everywhere (no scale to resolve a slope at): a nonzero analytic gradient is
    wrong and FAILS, a zero one PASSES."""
    w = np.array([1.0, -2.0])
    assert not hg.gradcheck(lambda: 0.0 * float(w[0]), [w], [np.array([1e-30, 0.0])]).passed
    assert hg.gradcheck(lambda: 0.0 * float(w[0]), [w], [np.zeros(2)]).passed


def callable_problem(n=16, margin=80.0, seed=0):
    """-log softmax as a function of the arrays W, b, and its right gradients."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    W, b, t = np.zeros((3, 2)), np.array([margin / 2, -margin / 2]), np.zeros(n, int)

    def probabilities():
        z = X @ W + b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def f():
        return float(-np.mean(np.log(probabilities()[np.arange(n), t])))

    def grads(wrong=False):
        g = probabilities()
        if not wrong:
            g[np.arange(n), t] -= 1.0
        return [X.T @ g / n, g.sum(axis=0) / n]

    return f, [W, b], grads


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("margin", [60.0, 80.0, 300.0])
def test_the_callable_form_of_a_saturated_loss(seed, margin):
    """Before: the right gradients FAILED (allowed 0); now they PASS and p instead of
    p - onehot FAILS, at every margin and seed."""
    f, params, grads = callable_problem(margin=margin, seed=seed)
    assert hg.gradcheck(f, params, grads()).passed
    assert not hg.gradcheck(f, params, grads(wrong=True)).passed
