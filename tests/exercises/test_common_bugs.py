"""Every common bug of common_bugs.py gets its right name, and no name that is not true.

Counts for a person (right / wrong / unnamed / missed):
    PYTHONPATH=src python tests/exercises/test_common_bugs.py
"""

from __future__ import annotations

import collections
import importlib.util
import warnings
from pathlib import Path

import pytest

import handgrad.exercises as ex
from handgrad.exercises.diagnose import HINTS

_spec = importlib.util.spec_from_file_location(
    "common_bugs", Path(__file__).with_name("common_bugs.py")
)
common_bugs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common_bugs)
BUGS = common_bugs.BUGS

KINDS = {
    "sign": "sign", "1/N": "scale", "N-1": "n-minus-1", "transpose": "transpose",
    "off-by-one": "off-by-one", "bias": "bias-forgotten", "aliasing": "mutates-input",
    "axis": "axis", "keepdims": "keepdims", "integer division": "zeros", "float64": "dtype",
    "return": "missing-return",
}  # fmt: skip


def check(exercise: str, source: str):
    namespace: dict = {}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the naive formulas overflow
        return ex.check(exercise, namespace)


def test_the_catalogue_has_each_kind_of_slip_and_known_codes():
    expected = {code for _, _, codes, _, _ in BUGS for code in codes}
    assert set(KINDS.values()) <= expected
    assert expected <= set(HINTS)
    assert len({ident for ident, *_ in BUGS}) == len(BUGS)
    assert len({exercise for _, exercise, *_ in BUGS}) >= 20


@pytest.mark.parametrize(
    "exercise,expected,also,source", [b[1:] for b in BUGS], ids=[b[0] for b in BUGS]
)
def test_a_common_bug_gets_its_name(exercise, expected, also, source):
    result = check(exercise, source)
    assert common_bugs.classify(result, expected, also) == "right", str(result)


if __name__ == "__main__":
    counts: collections.Counter = collections.Counter()
    for ident, exercise, expected, also, source in BUGS:
        result = check(exercise, source)
        verdict = common_bugs.classify(result, expected, also)
        counts[verdict] += 1
        if verdict != "right":
            print(f"{verdict:8} {ident}: expected {sorted(expected)}, got {result.diagnoses}")
    print(
        f"{len(BUGS)} bugs: "
        + ", ".join(f"{k} {counts[k]}" for k in ("right", "wrong", "unnamed", "missed"))
    )
