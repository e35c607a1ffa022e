"""Fuzzing the engine's argument checks: whatever the arguments (axes, label vectors, class
counts, dtypes, hyperparameters), a call either works or raises ValueError/TypeError in
handgrad's own words, its message starting with the function's or class's name, never an
error from inside NumPy. An optimizer that accepts its hyperparameters takes a finite step."""

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


def budget(n: int):
    return fuzzing.budget(n, deadline=None)


def own_error(who: str, call):
    """The call's result, or None after a ValueError/TypeError whose message names ``who``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return call()
    except (ValueError, TypeError) as exc:
        assert str(exc).startswith(f"{who}:"), f"{type(exc).__name__}: {exc}"
        return None


odd_values = (
    st.integers(-(2**70), 2**70)
    | st.floats()
    | st.booleans()
    | st.none()
    | st.text(max_size=3)
    | st.tuples(st.integers(-3, 3))
)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@budget(60)
@given(
    op=st.sampled_from([F.softmax, F.log_softmax, F.logsumexp]),
    z=hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int64]),
        shapes,
        elements=st.integers(-50, 50),
    ),
    axis=st.integers(-4, 4) | odd_values,
)
def test_rowwise_ops_work_or_name_the_problem(op, z, axis):
    out = own_error(op.__name__, lambda: op(z, axis=axis))
    if out is not None:
        assert np.all(np.isfinite(out) | (out == -np.inf))  # -inf: logsumexp of an empty row
        if op is F.softmax and z.size:
            assert np.allclose(np.sum(out, axis=axis), 1)


labels = hnp.arrays(
    st.sampled_from([np.int64, np.uint8, np.float64, np.float32, np.bool_, np.complex128]),
    hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5),
) | st.lists(odd_values, max_size=4).map(lambda v: np.array(v, dtype=object))


@budget(80)
@given(
    y=labels,
    n_classes=st.integers(-2, 6) | odd_values,
    dtype=st.sampled_from([np.float64, np.float32, np.int32, np.complex64, "f8", "nope", None]),
)
def test_one_hot_works_or_names_the_problem(y, n_classes, dtype):
    out = own_error("one_hot", lambda: F.one_hot(y, n_classes, dtype))
    if out is not None:
        assert out.shape == (y.shape[0], n_classes)
        assert np.array_equal(out.argmax(axis=1), y.astype(np.int64))
        assert np.all(out.sum(axis=1) == 1)


hyper = (
    st.floats(0, 2e6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-5, 10**7)
    | st.booleans()
    | st.none()
    | st.text(max_size=2)
)
OPTIMIZERS = {
    hg.SGD: ("lr", "momentum", "weight_decay"),
    hg.Adam: ("lr", "betas", "eps", "weight_decay"),
    hg.RMSProp: ("lr", "rho", "eps", "weight_decay"),
}


@budget(80)
@given(
    make=st.sampled_from(list(OPTIMIZERS)),
    data=st.data(),
    gradient=hnp.arrays(np.float64, (3, 2), elements=st.floats(-1e3, 1e3)),
)
def test_optimizers_refuse_bad_hyperparameters_or_take_a_finite_step(make, data, gradient):
    names = data.draw(st.lists(st.sampled_from(OPTIMIZERS[make]), unique=True, max_size=3))
    betas = st.tuples(hyper, hyper) | st.lists(hyper, max_size=3) | hyper
    kwargs = {name: data.draw(betas if name == "betas" else hyper, label=name) for name in names}
    layer = hg.Linear(3, 2, seed=0)
    opt = own_error(make.__name__, lambda: make(layer.parameters(), **kwargs))
    if opt is None:
        return
    layer.weight.grad[...] = gradient
    layer.bias.grad[...] = gradient[0]
    opt.step()
    assert all(np.all(np.isfinite(p.value)) for p in layer.parameters())


@pytest.mark.parametrize("make", list(OPTIMIZERS))
def test_the_fuzzed_names_are_the_optimizers_own(make):
    import inspect

    assert set(OPTIMIZERS[make]) <= set(inspect.signature(make).parameters)
