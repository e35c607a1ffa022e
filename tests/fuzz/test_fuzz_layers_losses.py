"""Fuzzing the layers' forward/backward and the losses with bad and extreme input.

Contract: a ValueError or TypeError (NonFiniteError is a ValueError) raised before any
parameter changes, or a finite result of the right shape and dtype that equals the math.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import handgrad as hg
from handgrad.nn import functional as F

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


budget = fuzzing.budget


DTYPES = ["float64", "float32", "float16", "int64", "uint8", "bool", "complex128", "object"]


@st.composite
def arrays_any(draw, max_dims=3, bound=None):
    """An array of any dtype and shape; floats may hold NaN/inf (unless bounded)."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=5))
    if dtype.kind == "O":
        return np.full(shape, None, dtype=object)
    elements = None
    if dtype.kind == "f":
        top = min(bound, float(np.finfo(dtype).max)) if bound else None
        width = 8 * dtype.itemsize
        elements = st.floats(-top, top, width=width) if top else st.floats(width=width)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def params_of(module):
    return [p.value.copy() for p in module.parameters()]


def unchanged(module, before) -> bool:
    return all(np.array_equal(a, p.value) for a, p in zip(before, module.parameters()))


@budget(25)
@given(x=arrays_any(bound=1e100), dtype=st.sampled_from([np.float64, np.float32]))
def test_linear_forward_cleanly_refuses_or_computes_x_w_plus_b(x, dtype):
    layer = hg.Linear(3, 2, seed=0, dtype=dtype)
    before = params_of(layer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow of 1e100 casts
            y = layer.forward(x)
    except (ValueError, TypeError) as exc:
        assert str(exc) and unchanged(layer, before)
        return
    assert y.shape == (x.shape[0], 2) and y.dtype == dtype
    xw = np.asarray(x, dtype=dtype).astype(np.float64)
    exact = xw @ layer.weight.value.astype(np.float64) + layer.bias.value
    # within the float range the result is x W + b; near its edge the float32 sums may
    # round to inf (no layer can do better than the format), so those entries are skipped
    inside = np.abs(exact) < np.finfo(dtype).max / 8
    rtol = 1e-3 if dtype == np.float32 else 1e-12
    assert np.allclose(y[inside], exact[inside], rtol=rtol, atol=1e-30)


def _tanh_net():
    model = hg.Sequential(hg.Linear(3, 4, seed=0), hg.ReLU(), hg.Linear(4, 2, seed=1), hg.Tanh())
    model.forward(np.ones((5, 3)))
    return model


def test_a_complex_gradient_is_refused_before_any_grad_changes():
    model = _tanh_net()
    grads = [p.grad.copy() for p in model.parameters()]
    with pytest.raises(TypeError, match="complex"):
        model.backward(np.ones((5, 2), dtype=complex))
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, model.parameters()))


@budget(25)
@given(g=arrays_any(bound=1e10))
def test_backward_refuses_wrong_gradients_before_touching_grads(g):
    model = _tanh_net()
    grads = [p.grad.copy() for p in model.parameters()]
    try:
        dx = model.backward(g)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        assert all(np.array_equal(a, p.grad) for a, p in zip(grads, model.parameters()))
        return
    assert g.shape == (5, 2)
    assert dx.shape == (5, 3) and np.all(np.isfinite(dx))


ACTIVATIONS = [hg.ReLU, hg.Tanh, hg.Sigmoid, hg.LeakyReLU, hg.Identity]


@budget(25)
@given(x=arrays_any(bound=1e300), act=st.sampled_from(ACTIVATIONS))
def test_activation_layers_refuse_complex_and_object_input(x, act):
    layer = act()
    try:
        y = layer.forward(x)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    assert x.dtype.kind not in "cO" or act is hg.Identity  # Identity passes anything through
    assert np.shape(y) == x.shape


LOSSES = [hg.MSELoss, hg.BCEWithLogitsLoss, hg.SoftmaxCrossEntropyLoss]


@budget(40)
@given(
    pred=arrays_any(max_dims=2, bound=1e150),
    target=arrays_any(max_dims=2, bound=1e150),
    loss_cls=st.sampled_from(LOSSES),
)
def test_losses_refuse_bad_input_or_return_a_finite_non_negative_loss(pred, target, loss_cls):
    loss = loss_cls()
    if np.asarray(pred).dtype in (np.float32, np.float16) and np.asarray(pred).size:
        # keep the exact loss inside the float range (a float32 error of 1e20 has no finite
        # square); means near the top of the range are tested in tests/nn/test_stability.py
        top = np.sqrt(np.finfo(pred.dtype).max / (4 * pred.size))
        pred = np.clip(pred, -top, top)
        if np.asarray(target).dtype.kind in "iuf":
            target = np.clip(target, -top, top)
    try:
        value = loss(pred, target)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    assert np.isfinite(value) and value >= 0
    grad = loss.backward()
    assert grad.shape == np.shape(pred) and np.all(np.isfinite(grad))


@budget(25)
@given(
    logits=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(2, 5)),
        elements=st.floats(-1e300, 1e300),
    ),
    data=st.data(),
)
def test_softmax_cross_entropy_on_extreme_logits_is_finite_and_matches_log_softmax(logits, data):
    n, k = logits.shape
    labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    loss = hg.SoftmaxCrossEntropyLoss()
    value = loss(logits, labels)
    assert np.isfinite(value) or value == np.inf  # -log p of a p below exp(-1e308)
    picked = -F.log_softmax(logits)[np.arange(n), labels]
    if np.all(np.isfinite(picked)):
        # log_softmax is accurate to a few ulps of 1 near 0 (it adds log(1 + tiny)); the loss
        # is more accurate there, so compare with an absolute tolerance too
        assert value == pytest.approx(float(np.mean(picked)), rel=1e-9, abs=1e-15)
