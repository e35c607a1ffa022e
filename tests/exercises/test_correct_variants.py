"""The checker never fails a right answer written another valid way (correct_variants.py),
and says exactly what is wrong with the answers that only look right."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises.catalogue import get

_spec = importlib.util.spec_from_file_location(
    "correct_variants", Path(__file__).with_name("correct_variants.py")
)
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)
VARIANTS = variants.VARIANTS


def test_the_catalogue_covers_every_exercise():
    covered = {exercise for _, exercise, _ in VARIANTS}
    assert len(VARIANTS) >= 50
    assert covered == set(ex.names())
    assert len({ident for ident, *_ in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("exercise,source", [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_a_right_answer_written_another_way_passes(exercise, source):
    namespace: dict = {}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    result = ex.check(exercise, namespace)
    assert result.passed, str(result)
    assert result.diagnoses == []


@pytest.mark.parametrize("name", ex.names())
def test_a_float32_case_is_announced_by_the_contract(name):
    """The checker fails float64 output on a float32 case, so the contract must ask for it
    (linear, l2_penalty and adam did not say so)."""
    exercise = get(name)
    if any("float32" in case.tags for case in exercise.cases()):
        assert "float32" in exercise.contract or "dtype" in exercise.contract, exercise.contract


def test_an_array_restored_only_to_rounding_is_named_so():
    """x + eps - 2 eps + eps leaves x off in its last digits: still a changed input, and the
    message says why a learner who restored it still sees the change."""
    source = next(s for i, _, _, s in _mutants() if i == "gradient-check-restored-by-stepping-back")
    namespace: dict = {}
    exec(compile(source, "<gradient_check>", "exec"), namespace)
    result = ex.check("gradient_check", namespace)
    assert not result.passed
    assert "mutates-input" in result.diagnoses
    message = result.cases[0].message
    assert "only in its last digits" in message and "x + eps - eps is not always x" in message


def test_a_real_in_place_change_is_not_called_rounding():
    source = next(s for i, _, _, s in _mutants() if i == "relu-in-place")
    namespace: dict = {}
    exec(compile(source, "<relu>", "exec"), namespace)
    result = ex.check("relu", namespace)
    assert "mutates-input" in result.diagnoses
    assert all("last digits" not in case.message for case in result.cases)


def test_the_dtype_hint_names_numpy_scalars():
    source = next(s for i, _, _, s in _mutants() if i == "adam-numpy-scalar-upcasts-float32")
    namespace: dict = {}
    exec(compile(source, "<adam>", "exec"), namespace)
    result = ex.check("adam", namespace)
    assert result.diagnoses == ["dtype"]
    assert "np.power" in str(result)
    assert (np.ones(2, np.float32) * np.power(0.9, 3)).dtype == np.float64  # the promotion


def _mutants():
    spec = importlib.util.spec_from_file_location("mutants", Path(__file__).with_name("mutants.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


WRONG_EVERYWHERE = {
    "softmax": "def softmax(z):\n"
    "    e = np.exp(2 * (z - z.max(axis=1, keepdims=True)))\n"
    "    return e / e.sum(axis=1, keepdims=True)\n",
    "bce_with_logits": "def bce_with_logits(z, y):\n"
    "    return float(np.mean(np.logaddexp(0, z) - y * z)) + 0.1\n"
    "def bce_with_logits_grad(z, y):\n"
    "    return (0.5 * (1 + np.tanh(z)) - y) / len(z)\n",
}


@pytest.mark.parametrize("name", sorted(WRONG_EVERYWHERE))
def test_a_stable_formula_wrong_everywhere_is_not_called_unstable(name):
    """The extreme case used to claim "unstable" for any wrong answer; a stable formula with a
    wrong factor is wrong on the ordinary cases too, and the claim is not made."""
    namespace: dict = {"np": np}
    exec(WRONG_EVERYWHERE[name], namespace)
    result = ex.check(name, namespace)
    assert not result.passed
    assert "unstable" not in result.diagnoses, str(result)
    extreme = next(c for c, case in zip(result.cases, get(name).cases()) if "extreme" in case.tags)
    assert not extreme.passed and "not only where a formula overflows" in extreme.message


@pytest.mark.slow
def test_the_sandbox_takes_the_claim_back_as_well(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text("import numpy as np\n" + WRONG_EVERYWHERE["softmax"])
    result = ex.check("softmax", str(path))
    assert not result.passed and "unstable" not in result.diagnoses, str(result)


def test_a_naive_formula_right_on_ordinary_inputs_is_still_called_unstable():
    namespace: dict = {"np": np}
    exec(
        "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=1, keepdims=True)\n",
        namespace,
    )
    result = ex.check("softmax", namespace)
    assert result.diagnoses == ["unstable"], str(result)


def test_nan_carried_over_from_a_named_mistake_is_not_called_unstable():
    """Adam with t - 1 divides by 0 at the first step; the later steps start from that NaN.
    The step count is the bug (it explains step 1 exactly), not an overflow."""
    source = next(s for i, _, _, s in _mutants() if i == "adam-t-minus-one")
    namespace: dict = {}
    exec(compile(source, "<adam>", "exec"), namespace)
    result = ex.check("adam", namespace)
    assert result.diagnoses == ["adam-step-count"], str(result)
    assert "follow from the mistake named above" in result.cases[0].message


# the last (newest) right answer of each exercise, through the sandbox as the CLI runs it
LAST_PER_EXERCISE = {exercise: (ident, source) for ident, exercise, source in VARIANTS}


@pytest.mark.slow
@pytest.mark.parametrize("exercise", sorted(LAST_PER_EXERCISE))
def test_a_right_answer_written_another_way_passes_in_the_sandbox(tmp_path, exercise):
    ident, source = LAST_PER_EXERCISE[exercise]
    path = tmp_path / f"{exercise}.py"
    path.write_text(source)
    result = ex.check(exercise, str(path))
    assert result.passed and result.diagnoses == [], f"{ident}: {result}"
