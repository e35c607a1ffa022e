"""handgrad.nn.functional: values against mpmath, argument order, label handling, properties."""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from handgrad.nn import functional as F

EPS = float(np.finfo(np.float64).eps)
MAX = float(np.finfo(np.float64).max)

# Points that probe the centre, both tails, the float64 saturation points of the sigmoid
# (~36.7 and ~-745) and absurdly large finite inputs.
TAIL_POINTS = [
    0.0,
    1e-8,
    -1e-8,
    0.5,
    -0.5,
    1.0,
    -1.0,
    5.0,
    -5.0,
    20.0,
    -20.0,
    30.0,
    -30.0,
    36.8,
    -36.8,
    40.0,
    -40.0,
    700.0,
    -700.0,
    745.0,
    -745.0,
    800.0,
    -800.0,
    1e300,
    -1e300,
]


def mp_sigmoid(z: float) -> mp.mpf:
    return 1 / (1 + mp.exp(-mp.mpf(z)))


def mp_softplus(z: float) -> mp.mpf:
    return mp.log1p(mp.exp(mp.mpf(z)))


def mp_logsumexp(row) -> mp.mpf:
    return mp.log(mp.fsum(mp.exp(mp.mpf(float(v))) for v in row))


@pytest.fixture
def strict():
    """Any NumPy floating-point event (other than underflow) or warning becomes an error.

    Underflow is not an error: when sigmoid(-800) ~ 3.7e-348 rounds to 0 (or a subnormal),
    that is the correctly rounded float64 result, and NumPy ignores underflow by default.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


# --- sigmoid family against mpmath ---------------------------------------------------------


@pytest.mark.parametrize("z", TAIL_POINTS)
def test_sigmoid_matches_mpmath_to_a_few_ulps(z, assert_ulps, strict):
    assert_ulps(F.sigmoid(np.array([z]))[0], mp_sigmoid(z), ulps=2, what=f"sigmoid({z})")


def test_sigmoid_tails_have_the_right_tiny_values(strict):
    s = F.sigmoid(np.array([-30.0, -40.0, -700.0, -800.0, 1e300, -1e300]))
    assert s[0] == pytest.approx(9.357622968840175e-14, rel=4 * EPS)
    assert s[1] == pytest.approx(4.248354255291589e-18, rel=4 * EPS)
    assert s[2] == pytest.approx(9.85967654375977e-305, rel=4 * EPS)
    assert s[3] == 0.0  # 3.7e-348 is below the smallest subnormal: 0 is the rounded value
    assert s[4] == 1.0 and s[5] == 0.0


@pytest.mark.parametrize("z", TAIL_POINTS)
def test_softplus_and_log_sigmoid_match_mpmath(z, assert_ulps, strict):
    assert_ulps(F.softplus(np.array([z]))[0], mp_softplus(z), ulps=2, what=f"softplus({z})")
    assert_ulps(F.log_sigmoid(np.array([z]))[0], -mp_softplus(-z), ulps=2, what=f"log_sigmoid({z})")


def test_no_warning_for_any_finite_input(strict):
    z = np.array([-MAX, -1e300, -800.0, -1e-300, -5e-324, 0.0, 5e-324, 1e-300, 800.0, 1e300, MAX])
    s = F.sigmoid(z)
    sp = F.softplus(z)
    ls = F.log_sigmoid(z)
    for out in (s, sp, ls):
        assert np.all(np.isfinite(out))
    assert np.all((s >= 0) & (s <= 1))
    assert sp[-1] == MAX and ls[0] == -MAX
    grid = np.linspace(-1e300, 1e300, 7).reshape(1, -1)
    assert np.isfinite(F.logsumexp(grid)).all()
    assert np.isfinite(F.softmax(grid)).all()
    assert np.isfinite(F.log_softmax(grid)).all()


def test_sigmoid_keeps_dtype_and_shape():
    z32 = np.linspace(-50, 50, 12, dtype=np.float32).reshape(3, 4)
    out = F.sigmoid(z32)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    assert F.softplus(z32).dtype == np.float32
    assert F.softmax(z32).dtype == np.float32
    assert F.log_softmax(z32).dtype == np.float32


# --- log-sum-exp family ---------------------------------------------------------------------


def test_logsumexp_matches_mpmath(rng, assert_ulps, strict):
    rows = np.vstack(
        [
            rng.normal(0, 10, size=(20, 5)) + 50.0,  # results well away from 0
            [[1000.0, 1000.0, 1000.0, 1000.0, 1000.0]],
            [[-1000.0, -1000.0, -999.0, -2000.0, -3000.0]],
            [[1e300, 0.0, -1e300, 5.0, 7.0]],
        ]
    )
    out = F.logsumexp(rows, axis=1)
    assert out.shape == (rows.shape[0],)
    for row, value in zip(rows, out):
        assert_ulps(value, mp_logsumexp(row), ulps=4, what=f"logsumexp({row})")
    assert out[-3] == pytest.approx(1000.0 + np.log(5.0), rel=2 * EPS)
    assert F.logsumexp(rows, axis=1, keepdims=True).shape == (rows.shape[0], 1)
    assert np.allclose(F.logsumexp(rows.T, axis=0), out, rtol=2 * EPS, atol=0)


def test_softmax_and_log_softmax_match_mpmath(rng, strict):
    z = rng.normal(0, 5, size=(30, 4))
    z[0] = [800.0, 0.0, -800.0, 1.0]
    z[1] = [40.0, 0.0, 0.0, 0.0]
    p = F.softmax(z)
    lp = F.log_softmax(z)
    worst_p = worst_lp = 0.0
    for i, row in enumerate(z):
        lse = mp_logsumexp(row)
        for j, v in enumerate(row):
            exact_lp = mp.mpf(float(v)) - lse
            exact_p = mp.exp(exact_lp)
            worst_lp = max(worst_lp, float(abs(lp[i, j] - exact_lp) / max(abs(exact_lp), 1)))
            if exact_p > 1e-300:
                worst_p = max(worst_p, float(abs(p[i, j] - exact_p) / exact_p))
    # exp(z - m) turns the rounding of z - m (|z - m| up to ~30 here) into a relative error
    # of |z - m| * eps in the probabilities; log_softmax has no such amplification.
    assert worst_p < 64 * EPS
    assert worst_lp < 8 * EPS
    assert np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=4 * EPS)
    assert p[0, 2] == 0.0 and lp[0, 2] == pytest.approx(-1600.0, rel=EPS)
    assert p[1, 1] == pytest.approx(np.exp(-40.0), rel=8 * EPS)


def test_softmax_axis_argument():
    z = np.arange(6.0).reshape(2, 3)
    assert np.allclose(F.softmax(z, axis=0).sum(axis=0), 1.0)
    assert np.allclose(F.softmax(z, axis=0), F.softmax(z.T, axis=1).T)
    assert np.allclose(F.log_softmax(z, axis=0), np.log(F.softmax(z, axis=0)))


# --- activations and their backward: argument order -----------------------------------------


def test_relu_backward_seed_003_mini_check():
    dz = np.array([10.0, 10.0, 10.0])
    z = np.array([-2.0, 0.0, 3.0])
    assert np.array_equal(F.relu_backward(dz, z), [0.0, 0.0, 10.0])
    # the swapped call relu_backward(z, dz) would give [-2, 0, 3]: the order matters
    assert np.array_equal(F.relu(z), [0.0, 0.0, 3.0])


def test_tanh_backward_takes_the_gradient_then_the_output():
    grad = np.array([3.0, 3.0, -2.0])
    y = np.tanh(np.array([0.0, 1.0, -0.5]))
    got = F.tanh_backward(grad, y)
    assert np.array_equal(got, grad * (1.0 - y * y))
    assert got[0] == 3.0  # at y = 0 the slope is 1; swapped arguments would give 0
    # from the output, not the input: tanh'(z) at z = 1 is 0.42, 1 - 1^2 is 0
    assert F.tanh_backward(np.ones(1), np.ones(1))[0] == 0.0


def test_leaky_relu_and_sigmoid_backward():
    z = np.array([-2.0, 0.0, 3.0])
    dz = np.array([10.0, 10.0, 10.0])
    assert np.allclose(F.leaky_relu(z, 0.1), [-0.2, 0.0, 3.0])
    assert np.allclose(F.leaky_relu_backward(dz, z, 0.1), [1.0, 1.0, 10.0])
    s = F.sigmoid(z)
    assert np.allclose(F.sigmoid_backward(dz, s), 10.0 * s * (1 - s))
    assert F.sigmoid_backward(np.array([1.0]), np.array([0.5]))[0] == 0.25


# --- one_hot --------------------------------------------------------------------------------


def test_one_hot_values_and_dtype():
    out = F.one_hot(np.array([2, 0, 1, 2]), 3)
    assert out.dtype == np.float64
    assert np.array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert F.one_hot(np.array([1.0, 0.0]), 2, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    ("labels", "n", "match"),
    [
        ([0, 3], 3, "label 3 is out of range"),
        ([-1, 0], 3, "label -1 is out of range"),
        ([0.5, 1.0], 3, "integers"),
        ([np.nan, 1.0], 3, "integers"),
        ([[0, 1]], 3, "1-D"),
        ([0, 1], 0, "n_classes"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, n, match):
    with pytest.raises(ValueError, match=match):
        F.one_hot(np.array(labels), n)


# --- properties -----------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@given(finite)
def test_sigmoid_range_and_symmetry(z):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, s_neg = F.sigmoid(np.array([z, -z]))
    assert 0.0 <= s <= 1.0
    if z > -745.0:
        assert s > 0.0
    if z < 36.0:
        assert s < 1.0
    # sigmoid(-z) = 1 - sigmoid(z); the two sides are computed independently, so they agree
    # to within an ulp of 1 (the right side loses its relative precision when s is tiny)
    assert abs(s_neg - (1.0 - s)) <= EPS


@given(moderate)
def test_softplus_identity_and_bounds(z):
    sp, sp_neg = F.softplus(np.array([z, -z]))
    assert sp >= max(z, 0.0)
    assert sp_neg >= 0.0
    # softplus(z) - softplus(-z) = z
    assert abs((sp - sp_neg) - z) <= 4 * EPS * max(abs(z), 1.0)


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=moderate))
def test_softmax_rows_are_distributions(z):
    p = F.softmax(z, axis=1)
    assert p.shape == z.shape
    assert np.all(p >= 0) and np.all(p <= 1)
    assert np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=z.shape[1] * EPS)
    lp = F.log_softmax(z, axis=1)
    assert np.all(lp <= 0)
    assert np.all(np.isfinite(lp))
    # monotone: a larger logit never gets a smaller probability
    order = np.argsort(z, axis=1, kind="stable")
    assert np.all(np.diff(np.take_along_axis(p, order, axis=1), axis=1) >= 0)


# --- hardening: integer and complex input, shapes, extreme ranges ---------------------------

FORWARD_OPS = [
    F.sigmoid,
    F.softplus,
    F.log_sigmoid,
    F.logsumexp,
    F.softmax,
    F.log_softmax,
    F.relu,
    F.leaky_relu,
    F.tanh,
]
BACKWARD_OPS = [F.sigmoid_backward, F.relu_backward, F.leaky_relu_backward, F.tanh_backward]


def test_integer_input_is_computed_in_float(strict):
    assert np.array_equal(F.softmax(np.array([1, 2], np.uint8)), F.softmax(np.array([1.0, 2.0])))
    assert F.sigmoid(np.uint8(3)) == pytest.approx(0.9525741268224334, rel=1e-15)
    assert F.sigmoid(np.array([-3], np.int8))[0] == pytest.approx(0.04742587317756678, rel=1e-14)
    assert F.softplus(np.array([200], np.uint8))[0] == 200.0


@pytest.mark.parametrize("op", FORWARD_OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint64, np.int64, np.bool_])
def test_every_op_gives_the_float64_answer_for_integers(op, dtype):
    values = np.array([[0, 1, 3, 100]]) if dtype != np.bool_ else np.array([[0, 1, 1, 0]])
    ints = values.astype(dtype)
    out = op(ints)
    assert out.dtype == np.float64
    assert np.array_equal(out, op(values.astype(np.float64)))


@pytest.mark.parametrize("op", FORWARD_OPS + [F.mean_no_overflow], ids=lambda f: f.__name__)
def test_complex_and_non_numeric_input_is_refused(op):
    with pytest.raises(TypeError, match="complex"):
        op(np.array([[1 + 2j, 0j]]))
    with pytest.raises(TypeError, match="dtype"):
        op(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="object"):
        op(np.array([[1.0, None]], dtype=object))


@pytest.mark.parametrize("op", BACKWARD_OPS, ids=lambda f: f.__name__)
def test_backward_refuses_mismatched_shapes_instead_of_broadcasting(op):
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        op(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match="no broadcasting"):
        op(np.ones((1, 4)), np.ones((5, 4)))
    with pytest.raises(TypeError, match="complex"):
        op(np.ones(2, complex), np.ones(2))
    out = op(np.ones((2, 3), np.float32), np.full((2, 3), 0.5, np.float32))
    assert out.shape == (2, 3) and out.dtype == np.float32


def test_log_softmax_keeps_the_log_sum_at_huge_logits(strict, assert_ulps):
    assert np.array_equal(F.log_softmax([[1e17, 1e17]]), [[-np.log(2), -np.log(2)]])
    assert np.array_equal(F.log_softmax([[-1e300] * 3]), [[-np.log(3)] * 3])
    row = np.array([1e17, 1e17 - 16.0, 1e17 + 16.0])  # exactly representable, spacing 16
    out = F.log_softmax(row)
    for i in range(3):  # absolute error: a log-probability near 0 is 0 - log(1 + tiny)
        exact = mp.mpf(row[i]) - mp_logsumexp(row)
        assert abs(mp.mpf(float(out[i])) - exact) <= 4 * EPS * max(1, abs(exact))
    # logsumexp: m + log(2) rounds to m at 1e17, the correctly rounded answer
    assert F.logsumexp(np.array([1e17, 1e17])) == 1e17
    assert_ulps(F.logsumexp(row), mp_logsumexp(row), ulps=1, what="logsumexp")


def test_softmax_family_with_a_spread_beyond_the_float_range(strict):
    row = np.array([[-MAX, MAX, 0.0, MAX]])
    assert np.array_equal(F.softmax(row), [[0.0, 0.5, 0.0, 0.5]])
    assert np.array_equal(F.log_softmax(row)[0, [1, 3]], [-np.log(2)] * 2)
    assert F.log_softmax(row)[0, 0] == -np.inf  # log of a probability below exp(-MAX)
    assert F.logsumexp(row)[0] == MAX
    big32 = np.finfo(np.float32).max
    out32 = F.softmax(np.array([[-big32, big32]], np.float32))
    assert out32.dtype == np.float32 and np.array_equal(out32, [[0.0, 1.0]])


# --- mean_no_overflow -----------------------------------------------------------------------


def test_mean_no_overflow_where_the_exact_mean_is_finite(strict, assert_ulps):
    assert F.mean_no_overflow([1e308, 1e308]) == 1e308
    assert F.mean_no_overflow([MAX, MAX, MAX]) == MAX
    values = np.array([MAX, MAX / 3, -1e307, 5.0])
    exact = mp.fsum(mp.mpf(float(v)) for v in values) / 4
    assert_ulps(F.mean_no_overflow(values), exact, ulps=4, what="mean")
    f32 = F.mean_no_overflow(np.array([3e38, 3e38], np.float32))
    assert f32.dtype == np.float32 and f32 == np.float32(3e38)


def test_mean_no_overflow_axis_dtype_and_non_finite_input():
    x = np.array([[1e308, 1e308], [1.0, 2.0]])
    assert np.array_equal(F.mean_no_overflow(x, axis=1), [1e308, 1.5])
    assert np.array_equal(F.mean_no_overflow(x, axis=0), [5e307, 5e307])
    assert F.mean_no_overflow(x, axis=1).shape == (2,)
    assert np.isnan(F.mean_no_overflow([1.0, np.nan]))
    assert F.mean_no_overflow([1.0, np.inf]) == np.inf
    assert F.mean_no_overflow(np.array([1, 2], np.uint8)) == 1.5
    with pytest.raises(ValueError, match="empty"):
        F.mean_no_overflow(np.array([]))


@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(-MAX, MAX)))
def test_mean_no_overflow_is_np_mean_when_that_is_finite_and_finite_otherwise(x):
    with np.errstate(over="ignore"):
        plain = np.mean(x)
    out = F.mean_no_overflow(x)
    assert np.isfinite(out)
    if np.isfinite(plain):
        assert out == plain  # the fast path: the same bits
    with np.errstate(over="ignore"):  # the bound may round up to inf near MAX
        assert abs(out) <= np.max(np.abs(x)) * (1 + x.size * EPS)  # rounding of the sum


# --- edge cases that once surfaced NumPy's own errors, or rounded a log-probability away ---


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_empty_rows_give_empty_results(op):
    for shape in [(3, 0), (0,), (2, 0, 4)]:
        z = np.zeros(shape, np.float32)
        axis = shape.index(0)
        out = op(z, axis=axis)
        assert out.shape == shape and out.dtype == np.float32


def test_logsumexp_of_an_empty_row_is_minus_infinity():
    out = F.logsumexp(np.zeros((2, 0)))
    assert out.shape == (2,) and np.all(out == -np.inf)
    assert F.logsumexp(np.zeros((2, 0)), keepdims=True).shape == (2, 1)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax, F.logsumexp])
@pytest.mark.parametrize(
    ("z", "axis", "error", "message"),
    [
        (np.float64(1.0), -1, ValueError, "got a single number"),
        (np.zeros(3), 1, ValueError, r"axis 1 is out of range for an array of shape \(3,\)"),
        (np.zeros((2, 3)), -3, ValueError, "axis -3 is out of range"),
        (np.zeros(3), 0.0, TypeError, "axis must be an integer"),
        (np.zeros(3), True, TypeError, "axis must be an integer"),
    ],
)
def test_a_bad_axis_is_named_by_the_function(op, z, axis, error, message):
    with pytest.raises(error, match=f"^{op.__name__}: {message}"):
        op(z, axis=axis)


def test_log_softmax_keeps_a_dominant_class_log_probability():
    # the true value is -log1p(e^-40) = -4.248354255291589e-18; log(1 + e^-40) rounds to 0
    tiny = -float(mp.log1p(mp.exp(-40)))
    out = F.log_softmax(np.array([[0.0, -40.0], [-40.0, 0.0]]))
    assert out[0, 0] == tiny and out[1, 1] == tiny
    assert out[0, 1] == -40.0 + tiny
    assert F.logsumexp(np.array([0.0, -40.0])) == -tiny
    out32 = F.log_softmax(np.array([[0.0, -20.0]], np.float32))
    assert out32.dtype == np.float32 and out32[0, 0] == np.float32(-float(mp.exp(-20)))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([1.5, 0.0], 3), ValueError, "labels must be integers; label 1.5 is not one"),
        (([np.nan], 3), ValueError, "labels must be integers; label nan is not one"),
        (([0], 2.5), TypeError, "n_classes must be an integer >= 1, got 2.5"),
        (([0], True), TypeError, "n_classes must be an integer >= 1, got True"),
        (([0], "3"), TypeError, "n_classes must be an integer"),
        (([0], 10**20), ValueError, r"a \(1, 100000000000000000000\) matrix of float64 does not"),
        (([0], 3, "no-such-type"), TypeError, "dtype must be a NumPy number type"),
        (([0], 3, np.complex128), TypeError, "dtype must be a real number type, got complex128"),
    ],
)
def test_one_hot_names_the_problem(args, error, message):
    labels, *rest = args
    with pytest.raises(error, match=f"^one_hot: {message}"):
        F.one_hot(np.array(labels), *rest)
