"""Every deliberately wrong answer fails, and the diagnosis names its kind of bug and no other."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import handgrad.exercises as ex
from handgrad.exercises.diagnose import HINTS

_spec = importlib.util.spec_from_file_location("mutants", Path(__file__).with_name("mutants.py"))
mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)
MUTANTS = mutants.MUTANTS

ISSUE_CODES = {
    "scale", "transpose", "sign", "relu-kink", "activation-derivative", "bias-shape",
    "bias-not-summed", "order", "adam-bias-correction", "momentum-convention", "unstable",
    "mutates-input", "shape", "dtype", "adam-step-count", "adam-returns-corrected",
    "adam-epsilon", "n-minus-1",
}  # fmt: skip

# the codes that are true beside a mutant's own, and named with it: nothing else may be
ALSO = {
    "relu-backward-from-output": {"ignores-input"},  # z is never read
    "backward-bias-not-summed": {"bias-shape"},  # one sample: the (1, H) row itself
    "linear-db-not-summed": {"bias-shape"},
    "backward-order": {"shape"},  # W2 comes out (H, H)
    "backprop-order": {"shape"},
}


def test_the_catalogue_is_large_and_covers_every_code():
    assert len(MUTANTS) >= 40
    assert {code for _, _, code, _ in MUTANTS} == ISSUE_CODES
    assert ISSUE_CODES <= set(HINTS)
    assert len({ident for ident, *_ in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("ident,exercise,code,source", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_wrong_answer_is_caught_with_its_code(ident, exercise, code, source):
    namespace: dict = {}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    result = ex.check(exercise, namespace)
    assert not result.passed
    assert set(result.diagnoses) == {code} | ALSO.get(ident, set()), str(result)
    failing = [c for c in result.cases if not c.passed]
    assert all(c.message or c.diagnoses for c in failing)
