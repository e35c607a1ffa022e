"""Prediction's fast paths give what the plain path gives, and keep scikit-learn's promises.

A plain float array skips ``validate_data`` (``BaseMLP._plain_input``): every method must
return the same bits as through it, and every input that is not plain must still meet
scikit-learn's own errors and warnings, word for word. The network runs through
``handgrad.nn.inference.infer(check_hidden=False)`` (activations in place, X checked once)
and ``predict_proba``'s softmax is computed in place: neither may write into the caller's
X, or keep rows of it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier, MLPRegressor, _data
from handgrad.estimators._base import BaseMLP, _forward
from handgrad.estimators._classifier import _softmax_in_place
from handgrad.nn import functional as F
from handgrad.nn._checks import NonFiniteError
from handgrad.nn.inference import infer
from handgrad.nn.layers import Linear, Module, ReLU, Sequential, Tanh


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:400]), y[:400]


def _fit(task: str, dtype, X, y, hidden=(16,), activation="relu"):
    params = dict(hidden_layer_sizes=hidden, activation=activation, max_iter=5, random_state=0)
    X = X.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "multiclass":
            return MLPClassifier(**params).fit(X, y)
        if task == "binary":
            return MLPClassifier(**params).fit(X, y > 4)
        if task == "multilabel":
            return MLPClassifier(**params).fit(X, np.column_stack([y > 4, y % 2 == 0]))
        if task == "poisson":
            return MLPRegressor(loss="poisson", **params).fit(X, y.astype(float))
        return MLPRegressor(**params).fit(X, y.astype(float))


def _methods(est) -> list[str]:
    if isinstance(est, MLPClassifier):
        return ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    return ["predict"]


def _inputs(X: np.ndarray, dtype) -> dict[str, np.ndarray]:
    X = X.astype(dtype)
    rng = np.random.default_rng(0)
    other = np.float32 if dtype == np.float64 else np.float64
    return {
        "C order": X,
        "F order": np.asfortranarray(X),
        "one row": X[:1],
        "every third row": X[::3],
        "other dtype": X.astype(other),
        "more rows than PREDICT_CHUNK": rng.normal(size=(5000, X.shape[1])).astype(dtype),
    }


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression", "poisson"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plain_arrays_give_the_bits_of_the_validated_path(digits, task, dtype, monkeypatch):
    X, y = digits
    est = _fit(task, dtype, X, y, hidden=(16, 8), activation="tanh" if task == "binary" else "relu")
    inputs = _inputs(X, dtype)
    fast = {(name, m): getattr(est, m)(Xn) for name, Xn in inputs.items() for m in _methods(est)}
    assert all(est._plain_input(Xn) for Xn in inputs.values())  # the fast path was taken
    monkeypatch.setattr(BaseMLP, "_plain_input", lambda self, X: False)
    for (name, m), got in fast.items():
        expected = getattr(est, m)(inputs[name])
        assert got.dtype == expected.dtype and got.shape == expected.shape, (name, m)
        assert np.array_equal(got, expected), (name, m)
        assert got.dtype.kind not in "fc" or got.dtype == dtype, (name, m)  # the model's dtype


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "leaky_relu"])
@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
def test_prediction_never_writes_into_x_and_keeps_no_rows(digits, activation, hidden):
    X, y = digits
    est = _fit("multiclass", np.float64, X, y, hidden=hidden, activation=activation)
    for name, Xn in _inputs(X, np.float64).items():
        before = Xn.copy()
        for m in _methods(est):
            getattr(est, m)(Xn)
            assert np.array_equal(Xn, before), (name, m)
    for layer in est.model_.layers:
        assert all(not isinstance(v, np.ndarray) for v in vars(layer).values()), layer


def test_predict_proba_is_the_softmax_of_the_logits_bit_for_bit(digits):
    X, y = digits
    est = _fit("multiclass", np.float64, X, y)
    z = est.decision_function(X)
    assert np.array_equal(est.predict_proba(X), F.softmax(z, axis=1))
    extreme = np.array([[1e308, -1e308, 0.0], [-5.0, -5.0, -5.0], [700.0, 710.0, -800.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        got = _softmax_in_place(extreme.copy())
    assert np.array_equal(got, F.softmax(extreme, axis=1))
    assert np.array_equal(got[0], [1.0, 0.0, 0.0]) and np.allclose(got.sum(axis=1), 1.0)


def _outcome(f, *args):
    """f(*args)'s (exception type and message, or None; warnings' categories and messages)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            f(*args)
            error = None
        except Exception as exc:  # noqa: BLE001 - compared with scikit-learn's as it is
            error = (type(exc).__name__, str(exc))
    return error, [(w.category.__name__, str(w.message)) for w in seen]


BAD_OR_NOT_PLAIN = {
    "NaN": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X),
    "inf": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X),
    "too few features": lambda X: X[:, :10],
    "no rows": lambda X: X[:0],
    "1-D": lambda X: X[0],
    "a list": lambda X: X[:3].tolist(),
    "int": lambda X: np.rint(X).astype(np.int64),
    "float16": lambda X: X.astype(np.float16),
    "big-endian": lambda X: X.astype(">f8"),
    "a DataFrame": lambda X: pd.DataFrame(X).add_prefix("f"),
    "sparse with NaN": lambda X: sp.csr_matrix(np.where(np.abs(X) > 2, np.nan, 0.0)),
}


@pytest.mark.parametrize("case", list(BAD_OR_NOT_PLAIN))
def test_inputs_that_are_not_plain_meet_scikit_learns_errors_and_warnings(digits, case):
    X, y = digits
    ours, theirs = MLPClassifier((8,), max_iter=3), SkClassifier((8,), max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y), theirs.fit(X, y)
    Xb = BAD_OR_NOT_PLAIN[case](X)
    for method in ("predict", "predict_proba"):
        got = _outcome(getattr(ours, method), Xb)
        assert got == _outcome(getattr(theirs, method), Xb), (case, method)


def test_a_model_fitted_with_feature_names_warns_on_a_plain_array_as_scikit_learns(digits):
    X, y = digits
    frame = pd.DataFrame(X).add_prefix("pixel_")
    ours, theirs = MLPClassifier((8,), max_iter=3), SkClassifier((8,), max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(frame, y), theirs.fit(frame, y)
    assert not ours._plain_input(X)
    for Xn in (X, X[:1], frame, frame[list(reversed(frame.columns))]):
        assert _outcome(ours.predict, Xn) == _outcome(theirs.predict, Xn)
    assert "fitted with feature names" in _outcome(ours.predict, X)[1][0][1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_predicted_in_many_chunks_are_the_rows_predicted_at_once(digits, dtype, monkeypatch):
    """Dense X goes in one chunk unless the widest layer's piece would pass DENSE_BUDGET
    values; with a budget of 200 values (5 rows of X's 64 columns), the pieces, put together, are
    the whole (to rounding: a BLAS may sum a product of another height in another order)."""
    X, y = digits
    est = _fit("multiclass", dtype, X, y)
    whole = {m: getattr(est, m)(X.astype(dtype)) for m in _methods(est)}
    monkeypatch.setattr(_data, "DENSE_BUDGET", 200)
    monkeypatch.setattr(_data, "PREDICT_CHUNK", 5)
    assert len(_data.chunks(len(X), width=64)) == -(-len(X) // 5)  # at least PREDICT_CHUNK rows
    assert len(_data.chunks(len(X), width=16)) == -(-len(X) // 12)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for m, expected in whole.items():
        got = getattr(est, m)(X.astype(dtype))
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if got.dtype.kind == "f":
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
        else:
            assert np.array_equal(got, expected)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", [(), (16,), (8, 8)], ids=str)
def test_the_estimators_forward_is_infer_bit_for_bit(digits, activation, dtype, hidden):
    """The estimators predict through ``infer(check_hidden=False)``: X checked once (the
    checked ``infer`` checks every Linear's input); the same operations, the same bits; a
    sparse X (its first layer a sparse product) the same values as dense."""
    X, y = digits
    est = _fit("multiclass", dtype, X, y, hidden=hidden, activation=activation)
    x = np.ascontiguousarray(X.astype(dtype))
    kept = x.copy()
    got = _forward(est.model_, x)
    assert got.dtype == dtype and np.array_equal(got, infer(est.model_, x))
    assert np.array_equal(got, infer(est.model_, x, check_hidden=False))
    assert np.array_equal(x, kept)  # X is never written, also with no hidden layer
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(_forward(est.model_, sp.csr_matrix(x)), got, rtol=tol, atol=tol)
    x[3, 5] = np.nan
    with pytest.raises(NonFiniteError, match="Linear input"):
        _forward(est.model_, x)
    with pytest.raises(NonFiniteError, match="X"):
        _forward(est.model_, sp.csr_matrix(x))


def test_infer_without_hidden_checks_checks_what_comes_from_outside_the_built_in_layers():
    """``check_hidden=False`` scans the model's input, an input reaching a Linear through
    activations only, and what a module of the user's returns; not what a Linear made."""
    rng = np.random.default_rng(0)
    first, second = Linear(3, 4, rng=rng), Linear(4, 2, rng=rng)
    x = rng.normal(size=(5, 3))
    nan_x = x.copy()
    nan_x[0, 0] = np.nan

    class Passing(Module):  # a module of the user's: its output is checked
        def forward(self, x):
            return x

        def backward(self, g):
            return g

    for model in (
        Sequential(first, ReLU(), second),
        Sequential(Tanh(), first, ReLU(), second),
        Sequential(first, Passing(), ReLU(), second),
    ):
        with pytest.raises(NonFiniteError, match="Linear input"):
            infer(model, nan_x, check_hidden=False)
        assert np.array_equal(infer(model, x, check_hidden=False), infer(model, x))
    # a NaN made inside (an inf weight times 0): the checked forward refuses it at the next
    # Linear; the unchecked one carries it to the outputs, which the caller checks
    first.weight.value[0, :] = np.inf
    zero_first = x.copy()
    zero_first[:, 0] = 0.0
    model = Sequential(first, ReLU(), second)
    mid = Sequential(first, Passing(), ReLU(), second)
    with np.errstate(invalid="ignore"):  # (0 * inf, wanted here)
        with pytest.raises(NonFiniteError, match="Linear input"):
            infer(model, zero_first)
        assert np.isnan(infer(model, zero_first, check_hidden=False)).all()
        with pytest.raises(NonFiniteError, match="Linear input"):
            infer(mid, zero_first, check_hidden=False)  # the user's module returned it


def test_an_overflow_inside_the_network_is_an_error_unless_an_activation_saturates_it():
    """From finite X: relu passes an infinity on (the outputs are not finite: predict says
    so); tanh saturates it to 1, its exact limit, which is predicted, as ``infer`` (whose
    next Linear sees the 1) and scikit-learn predict it."""
    X = np.random.default_rng(0).normal(size=(12, 3))
    huge = X.copy()
    huge[0] = 1e308
    for activation in ("relu", "tanh"):
        reg = MLPRegressor(hidden_layer_sizes=(4,), activation=activation, max_iter=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg.fit(X, X[:, 1])
        reg.coefs_[0][...] = 1.0  # a row of 1e308s sums to 3e308: inf in every hidden unit
        if activation == "tanh":
            expected = reg.coefs_[1].sum() + reg.intercepts_[1][0]  # tanh(inf) = 1
            with np.errstate(over="ignore"):  # (wanted here)
                assert reg.predict(huge)[0] == infer(reg.model_, huge)[0, 0]
            assert reg.predict(huge)[0] == pytest.approx(expected, rel=1e-12)
        else:
            with pytest.raises(ValueError, match="X is finite, but the network's values overflow"):
                reg.predict(huge)
