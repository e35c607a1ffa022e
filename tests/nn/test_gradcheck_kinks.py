"""gradcheck at the kinks of a learner's own modules (no ``kink`` attribute for the probe).

A correct backward at a kink must not be FAILED: gradcheck sees the kink in the loss's
one-sided slopes and checks backward just beside it (``_gradcheck_kinks.at_a_kink``); a wrong
backward must still FAIL, at the kink when it is wrong beside it and everywhere else. The
random cases are tests/nn/gradcheck_learner.py (run by gradcheck_attack.py --learner).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg

_spec = importlib.util.spec_from_file_location(
    "gradcheck_attack", Path(__file__).with_name("gradcheck_attack.py")
)
attack_module = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_attack"] = attack_module  # dataclasses look their module up
_spec.loader.exec_module(attack_module)
learner = attack_module.learner_harness()

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([[0], [1], [1], [0]], float)


def _xor_model(cls, steps=0, nested=False):
    """2-8-8-1 with the learner's activation ``cls``, zero biases: the (0, 0) row puts every
    first-layer unit exactly on its kink (trained with the x > 0 convention)."""
    model = hg.mlp([2, 8, 8, 1], "relu", seed=1)
    layers = model.layers
    layers[1], layers[3] = learner.ReLU(), learner.ReLU()
    opt, loss = hg.Adam(model.parameters(), lr=0.01), hg.BCEWithLogitsLoss()
    for _ in range(steps):
        loss.forward(model.forward(XOR_X), XOR_Y)
        model.backward(loss.backward())
        opt.step()
    layers[1], layers[3] = cls(), cls()
    if nested:
        return hg.Sequential(hg.Sequential(layers[0], hg.Sequential(layers[1], layers[2])),
                             *layers[3:])  # fmt: skip
    return model


def test_a_learners_relu_at_xor_corners_passes_like_the_built_in_one():
    """Before: FAILED at 8.5e5 times the tolerance (0.bias: backward takes the slope of the
    side it chose, the central difference the mean of both sides)."""
    model = _xor_model(learner.ReLU)
    report = hg.gradcheck(model, hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert report.passed, report.table()
    rows = {r.name: r for r in report.rows}
    assert rows["0.bias"].kinks == 8 and rows["0.bias"].checked == 0
    built_in = hg.mlp([2, 8, 8, 1], "relu", seed=1)
    expected = hg.gradcheck(built_in, hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert [(r.name, r.checked, r.kinks) for r in report.rows] == [
        (r.name, r.checked, r.kinks) for r in expected.rows
    ]


@pytest.mark.parametrize("steps", [0, 100, 1000])
@pytest.mark.parametrize("convention", ["ReLU", "ReLUAtZeroOne"])
def test_either_convention_at_the_kink_passes_at_every_stage(steps, convention):
    """x > 0 and x >= 0 are both right at x == 0 (after 1000 steps a dead unit's bias is still
    exactly 0, and x >= 0 FAILED at 6.7e5 times before the backward was checked beside it)."""
    model = _xor_model(getattr(learner, convention), steps)
    report = hg.gradcheck(model, hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert report.passed, report.table()


@pytest.mark.parametrize("steps", [0, 100])
@pytest.mark.parametrize("wrong", ["ReLUNoMask", "ReLUInverted", "ReLUHalfBelow"])
def test_a_wrong_relu_backward_near_the_kink_still_fails(steps, wrong):
    model = _xor_model(getattr(learner, wrong), steps)
    report = hg.gradcheck(model, hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert not report.passed, report.table()
    assert report.rows[0].failed > 0, report.table()  # 0.weight: before both activations


class _DoubleOnTheRight(learner.ReLU):
    """Slope 2 where x > 0: wrong on the kink's right side, right on its left."""

    def slope(self, x):
        return 2.0 * (x > 0).astype(x.dtype)


def test_a_backward_wrong_only_on_one_side_of_the_kink_fails_at_the_kink():
    """At the (0, 0) row's kink the value backward gives (the left slope) is right; beside
    the kink, on the right, it is twice the slope: not excused at the kink entries either."""
    model = _xor_model(_DoubleOnTheRight)
    report = hg.gradcheck(model, hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert not report.passed
    rows = {r.name: r for r in report.rows}
    assert rows["0.bias"].kinks == 0 and rows["0.bias"].failed > 0, report.table()


def test_a_kink_in_the_curvature_passes():
    """XOR fitted exactly by ReLU(x1 + x2) - 2 ReLU(x1 + x2 - 1) with MSE: L(θ) = 0, and each
    first-layer entry sees a kink in the curvature (slopes 0 on both sides), which biases the
    central difference by ~h. Before: FAILED at 1.69 times its tolerance at any step."""
    model = hg.Sequential(hg.Linear(2, 2), learner.ReLU(), hg.Linear(2, 1))
    model.layers[0].weight.value[...] = 1.0
    model.layers[0].bias.value[...] = [0.0, -1.0]
    model.layers[2].weight.value[...] = [[1.0], [-2.0]]
    model.layers[2].bias.value[...] = 0.0
    report = hg.gradcheck(model, hg.MSELoss(), XOR_X, XOR_Y)
    assert report.passed, report.table()
    assert report.kinks == 4


def test_a_zero_first_layer_with_inputs_of_both_signs_passes():
    """Every hidden input is 0 and each weight moves some samples' units on for either sign
    of its step: backward's value (all units off) lies outside both one-sided slopes, a
    correct convention all the same. Backward is right just beside the kink, on both sides:
    a kink, not a failure (before: FAILED at 7.2e5 times)."""
    case = learner.draw(4)
    assert (case.activation, case.placement, case.steps) == ("relu", "zero", 1000)
    model, loss, X, y = learner.build(case)
    report = hg.gradcheck(model, loss, X, y)
    assert report.passed, report.table()
    assert report.rows[0].checked == 0 and report.rows[0].kinks == 6


@pytest.mark.parametrize(
    "seed,name",
    [(21, "correct"), (160, "relu: x >= 0 (right)"), (199, "relu: x >= 0 (right)")],
)
def test_kinks_the_loss_does_not_show_pass(seed, name):
    """The loss is smooth along the entry, yet backward's value there is not its derivative:
    seed 21, two leaky units' kinks cancel in the loss (weights and inputs in {-1, 0, 1});
    seeds 160 and 199, x >= 0 at a unit on its kink feeding a unit on its own kink, whose
    slope is 0 for either sign of the step. Backward is right beside θ and some layer's
    output bends at θ: a kink. Before the layer outputs were looked at, these FAILED (up to
    1.8e10 times) and passed only with the kink declared to the probe."""
    case = learner.draw(seed)
    model, loss, X, y = learner.build(case)
    checked = dict((n, m) for n, m, _ in learner.mutants(case, model, np.random.default_rng(0)))
    candidate = model if name == "correct" else checked[name]
    report = hg.gradcheck(candidate, loss, X, y)
    assert report.passed and report.kinks > 0, report.table()
    declared = hg.gradcheck(learner.declared(candidate), loss, X, y)
    assert declared.passed, declared.table()


def test_a_wrong_backward_that_jumps_on_a_smooth_loss_is_not_excused():
    """The largest weight-gradient entry's sign flipped, where two entries tie: beside θ the
    other entry is the largest, so backward is right on both sides and wrong only at θ. The
    loss and every layer's output are smooth there (softplus): FAILED, not a kink (a version
    that took any jump of backward on a smooth loss as a kink let this pass)."""
    case = learner.draw(343)
    assert (case.activation, case.placement) == ("softplus", "zero")
    model, loss, X, y = learner.build(case)
    wrong = dict((n, m) for n, m, _ in learner.mutants(case, model, np.random.default_rng(0)))
    report = hg.gradcheck(wrong["weight grad: one entry's sign"], loss, X, y)
    assert not report.passed and report.kinks == 0, report.table()


def test_a_nested_learners_relu_at_a_kink_passes_and_a_wrong_one_fails():
    right = hg.gradcheck(_xor_model(learner.ReLU, nested=True), hg.BCEWithLogitsLoss(),
                         XOR_X, XOR_Y)  # fmt: skip
    flat = hg.gradcheck(_xor_model(learner.ReLU), hg.BCEWithLogitsLoss(), XOR_X, XOR_Y)
    assert right.passed and right.kinks == flat.kinks == 16, right.table()
    assert [r.name for r in right.rows][:2] == ["0.0.weight", "0.0.bias"]
    wrong = hg.gradcheck(_xor_model(learner.ReLUNoMask, nested=True), hg.BCEWithLogitsLoss(),
                         XOR_X, XOR_Y)  # fmt: skip
    assert not wrong.passed


def test_a_smooth_network_with_a_wrong_backward_has_no_kinks():
    """The kink test never excuses an entry of a smooth loss whose backward is continuous."""
    case = learner.draw(59)
    assert (case.activation, case.placement) == ("softplus", "random")
    model, loss, X, y = learner.build(case)
    assert hg.gradcheck(model, loss, X, y).kinks == 0
    for name, wrong, _ in learner.mutants(case, model, np.random.default_rng(0)):
        report = hg.gradcheck(wrong, loss, X, y)
        assert not report.passed and report.kinks == 0, f"{name}\n{report.table()}"


def test_the_gradients_at_theta_are_left_after_a_check_beside_a_kink():
    model = _xor_model(learner.ReLU, steps=10)
    loss = hg.BCEWithLogitsLoss()
    loss.forward(model.forward(XOR_X), XOR_Y)
    model.backward(loss.backward())
    before = [p.grad.copy() for p in model.parameters()]
    report = hg.gradcheck(model, loss, XOR_X, XOR_Y)
    assert report.kinks > 0
    for p, g in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.grad, g)


def test_the_function_form_takes_any_value_between_the_one_sided_slopes():
    """f = sum |x| with x[0] == 0: any subgradient in [-1, 1] is a kink, 2 is a FAIL, and a
    wrong entry away from the kink is a FAIL."""
    x = np.array([0.0, 0.5, -2.0])

    def f():
        return float(np.sum(np.abs(x)))

    for at_zero in (-1.0, 0.0, 0.3, 1.0):
        report = hg.gradcheck(f, [x], [np.array([at_zero, 1.0, -1.0])])
        assert report.passed and report.kinks == int(at_zero != 0.0), report.table()
    assert not hg.gradcheck(f, [x], [np.array([2.0, 1.0, -1.0])]).passed
    assert not hg.gradcheck(f, [x], [np.array([0.0, 1.01, -1.0])]).passed


FAST_SEEDS = [0, 4, 5, 9, 21, 24, 31, 42]  # leaky, relu, maxout, abs, hardtanh; all placements


@pytest.mark.slow  # about 4 s of CPU
def test_a_few_learner_seeds_of_the_harness():
    tally = attack_module.Tally()
    learner.attack(FAST_SEEDS, tally, attack_module)
    assert tally.false_fails == [] and tally.misses == [], tally.line()
    assert tally.correct >= len(FAST_SEEDS) and tally.mutants >= 20


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 40])
def test_eighty_learner_seeds_of_the_harness(first):
    """A sample for the suite; `make attack` runs seeds 0-1599 (about 12 minutes)."""
    tally = attack_module.Tally()
    learner.attack(range(first, first + 40), tally, attack_module)
    assert tally.false_fails == [] and tally.misses == [], tally.line()


def _case(seed, activation, placement):
    case = learner.draw(seed)
    assert (case.activation, case.placement) == (activation, placement)
    model, loss, X, y = learner.build(case)
    wrong = {n: m for n, m, _ in learner.mutants(case, model, np.random.default_rng([seed, 23]))}
    return model, wrong, loss, X, y


def test_a_step_that_reaches_a_near_tie_is_not_the_one_judged():
    """A trained maxout (1000 steps) whose tie lies ~3e-6 from θ along 0.0.weight[2, 3]:
    backward gives ~0 (the losing half), the steps 1e-3 .. 1e-5 reach the tie and see the
    winning half's slope (-3e-8), too small for their one-sided slopes to show the kink.
    Before: FAILED at 2.85 times its tolerance (judged at 1e-5); the smaller steps, whose
    reach holds no kink of any layer's output, agree with backward."""
    model, _, loss, X, y = _case(795, "maxout", "random")
    report = hg.gradcheck(model, loss, X, y, seed=795)
    assert report.passed, report.table()


def test_ties_closer_than_the_finest_step_are_kinks_as_the_probe_says():
    """Symmetric maxout halves that training moved 1e-8 .. 1e-7 apart: every step, the
    finest (reach 3e-7) included, crosses a tie near θ (not at it). Before: FAILED at 1.36
    times (0.0.bias[1]), PASSED only with the kinks declared to the probe; now counted as
    kinks, as the probe counts them, and the wrong backwards still FAIL elsewhere."""
    model, wrong, loss, X, y = _case(272, "maxout", "symmetric")
    report = hg.gradcheck(model, loss, X, y, seed=272)
    assert report.passed and report.kinks > 0, report.table()
    for name in ("maxout: to both", "maxout: to the smaller", "weight grad x1.01"):
        assert not hg.gradcheck(wrong[name], loss, X, y, seed=272).passed, name


def test_a_wrong_maxout_routing_near_ties_fails_at_the_steps_that_reach_none():
    """Ties 6e-7 .. 1e-4 from θ (float32, one sample): the larger steps reach them and their
    loss shows kinks, but the finest step reaches none, and there backward must agree. A
    version that judged backward against the one-sided slopes of the steps that show the
    kinks let every wrong backward here PASS (to both, to the smaller, x1.01, a sign)."""
    model, wrong, loss, X, y = _case(891, "maxout", "symmetric")
    assert hg.gradcheck(model, loss, X, y, seed=891).passed
    for name in ("maxout: to both", "maxout: to the smaller", "weight grad x1.01",
                 "weight grad: one entry's sign"):  # fmt: skip
        assert not hg.gradcheck(wrong[name], loss, X, y, seed=891).passed, name


@pytest.mark.slow  # 2 and 6 s of CPU
@pytest.mark.parametrize("seed", [93, 164])
def test_rounding_of_a_linear_layer_output_is_not_a_kink_within_reach(seed):
    """Built-in leaky ReLU nets with inputs ~35: a layer's output element ~1e-4 computed from
    terms ~4 carries rounding of ~1e-15 in its second differences, exactly linear otherwise.
    Judged against that element's own size that rounding looked like a kink within every
    step's reach, and a wrong entry (one sign flipped; the largest zeroed) was counted as a
    kink; against the layer's scale it is rounding, and the wrong backward FAILS."""
    tally = attack_module.attack([seed])
    assert tally.false_fails == [] and tally.misses == [], tally.line()
    assert tally.mutants > 10
