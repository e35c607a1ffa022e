"""The diagnoses are claims about numbers: checked on arrays hypothesis draws.

Each property states what an answer is (the right array in float32, negated, scaled by a
telling factor, transposed) and asserts the verdict and codes say exactly that.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from handgrad.exercises.catalogue import Case
from handgrad.exercises.diagnose import compare_output

VALUES = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


def _matrix(min_side=1, max_side=6):
    shapes = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))
    return shapes.flatmap(lambda shape: arrays(np.float64, shape, elements=VALUES))


def _visible(want: np.ndarray) -> bool:
    """Not all (nearly) zero: a factor or a sign has something to act on."""
    return float(np.max(np.abs(want))) > 1e-3


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_matrix())
def test_the_right_array_rounded_to_float32_passes_a_float32_case(want):
    case = Case("c", {}, tags=frozenset({"float32"}))
    got = want.astype(np.float32)
    verdict = compare_output("out", got, want.astype(np.float32), case)
    assert verdict.passed, verdict.detail


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_matrix())
def test_a_negated_array_is_called_sign_only(want):
    assume(_visible(want))
    verdict = compare_output("out", -want, want, Case("c", {}))
    assert not verdict.passed
    assert verdict.codes == ["sign"], (verdict.codes, verdict.detail)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_matrix(), st.sampled_from([2.0, 0.5, 16.0, 1 / 16]))
def test_a_telling_factor_is_called_scale_with_its_value(want, factor):
    assume(_visible(want))
    case = Case("c", {}, batch=16)
    verdict = compare_output("out", factor * want, want, case)
    assert not verdict.passed
    assert verdict.codes[-1:] == ["scale"] and "sign" not in verdict.codes, verdict.codes
    assert f"{factor:.6g}" in verdict.detail


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(2, 6).flatmap(lambda n: arrays(np.float64, (n, n), elements=VALUES)))
def test_a_transposed_square_array_is_called_transpose(want):
    assume(not np.allclose(want, want.T, 1e-6, 1e-9))
    verdict = compare_output("out", want.T.copy(), want, Case("c", {}))
    assert not verdict.passed
    assert verdict.codes == ["transpose"], (verdict.codes, verdict.detail)
