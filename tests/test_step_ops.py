"""benchmarks/step_ops.py: a large-layer step's calls, one by one."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import step_ops  # noqa: E402


@pytest.mark.slow
def test_every_call_of_a_w2_step_is_timed_and_the_products_are_told_apart():
    medians = step_ops.step_ops("W2", "float32", steps=3)
    # three layers: 3 forward products, 3 weight gradients, 2 input gradients
    products = [k for k in medians if k.startswith(step_ops.PRODUCT)]
    assert len(products) == 8
    assert {"gather", "ReLU 0", "ReLU mask 1", "ReLU gradient 0", "finite? 0"} <= set(medians)
    assert "ReLU 2" not in medians and "finite? 2" not in medians  # the 128 x 10 layer's
    assert all(us > 0 for us in medians.values())


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-13), ("float32", 1e-5)])
def test_the_fused_update_is_the_same_sgd_step(dtype, tolerance):
    """One gemm W <- W - lr X^T G against the product, the check and y += a x: the same
    weights after 20 updates, to rounding (equal bits on OpenBLAS's Haswell kernels)."""
    if not step_ops.blas._KERNELS:
        pytest.skip(f"no CBLAS to call: {step_ops.blas.describe()}")
    times, difference = step_ops.fused("W1", dtype, steps=20)
    assert set(times) == {"gradient, check, update", "one gemm, beta = 1"}
    assert 0 <= difference <= tolerance
    assert np.isfinite(list(times.values())).all()


@pytest.mark.slow
def test_whole_steps_time_both_kinds_alternated():
    if not step_ops.blas._KERNELS:
        pytest.skip(f"no CBLAS to call: {step_ops.blas.describe()}")
    out = step_ops.whole_steps("W1", "float32", steps=4, clock="cpu")
    assert set(out) == {"as now", "first layer fused", "ratio"}
    assert out["as now"] > 0 and out["first layer fused"] > 0 and out["ratio"] > 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_certificate_vouches_only_for_a_surely_finite_product(dtype):
    if not step_ops.blas._KERNELS:
        pytest.skip(f"no CBLAS to call: {step_ops.blas.describe()}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 40)).astype(dtype)
    g = rng.standard_normal((16, 30)).astype(dtype)
    assert step_ops._certificate(x, g)
    big = dtype(2 * np.sqrt(np.finfo(dtype).max))
    huge_x, huge_g = x.copy(), g.copy()
    huge_x[3, 5], huge_g[3, 7] = big, big
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(huge_x.T @ huge_g).all()  # the product overflows at (5, 7)
    assert not step_ops._certificate(huge_x, huge_g)
    # finite factors whose product does not overflow, but too close for the bound to say
    near = x.copy()
    near[0, 0] = dtype(np.finfo(dtype).max / 1000)
    assert np.isfinite(near.T @ g).all()
    assert not step_ops._certificate(near, g)
    for bad in (np.nan, np.inf, -np.inf):
        poisoned = x.copy()
        poisoned[-1, -1] = bad
        assert not step_ops._certificate(poisoned, g)
        assert not step_ops._certificate(x, np.where(g == g[0, 0], bad, g).astype(dtype))
