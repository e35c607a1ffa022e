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
    per_exercise = collections.Counter(exercise for _, exercise, *_ in BUGS)
    assert set(per_exercise) == set(ex.names())
    assert min(per_exercise.values()) >= 4, per_exercise


# one slip for each code the catalogue expects, run through the sandbox (a file, as the
# CLI checks it): what the child reports (lists, unread inputs, errors) crosses the channel
ONE_PER_CODE = {
    code: next(b for b in BUGS if code in b[2] and len(b[2]) == 1)
    for code in sorted({c for b in BUGS for c in b[2]})
}


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(ONE_PER_CODE))
def test_each_code_is_named_through_the_sandbox(tmp_path, code):
    ident, exercise, expected, also, source = ONE_PER_CODE[code]
    path = tmp_path / f"{exercise}.py"
    path.write_text(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ex.check(exercise, str(path))
    assert common_bugs.classify(result, expected, also) == "right", f"{ident}: {result}"


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
