"""Fuzzing the estimators: fit, partial_fit and predict with bad data and bad parameters.

Contract: a ValueError or TypeError, and the estimator exactly as it was (no fitted
attributes after a failed first fit, the same weights after a failed refit); or a fit whose
predictions are finite and of the right shape.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from handgrad.estimators import MLPClassifier, MLPRegressor

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


budget = fuzzing.budget


X_GOOD = np.random.default_rng(0).normal(size=(12, 3))
Y_CLASS = np.array([0, 1, 2] * 4)
Y_REG = X_GOOD @ np.array([1.0, -2.0, 0.5])

weird_floats = st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 0.0, 1.0])


@st.composite
def data_arrays(draw, rows=12):
    """X-like input: mostly fine, but with NaN, inf, odd shapes, dtypes or ragged lists."""
    kind = draw(st.sampled_from(["ok", "weird", "shape", "dtype", "list", "empty"]))
    if kind == "ok":
        return X_GOOD.copy()
    if kind == "weird":
        X = X_GOOD.copy()
        X[draw(st.integers(0, rows - 1)), draw(st.integers(0, 2))] = draw(weird_floats)
        return X
    if kind == "shape":
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=13))
        return np.ones(shape)
    if kind == "dtype":
        dtype = draw(st.sampled_from(["complex128", "U3", "object", "int8", "bool", "float16"]))
        return X_GOOD.astype(dtype) if dtype != "object" else np.full((rows, 3), None, object)
    if kind == "list":
        return [[1.0, 2.0, 3.0]] * (rows - 1) + [[1.0, 2.0]]
    return np.empty((0, 3))


@st.composite
def targets(draw, regression: bool):
    kind = draw(st.sampled_from(["ok", "weird", "length", "one-class", "2d", "strings"]))
    y = (Y_REG if regression else Y_CLASS).copy()
    if kind == "weird":
        y = y.astype(float)
        y[draw(st.integers(0, 11))] = draw(weird_floats)
    elif kind == "length":
        y = y[: draw(st.integers(0, 11))]
    elif kind == "one-class":
        y = np.zeros(12)
    elif kind == "2d":
        y = np.stack([y, y], axis=1)
    elif kind == "strings":
        y = np.array(list("abc") * 4)
    return y


PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "hidden_layer_sizes": st.sampled_from([(), (3,), (2, 2), (0,), -1, "x", (1.5,)]),
        "alpha": st.sampled_from([0.0, 1e-4, -1.0, np.nan, np.inf, "x"]),
        "batch_size": st.sampled_from(["auto", 1, 5, 100, 0, -3, 2.5]),
        "learning_rate_init": st.sampled_from([1e-3, 0.1, 0.0, -1.0, np.nan]),
        "early_stopping": st.booleans(),
        "validation_fraction": st.sampled_from([0.1, 0.3, 0.0, 1.0, 2.0]),
        "n_iter_no_change": st.sampled_from([1, 3, np.inf, 0, 1.5]),
        "solver": st.sampled_from(["adam", "sgd", "rmsprop", "lbfgs"]),
        "dtype": st.sampled_from(["float64", "float32", "float16", None]),
    },
)


def snapshot(est) -> dict:
    state = dict(vars(est))
    if hasattr(est, "model_"):
        state["_weights"] = [p.value.copy() for p in est.model_.parameters()]
    return state


def same(est, before: dict) -> bool:
    """Every attribute is the very object it was, and the weights hold the same values."""
    now = snapshot(est)
    if now.keys() != before.keys():
        return False
    if any(now[k] is not before[k] for k in before if k != "_weights"):
        return False
    if "_weights" in before:
        return all(np.array_equal(a, b) for a, b in zip(before["_weights"], now["_weights"]))
    return True


def check_fit(est, X, y):
    before = snapshot(est)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning, batch-size warnings, ...
            est.fit(X, y)
    except (ValueError, TypeError) as exc:
        assert str(exc) and same(est, before)
        return
    try:
        pred = est.predict(X)  # the data it accepted (its width may differ from X_GOOD's)
    except ValueError as exc:  # finite X whose activations overflow: refused by name
        if np.asarray(X).dtype.kind in "SU":  # numeric text: fit converts it, predict
            assert "not compatible with arrays of bytes/strings" in str(exc)  # refuses it,
        else:  # as scikit-learn's do
            assert "overflow the float range" in str(exc)
        return
    assert pred.shape[0] == np.shape(X)[0]
    if isinstance(est, MLPRegressor):
        assert np.all(np.isfinite(pred))
    else:
        assert set(np.unique(pred)) <= set(est.classes_.tolist())


@budget(25)
@given(X=data_arrays(), y=targets(regression=False), params=PARAMS, prefit=st.booleans())
def test_classifier_fit_refuses_cleanly_or_fits(X, y, params, prefit):
    est = MLPClassifier(max_iter=2, random_state=0, **params)
    if prefit:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X_GOOD, Y_CLASS)
        except (ValueError, TypeError):
            pass  # bad parameters: the refit below must fail the same clean way
    check_fit(est, X, y)


@budget(25)
@given(X=data_arrays(), y=targets(regression=True), params=PARAMS)
def test_regressor_fit_refuses_cleanly_or_fits(X, y, params):
    check_fit(MLPRegressor(max_iter=2, random_state=0, **params), X, y)


_FITTED = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _FITTED.fit(X_GOOD, Y_CLASS)


@budget(20)
@given(X=data_arrays())
def test_predict_refuses_cleanly_or_predicts(X):
    before = snapshot(_FITTED)
    try:
        proba = _FITTED.predict_proba(X)
    except (ValueError, TypeError) as exc:
        assert str(exc) and same(_FITTED, before)
        return
    assert proba.shape == (np.shape(X)[0], 3)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1)


@budget(25)
@given(
    X=data_arrays(),
    y=targets(regression=False),
    classes=st.sampled_from([None, [0, 1, 2], [0, 1], [1, 2, 3], ["a", "b", "c"]]),
)
def test_partial_fit_refuses_cleanly_or_steps(X, y, classes):
    est = MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X_GOOD, Y_CLASS, classes=[0, 1, 2])
    before = snapshot(est)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.partial_fit(X, y, classes=classes)
    except (ValueError, TypeError) as exc:
        assert str(exc) and same(est, before)
        return
    assert classes is None or sorted(classes) == [0, 1, 2]
    assert np.all(np.isfinite(est.predict_proba(X_GOOD)))
