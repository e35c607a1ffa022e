"""gradcheck late in training, in every dtype (tests/nn/gradcheck_late.py): saturated and
dead units, tiny and huge losses, a one-hot softmax; float64, float32 and float16 models.
The whole run is ``make attack-late``; here the draw's coverage and a sample of seeds.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import handgrad as hg

_spec = importlib.util.spec_from_file_location(
    "gradcheck_attack", Path(__file__).with_name("gradcheck_attack.py")
)
attack_module = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_attack"] = attack_module  # dataclasses look their module up
_spec.loader.exec_module(attack_module)
late = attack_module.learner_harness("gradcheck_late")


def test_the_cases_cover_every_condition_loss_and_dtype():
    cases = [late.draw(seed) for seed in range(300)]
    assert {c.condition for c in cases} == set(late.CONDITIONS)
    assert {c.dtype for c in cases} == {"float64", "float32", "float16"}
    for condition, losses in late.LOSSES.items():
        assert {c.loss for c in cases if c.condition == condition} == set(losses)
    assert {c.activation for c in cases if c.condition == "saturated"} == {"tanh", "sigmoid"}
    assert max(c.boost for c in cases) > 50 and max(c.y_scale for c in cases) > 5e3


def test_a_learners_cross_entropy_at_a_one_hot_softmax_is_exactly_zero_and_passes():
    """Seed 6: a one-hot softmax (logits scaled after training) through a learner's
    -log softmax: the loss is exactly 0 at θ, and the right backward PASSES (it FAILED
    before, "infinitely the allowed error"); p not minus its one-hot FAILS."""
    case = late.draw(6)
    assert (case.condition, case.loss) == ("onehot", "naive_ce")
    model, loss, X, y = late.build(case)
    assert loss.forward(model.forward(X), y) == 0.0
    report = hg.gradcheck(model, loss, X, y)
    assert report.passed, report.table()
    wrong = late.NaiveCrossEntropy(loss.reduction, "no-minus-one")
    assert not hg.gradcheck(model, wrong, X, y).passed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 6, 7, 9, 16, 27, 140])
def test_late_in_training_no_false_fail_no_miss(seed):
    """One-hot (1e-198 and exactly 0, float64 and float16), a huge MSE (2e8, float16), a
    saturated sigmoid (float16), a tiny -log softmax loss (1e-5, noise 3e-16): no false
    FAIL, no miss. Seeds 6, 16 and 27 FAILED their correct network before the rule for a
    loss exactly 0 (27: a unit crossing its kink along the quantum's direction), and 140
    before the noise measure tried more directions when each one crossed a kink (its
    smallest step was judged on the ulp floor alone, 6 times over)."""
    tally = late.attack([seed], attack_module.Tally(), attack_module)
    assert tally.correct == 1
    assert not tally.false_fails, tally.false_fails
    assert not tally.misses, tally.misses
    assert tally.mutants > 0
