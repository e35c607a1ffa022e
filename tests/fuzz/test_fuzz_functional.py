"""Fuzzing handgrad.nn.functional: any dtype, any shape, any values."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from handgrad.nn import functional as F

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


budget = fuzzing.budget


FLOATS = [np.float16, np.float32, np.float64]
INTS = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.uint64, np.bool_]
COMPLEX = [np.complex64, np.complex128]

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)


@st.composite
def any_array(draw, dtypes=FLOATS + INTS + COMPLEX, finite=False):
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    elements = None
    if dtype.kind == "f":
        elements = st.floats(
            allow_nan=not finite, allow_infinity=not finite, width=8 * dtype.itemsize
        )
    return draw(hnp.arrays(dtype, draw(shapes), elements=elements))


FORWARD = [F.sigmoid, F.softplus, F.log_sigmoid, F.relu, F.leaky_relu, F.tanh]
ROWWISE = [F.softmax, F.log_softmax, F.logsumexp]


def expected_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


@budget(20)
@given(x=any_array(), op=st.sampled_from(FORWARD + ROWWISE))
def test_ops_refuse_complex_and_keep_float_dtypes(x, op):
    if x.dtype.kind == "c":
        with pytest.raises(TypeError, match="complex"):
            op(x)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN/inf inputs may warn; fine
        out = op(x)
    assert out.dtype == expected_dtype(x)
    assert out.shape == (x.shape[:-1] if op is F.logsumexp else x.shape)


@budget(20)
@given(x=any_array(dtypes=FLOATS + INTS, finite=True), op=st.sampled_from(FORWARD + ROWWISE))
def test_finite_input_gives_finite_correct_output_without_warnings(x, op):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            out = op(x)
    xf = x.astype(expected_dtype(x))
    if op is F.sigmoid:
        assert np.all((out >= 0) & (out <= 1))
    elif op is F.softplus:
        assert np.all(out >= np.maximum(xf, 0)) and np.all(np.isfinite(out))
    elif op is F.log_sigmoid:
        assert np.all(out <= 0) and np.all(out >= np.minimum(xf, 0) - np.log(2) - 1e-3)
    elif op is F.softmax:
        assert np.all((out >= 0) & (out <= 1))
        assert np.allclose(out.sum(axis=-1), 1, atol=1e-2 if xf.dtype == np.float16 else 1e-5)
    elif op is F.log_softmax:
        assert np.all(out <= 0)  # -inf allowed: a probability below the float range
        assert np.all(np.isfinite(out.max(axis=-1)))
    elif op is F.logsumexp:
        assert np.all(np.isfinite(out)) and np.all(out >= xf.max(axis=-1))
    else:
        assert np.all(np.isfinite(out))


BACKWARD = [F.sigmoid_backward, F.relu_backward, F.leaky_relu_backward, F.tanh_backward]


@budget(20)
@given(dz=any_array(finite=True), z=any_array(finite=True), op=st.sampled_from(BACKWARD))
def test_backward_refuses_mismatched_shapes_and_complex(dz, z, op):
    if dz.dtype.kind == "c" or z.dtype.kind == "c":
        with pytest.raises(TypeError, match="complex"):
            op(dz, z)
    elif dz.shape != z.shape:
        with pytest.raises(ValueError, match="shape"):
            op(dz, z)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # products of huge values
            assert op(dz, z).shape == z.shape


@budget(20)
@given(x=any_array(dtypes=FLOATS + INTS, finite=True))
def test_mean_no_overflow_is_finite_and_within_the_range_of_its_input(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.mean_no_overflow(x)
    xf = x.astype(expected_dtype(x))
    assert np.isfinite(out) and out.dtype == xf.dtype
    lo, hi = float(xf.min()), float(xf.max())
    slack = 1e-2 * max(abs(lo), abs(hi)) if xf.dtype == np.float16 else 1e-6 * max(abs(lo), abs(hi))
    assert lo - slack <= float(out) <= hi + slack


@st.composite
def logits_and_labels(draw):
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    finite = st.floats(allow_nan=False, allow_infinity=False, width=8 * dtype.itemsize)
    z = draw(hnp.arrays(dtype, (n, c), elements=finite))
    return z, draw(hnp.arrays(np.intp, (n,), elements=st.integers(0, c - 1)))


@budget(30)
@given(case=logits_and_labels())
def test_softmax_cross_entropy_of_finite_logits_is_finite_and_silent(case):
    z, labels = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            losses, grad = F.softmax_cross_entropy(z, labels)
            terms = F.softmax_cross_entropy_terms(z, labels)
    assert losses.dtype == grad.dtype == z.dtype
    assert np.all(losses >= 0) and np.all(np.isfinite(grad))
    # inf only where the loss, max - z_k + log1p(s), is beyond the float range
    assert all(np.all(np.isfinite(t)) for t in terms)
    with np.errstate(over="ignore"):
        span = terms[0] + terms[1]
    assert np.all(np.isfinite(losses) | (span > np.finfo(z.dtype).max / 2))
    n = np.arange(len(z))
    assert np.all((grad[n, labels] >= -1) & (grad[n, labels] <= 0))
    eps = float(np.finfo(z.dtype).eps)
    assert np.allclose(grad.sum(axis=1), 0, rtol=0, atol=4 * z.shape[1] * eps)
