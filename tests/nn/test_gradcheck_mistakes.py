"""gradcheck against the wrong backwards learners write most (tests/nn/gradcheck_kinds.py):
a missing transpose, a missing 1/N, a flipped sign, a misremembered activation derivative
or one taken at the output, a forgotten bias gradient, gradients that accumulate, dW from
the pre-activation; on networks from initialization to an overfit batch and a run about to
diverge, every activation (a learner's ELU and softplus too), loss, reduction and dtype.
Each correct model must PASS, each visible wrong backward FAIL. `make attack-kinds` runs
seeds 0-299; here the coverage of the draw and a sample of seeds (slow)."""

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
kinds = attack_module.learner_harness("gradcheck_kinds")


def test_the_cases_cover_every_stage_activation_loss_and_dtype():
    cases = [kinds.draw(seed) for seed in range(300)]
    assert {c.stage for c in cases} == set(kinds.STAGES)
    assert {c.activation for c in cases} == set(kinds.ACTIVATIONS)
    assert {(c.loss, c.reduction) for c in cases} == {
        (loss, r) for loss in ("mse", "bce", "softmax_ce", "poisson") for r in ("mean", "sum")
    }
    assert {c.dtype for c in cases} == {"float32", "float64"}
    assert {1, 512} <= {c.batch for c in cases}


@pytest.mark.parametrize("activation", ["elu", "elu0.5", "softplus"])
def test_a_learners_smooth_activation_passes_and_its_mistakes_fail(activation):
    """The learner's ELU (a kink in its slope when alpha != 1) and softplus, declared
    without a ``kink`` attribute, on a small trained net: right PASSES, the derivative
    misremembered or taken at the output FAILS."""
    case = kinds.KindCase(0, activation, "mse", "mean", "float64", "mid", (2, 4, 4, 1), 16, 0.01)
    model, loss, X, y = kinds.build(case)
    assert hg.gradcheck(model, loss, X, y).passed
    rng = np.random.default_rng(0)
    for name in ("activation derivative misremembered", "activation derivative at the output"):
        wrong, wrong_loss = kinds.MUTANTS[name](model, loss, rng)
        assert not hg.gradcheck(wrong, wrong_loss, X, y).passed, name


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3, 5, 8])
def test_common_mistakes_no_false_fail_no_miss(seed):
    tally = kinds.attack([seed], attack_module.Tally(), attack_module)
    assert tally.correct == 1
    assert not tally.false_fails, tally.false_fails
    assert not tally.misses, tally.misses
    assert tally.mutants > 0
