"""NumPy's own BLAS for the fast step's SGD updates and its finiteness test of large
gradients (``handgrad.train.blas``): found where NumPy says it has an OpenBLAS, refused
when wrong, replaced by the NumPy expressions when absent; the same bits (and the same
verdicts) at any BLAS thread count; a few ulps from the reference step; the divergence
guard still refuses a non-finite gradient's step on a large layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn._checks import DOT_CHECK_MAX
from handgrad.train import blas
from handgrad.train.fast_updates import Update

threadpoolctl = pytest.importorskip("threadpoolctl")

EPS = {np.dtype(np.float64): np.finfo(np.float64).eps, np.dtype(np.float32): 2.0**-23}
LARGE = (blas.MIN_SIZE, 100_003, 200_704, (1 << 20) + 7)  # BLAS threads above 10^4 elements
DTYPES = (np.float64, np.float32)

SGDS = {
    "sgd": lambda ps: hg.SGD(ps, lr=0.05),
    "sgd_wd": lambda ps: hg.SGD(ps, lr=0.05, weight_decay=0.1),
    "momentum": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    "nesterov": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "nesterov_plain": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.5, nesterov=True),
}


def assert_ulps(actual, expected, scale, ulps: float):
    """|actual - expected| <= ulps * eps(dtype) * scale, elementwise."""
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    bound = ulps * EPS[actual.dtype] * scale
    assert np.all(err <= bound), f"off by up to {np.max(err / scale / EPS[actual.dtype]):.2f} ulps"


@pytest.fixture
def fresh_lookup(monkeypatch):
    """A lookup whose results (kernels, reason) are put back after the test."""
    monkeypatch.setattr(blas, "_KERNELS", {})
    monkeypatch.setattr(blas, "_WHY", blas._WHY)
    return monkeypatch


@pytest.fixture
def no_blas(monkeypatch):
    """The fallback forced: no BLAS kernels, as with a NumPy built without OpenBLAS."""
    monkeypatch.setattr(blas, "_KERNELS", {})


def _blas_threads() -> list[int]:
    """1, 2 and the most threads NumPy's BLAS has here (a pool cannot grow past its start:
    under OPENBLAS_NUM_THREADS=1 only 1, hence ``test_..._in_a_process_with_two_threads``)."""
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    most = max((i["num_threads"] for i in info), default=1)
    return sorted({1, min(2, most), most})


def _compare_thread_counts() -> None:
    """Every same-bits test below, in a process whose BLAS started with 2 threads."""
    counts = _blas_threads()
    assert counts[-1] >= 2, f"the BLAS has {counts[-1]} thread(s)"
    for dtype in DTYPES:
        test_axpy_and_scal_give_the_same_bits_at_any_blas_thread_count(dtype)
        test_fit_gives_the_same_bits_at_one_and_two_blas_threads(dtype)
        test_all_finite_says_the_same_at_any_blas_thread_count(dtype)
        for name in SGDS:
            test_sgd_updates_give_the_same_bits_at_any_blas_thread_count(name, dtype)
    print("same bits at BLAS threads", counts)


# --- found, checked, refused ------------------------------------------------------------------


def test_numpys_openblas_is_found_when_numpy_says_it_has_one():
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if "openblas" in str(config.get("name", "")).lower():
        assert set(blas._KERNELS) == {np.dtype(np.float64), np.dtype(np.float32)}
        assert blas.describe() == "NumPy's OpenBLAS (axpy, scal, asum)"
    else:  # another BLAS: the NumPy expressions, and the reason said
        assert not blas._KERNELS and "not an OpenBLAS" in blas.describe()


def test_another_blas_is_not_used(fresh_lookup):
    monkeypatch = fresh_lookup
    fake = {"Build Dependencies": {"blas": {"name": "accelerate", "found": True}}}
    monkeypatch.setattr(np, "show_config", lambda mode="stdout": fake)
    blas._find()
    assert not blas._KERNELS
    assert blas.describe().startswith("NumPy expressions") and "accelerate" in blas.describe()


def test_an_openblas_that_does_not_say_its_integer_width_is_not_used(fresh_lookup):
    monkeypatch = fresh_lookup
    fake = {"Build Dependencies": {"blas": {"name": "openblas", "found": True}}}
    monkeypatch.setattr(np, "show_config", lambda mode="stdout": fake)
    blas._find()
    assert not blas._KERNELS and "does not say its configuration" in blas.describe()


def _view(n, address):
    """The n float64 at ``address`` (what a fake kernel gets from ``blas``)."""
    return np.ctypeslib.as_array((np.ctypeslib.ctypes.c_double * n).from_address(address))


def _axpy(n, a, x, incx, y, incy):
    _view(n, y)[...] += a * _view(n, x)


def _scal(n, a, x, incx):
    _view(n, x)[...] *= a


def _asum(n, x, incx):
    return float(np.abs(_view(n, x)).sum())


def test_kernels_that_compute_wrong_results_are_refused(fresh_lookup):
    monkeypatch = fresh_lookup

    def wrong_axpy(n, a, x, incx, y, incy):  # forgets to add: leaves y as it was
        pass

    assert blas._works({np.dtype(np.float64): (_axpy, _scal, _asum)})
    fake = {np.dtype(np.float64): (wrong_axpy, _scal, _asum)}
    monkeypatch.setattr(blas, "_bind", lambda lib, names: fake)
    blas._find()
    assert not blas._KERNELS and "refused" in blas.describe()
    assert blas._works(fake) is False


def test_an_asum_that_loses_a_nan_or_an_inf_is_refused(fresh_lookup):
    """A sum of |x| that skips NaN (as a max-based or a NaN-ignoring kernel would) or
    saturates an inf could call a broken gradient finite: such a BLAS is not used."""
    monkeypatch = fresh_lookup

    def nan_blind_asum(n, x, incx):
        return float(np.nansum(np.abs(_view(n, x))))

    def saturating_asum(n, x, incx):
        return float(np.minimum(np.abs(_view(n, x)), 1e300).sum())

    for wrong in (nan_blind_asum, saturating_asum):
        fake = {np.dtype(np.float64): (_axpy, _scal, wrong)}
        monkeypatch.setattr(blas, "_bind", lambda lib, names, fake=fake: fake)
        blas._find()
        assert not blas._KERNELS and "refused" in blas.describe()


def test_a_missing_symbol_falls_back(fresh_lookup):
    monkeypatch = fresh_lookup
    monkeypatch.setattr(blas, "_names", lambda: ("no_such_prefix_", "", blas.ctypes.c_int64))
    blas._find()
    assert not blas._KERNELS and "not usable" in blas.describe()


# --- axpy and scal --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 37, blas.MIN_SIZE - 1, blas.MIN_SIZE, 100_003])
@pytest.mark.parametrize("forced_fallback", [False, True])
def test_axpy_is_y_plus_a_x_rounded_once_or_twice(monkeypatch, dtype, n, forced_fallback):
    if forced_fallback:
        monkeypatch.setattr(blas, "_KERNELS", {})
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal((2, n)).astype(dtype)
    a = -0.0371
    expected = y + a * x  # NumPy: a * x rounded, then the sum
    out = y.copy()
    blas.axpy(a, x, out, np.empty_like(y))
    if forced_fallback or n < blas.MIN_SIZE:
        assert np.array_equal(out, expected)  # the NumPy expression itself
    else:  # one rounding of the exact y + a x: within an ulp or two of NumPy's two
        assert_ulps(out, expected, np.maximum(np.abs(y), np.abs(a * x)), ulps=2.0)
        assert not np.array_equal(out, expected)  # really the fused kernel
    # a == 1: y + x exactly, whatever the route
    out = y.copy()
    blas.axpy(1.0, x, out, np.empty_like(y))
    assert np.array_equal(out, y + x)
    # scal: one product per element, the same bits either way
    out = x.copy()
    blas.scal(0.9, out)
    assert np.array_equal(out, x * dtype(0.9))


def test_zero_factors_and_odd_arrays_take_the_numpy_expression():
    n = 2 * blas.MIN_SIZE
    x = np.ones(n)
    x[5] = np.inf
    y = np.zeros(n)
    with np.errstate(invalid="ignore"):
        blas.axpy(0.0, x, y, np.empty(n))  # a BLAS skips a == 0; NumPy gives 0 * inf = NaN
        blas.scal(0.0, x)
    assert np.isnan(y[5]) and np.count_nonzero(np.isnan(y)) == 1
    assert np.isnan(x[5]) and np.count_nonzero(x[np.arange(n) != 5]) == 0
    # a strided view and a mixed dtype: the NumPy expression, right values
    big = np.arange(2 * n, dtype=np.float64)
    view = big[::2]
    blas.axpy(-0.5, np.ones(n), view, np.empty(n))
    assert np.array_equal(big[::2], np.arange(0, 2 * n, 2) - 0.5)
    assert np.array_equal(big[1::2], np.arange(1, 2 * n, 2))
    y32 = np.zeros(n, np.float32)
    blas.axpy(-0.5, np.ones(n), y32, np.empty(n, np.float32))
    assert np.all(y32 == -0.5)


def test_a_read_only_or_unaligned_array_is_never_written_by_the_blas():
    """The BLAS writes through memory NumPy calls read-only: such a y gets NumPy's own error
    and keeps its values; an unaligned one gets the NumPy expression's right values."""
    n = 2 * blas.MIN_SIZE
    y = np.zeros(n)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.axpy(-0.5, np.ones(n), y, np.empty(n))
    with pytest.raises(ValueError, match="read-only"):
        blas.scal(2.0, y)
    assert not y.any()
    raw = np.zeros(8 * n + 1, np.uint8)
    unaligned = raw[1:].view(np.float64)
    assert not unaligned.flags.aligned
    blas.axpy(-0.5, np.ones(n), unaligned, np.empty(n))
    assert np.all(unaligned == -0.5)


def test_fit_on_read_only_weights_fails_before_changing_any():
    """A model whose large weights are read-only: fit refuses as the reference path does,
    and no weight moved (the first update raises before it writes)."""
    model = hg.mlp([300, 200, 2], "relu", seed=0)
    before = [p.value.copy() for p in model.parameters()]
    for p in model.parameters():
        p.value.flags.writeable = False
    X = np.random.default_rng(0).standard_normal((64, 300))
    y = (X[:, 0] > 0).astype(np.int64)
    with pytest.raises(ValueError, match="read-only"):
        hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1), X, y,
               epochs=1, batch_size=32)  # fmt: skip
    for p, old in zip(model.parameters(), before):
        assert np.array_equal(p.value, old)


@pytest.mark.parametrize("dtype", DTYPES)
def test_axpy_and_scal_give_the_same_bits_at_any_blas_thread_count(dtype):
    runs = {}
    for count in _blas_threads():
        results = []
        with threadpoolctl.threadpool_limits(count, user_api="blas"):
            for n in LARGE:
                x = np.random.default_rng(n).standard_normal(n).astype(dtype)
                y = np.random.default_rng(n + 1).standard_normal(n).astype(dtype)
                blas.axpy(-0.0123, x, y, np.empty_like(y))
                blas.scal(0.77, y)
                results.append(y)
        runs[count] = results
    first = runs[1]
    for results in runs.values():
        assert all(np.array_equal(a, b) for a, b in zip(first, results))


# --- all_finite: the sum of |x| ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(DOT_CHECK_MAX + 1,), (300, 221), (784, 256), (100_003,)])
@pytest.mark.parametrize("forced_fallback", [False, True])
def test_all_finite_finds_every_nan_and_inf_and_accepts_huge_finite_values(
    monkeypatch, dtype, shape, forced_fallback
):
    if forced_fallback:
        monkeypatch.setattr(blas, "_KERNELS", {})
    rng = np.random.default_rng(len(shape) + shape[0])
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    n = flat.size
    assert blas.all_finite(x)
    places = {0, 1, 15, 16, 17, n // 3, n // 2, n - 33, n - 17, n - 2, n - 1}
    places |= set(rng.integers(0, n, 20).tolist())
    with np.errstate(over="ignore"):
        for where in places:
            kept = flat[where]
            for bad in (np.nan, np.inf, -np.inf):
                flat[where] = bad
                assert not blas.all_finite(x), (where, bad)
            flat[where] = kept
        assert blas.all_finite(x)
        flat[...] = np.finfo(dtype).max / 2  # finite, but every sum of two overflows
        assert blas.all_finite(x)
        flat[n // 2] = np.nan
        assert not blas.all_finite(x)


def test_all_finite_of_small_strided_and_unaligned_arrays_takes_the_engine_s_test():
    raw = np.zeros(8 * 2 * DOT_CHECK_MAX + 1, np.uint8)
    unaligned = raw[1:].view(np.float64)
    assert not unaligned.flags.aligned
    arrays = [
        np.ones(DOT_CHECK_MAX),  # small: the dot product's size
        np.ones(4 * DOT_CHECK_MAX)[::2],  # strided
        np.ones((4, 4 * DOT_CHECK_MAX)).T,  # Fortran order
        unaligned,
    ]
    for x in arrays:
        x[...] = 1.0
        assert blas.all_finite(x)
        x[(-1,) * x.ndim] = np.nan
        assert not blas.all_finite(x)
        x[(0,) * x.ndim] = np.inf
        x[(-1,) * x.ndim] = 1.0
        assert not blas.all_finite(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_finite_says_the_same_at_any_blas_thread_count(dtype):
    rng = np.random.default_rng(5)
    for count in _blas_threads():
        with threadpoolctl.threadpool_limits(count, user_api="blas"):
            for n in LARGE:
                x = rng.standard_normal(n).astype(dtype)
                assert blas.all_finite(x)
                for where in (0, n // 2 - 1, n // 2, n // 2 + 1, n - 1):
                    x[where] = np.nan
                    assert not blas.all_finite(x)
                    x[where] = 0.5


# --- the SGD updates ------------------------------------------------------------------------


def _params(dtype, rng) -> list[hg.Parameter]:
    """A large weight matrix (the BLAS), a bias and a small matrix (the NumPy expressions)."""
    shapes = [(300, 221), (221,), (30, 7)]
    params = [hg.Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
    params[1].regularize = False
    return params


def _run_update(name: str, dtype, steps: int = 6) -> tuple[list, list]:
    rng = np.random.default_rng(11)
    fast = _params(dtype, rng)
    ref = [hg.Parameter(p.value.copy(), p.name, p.regularize) for p in fast]
    fast_opt, ref_opt = SGDS[name](fast), SGDS[name](ref)
    update = Update(fast_opt)
    for _ in range(steps):
        for p, q in zip(fast, ref):
            p.grad[...] = q.grad[...] = rng.standard_normal(p.grad.shape)
        update.step()
        ref_opt.step()
    assert fast_opt.t == ref_opt.t == steps
    return [fast, fast_opt], [ref, ref_opt]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SGDS))
def test_sgd_updates_stay_within_a_few_ulps_of_the_reference(name, dtype):
    (fast, fast_opt), (ref, ref_opt) = _run_update(name, dtype)
    assert fast[0].value.size >= blas.MIN_SIZE > fast[2].value.size
    for p, q in zip(fast, ref):
        assert_ulps(p.value, q.value, np.maximum(np.abs(q.value), 1.0), ulps=8)
    if "velocity" in fast_opt.state[0]:
        for a, b in zip(fast_opt.state, ref_opt.state):
            v, w = a["velocity"], b["velocity"]
            assert_ulps(v, w, np.max(np.abs(w)), ulps=8)
    # the small parameters take the NumPy expressions: the reference's bits
    assert np.array_equal(fast[2].value, ref[2].value)
    assert np.array_equal(fast[1].value, ref[1].value)


@pytest.mark.parametrize("name", sorted(SGDS))
def test_sgd_updates_without_blas_are_the_reference_bit_for_bit(no_blas, name):
    (fast, fast_opt), (ref, ref_opt) = _run_update(name, np.float64)
    for p, q in zip(fast, ref):
        assert np.array_equal(p.value, q.value)
    for a, b in zip(fast_opt.state, ref_opt.state):
        assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SGDS))
def test_sgd_updates_give_the_same_bits_at_any_blas_thread_count(name, dtype):
    runs = []
    for count in _blas_threads():
        with threadpoolctl.threadpool_limits(count, user_api="blas"):
            (fast, opt), _ = _run_update(name, dtype, steps=3)
        runs.append([p.value for p in fast] + [a for s in opt.state for a in s.values()])
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(runs[0], run))


# --- whole trainings ------------------------------------------------------------------------


def _fit(dtype, fast: bool = True, momentum: float = 0.0):
    """Two epochs of an MLP whose first layer (120 x 300) takes the BLAS."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((96, 300)).astype(dtype)
    y = rng.integers(0, 3, 96)
    model = hg.mlp([300, 120, 3], "relu", seed=1, dtype=dtype)
    assert model.parameters()[0].value.size >= blas.MIN_SIZE
    opt = hg.SGD(model.parameters(), lr=0.05, momentum=momentum)
    loss = hg.SoftmaxCrossEntropyLoss()
    history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=32, seed=4, fast=fast)
    return history.step_loss, [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_gives_the_same_bits_at_one_and_two_blas_threads(dtype):
    runs = []
    for count in _blas_threads():
        with threadpoolctl.threadpool_limits(count, user_api="blas"):
            runs.append(_fit(dtype, momentum=0.9))
    for losses, weights in runs[1:]:
        assert losses == runs[0][0]
        assert all(np.array_equal(a, b) for a, b in zip(weights, runs[0][1]))


def test_fit_with_the_blas_stays_within_a_few_ulps_of_the_reference_path():
    fast_losses, fast_weights = _fit(np.float64, momentum=0.9)
    ref_losses, ref_weights = _fit(np.float64, fast=False, momentum=0.9)
    assert_ulps(np.array(fast_losses), np.array(ref_losses), np.array(ref_losses), ulps=64)
    for a, b in zip(fast_weights, ref_weights):
        assert_ulps(a, b, np.maximum(np.abs(b), 1.0), ulps=64)


@pytest.mark.parametrize("forced_fallback", [False, True])
def test_a_large_layers_infinite_gradient_is_refused(monkeypatch, forced_fallback):
    """x^T d overflows in a 200 x 200 layer (the BLAS's size): the step is not taken."""
    if forced_fallback:
        monkeypatch.setattr(blas, "_KERNELS", {})
    line = hg.Linear(200, 200, bias=False)
    assert line.weight.value.size >= blas.MIN_SIZE
    line.weight.value[...] = 1e-308
    X_big, y_far = np.full((4, 200), 1e308), np.full((4, 200), 1e5)
    with pytest.warns(RuntimeWarning, match="a gradient is not finite"):
        h = hg.fit(line, hg.MSELoss(), hg.SGD(line.parameters(), lr=0.1), X_big, y_far, epochs=1)
    assert h.stop_reason == "diverged"
    assert np.all(line.weight.value == 1e-308)


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: the BLAS keeps one thread")
def test_same_bits_at_one_and_two_blas_threads_in_a_process_with_two_threads():
    """The tests above compare thread counts up to the BLAS's count at start; under
    OPENBLAS_NUM_THREADS=1 (how the suite runs on CI) that is 1: run them in a child
    process started with 2."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    src = str(Path(hg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    code = "import test_blas; test_blas._compare_thread_counts()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same bits at BLAS threads [1, 2]" in done.stdout
