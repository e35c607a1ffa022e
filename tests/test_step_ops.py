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
