"""The estimators inside scikit-learn's tools, and with sparse and multilabel data."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from handgrad.estimators import MLPClassifier, MLPRegressor, _data

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _table(n=300, seed=0):
    """A table with a high-cardinality text column and two numeric ones; y depends on both."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    city = rng.integers(0, 60, n)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = ((city % 3 == 0) ^ (a + b > 0)).astype(int)
    return pd.DataFrame({"city": [f"c{c}" for c in city], "a": a, "b": b}), y


def test_column_transformer_with_a_sparse_one_hot_encoder():
    X, y = _table()
    encode = ColumnTransformer(
        [
            ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ("num", "passthrough", ["a", "b"]),
        ],
        sparse_threshold=1.0,
    )
    assert sp.issparse(encode.fit_transform(X))  # the estimator gets a sparse matrix
    model = make_pipeline(encode, MLPClassifier((32,), learning_rate_init=0.01, random_state=0))
    model.fit(X[:240], y[:240])
    assert model.score(X[:240], y[:240]) > 0.9
    dense = make_pipeline(
        ColumnTransformer(
            [
                ("city", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
                ("num", "passthrough", ["a", "b"]),
            ]  # fmt: skip
        ),
        MLPClassifier((32,), learning_rate_init=0.01, random_state=0),
    ).fit(X[:240], y[:240])
    np.testing.assert_allclose(
        model.predict_proba(X[240:]), dense.predict_proba(X[240:]), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_array"])
def test_sparse_x_trains_and_predicts_like_dense(solver, fmt):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 30)) * (rng.random((120, 30)) < 0.2)
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    Xs = getattr(sp, fmt)(X)
    a = MLPClassifier((8,), solver=solver, max_iter=30, random_state=0).fit(X, y)
    b = MLPClassifier((8,), solver=solver, max_iter=30, random_state=0).fit(Xs, y)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(b.predict(Xs), b.predict(X))
    np.testing.assert_allclose(b.predict_proba(Xs), b.predict_proba(X), rtol=1e-14)
    c = MLPClassifier((8,), solver="sgd", random_state=0) if solver != "lbfgs" else None
    if c is not None:
        c.partial_fit(Xs, y, classes=[0, 1])
        assert c.n_iter_ == 1


@pytest.mark.slow
def test_sparse_x_is_never_densified():
    """Dense, this X would take 20000 x 20000 x 8 bytes = 3.2 GB; training and prediction
    multiply its sparse rows (a batch of 200 rows densified was 32 MB)."""
    rng = np.random.default_rng(2)
    n = d = 20_000
    nnz = 40_000
    X = sp.csr_matrix(
        (rng.normal(size=nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))), shape=(n, d)
    )
    y = rng.random(n)
    tracemalloc.start()
    try:
        reg = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", max_iter=1, random_state=0)
        reg.fit(X, y).predict(X[:5000])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"  # measured: 5 MB (68 MB densifying batches)


@pytest.mark.slow
def test_grid_search_over_solver_and_learning_rate():
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=300, random_state=0)),
        {
            "mlpclassifier__solver": ["lbfgs", "sgd", "adam"],
            "mlpclassifier__learning_rate": ["constant", "invscaling", "adaptive"],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 9 and np.all(np.isfinite(scores))
    assert search.best_score_ > 0.9


def test_multilabel_fit_predict_proba_and_subset_accuracy():
    X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((32,), solver="lbfgs", max_iter=300, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 4) and not np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    subset = np.mean(np.all(clf.predict(X) == Y, axis=1))
    assert clf.score(X, Y) == subset > 0.9
    sgd = MLPClassifier((32,), solver="sgd", learning_rate_init=0.1, random_state=0)
    for _ in range(50):
        sgd.partial_fit(X, Y, classes=np.arange(4))
    assert sgd.score(X, Y) > 0.5 and sgd.predict(X).shape == Y.shape


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("hidden", [(8,), (), (6, 5)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_sparse_x_is_never_densified_and_trains_like_dense(
    solver, hidden, dtype, monkeypatch
):
    """Sparse X above the densify-once budget (here made small): the first layer multiplies
    its rows as they are (forward X W + b, gradient X^T G), as scikit-learn's MLPs do; the
    fit is the dense fit's to rounding, weighted or not, and prediction agrees."""
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(150, 40)) * (rng.random((150, 40)) < 0.1)).astype(dtype)
    y = (X[:, :6].sum(axis=1) > 0).astype(int)
    w = rng.uniform(0.5, 2.0, size=150)
    params = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = [MLPClassifier(**params).fit(X, y, sample_weight=s) for s in (None, w)]
        monkeypatch.setattr(_data, "DENSE_BUDGET", 100)  # 150 x 40 is above it
        for fmt in ("csr_matrix", "csr_array"):
            monkeypatch.setattr(getattr(sp, fmt), "toarray", _refuse_to_densify)
        Xs = sp.csr_matrix(X)
        fits = [MLPClassifier(**params).fit(Xs, y, sample_weight=s) for s in (None, w)]
    tol = 1e-9 if dtype == np.float64 else 2e-3
    for a, b in zip(dense, fits):
        assert b.coefs_[0].dtype == dtype
        for Wa, Wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_allclose(Wb, Wa, rtol=tol, atol=tol)
        np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=tol, atol=tol)
        proba = b.predict_proba(sp.csr_array(X))
        assert proba.dtype == dtype
        np.testing.assert_allclose(proba, a.predict_proba(X), rtol=tol, atol=tol)


def _refuse_to_densify(self, *args, **kwargs):
    raise AssertionError("sparse X was densified")


SPARSE_CASES = {
    "early stopping": (MLPClassifier, dict(solver="sgd", early_stopping=True), "binary"),
    "multilabel": (MLPClassifier, dict(solver="adam"), "multilabel"),
    "poisson lbfgs": (MLPRegressor, dict(loss="poisson", solver="lbfgs"), "counts"),
    "two outputs rmsprop": (MLPRegressor, dict(solver="rmsprop"), "two outputs"),
}


@pytest.mark.parametrize("case", SPARSE_CASES)
def test_the_sparse_first_layer_trains_every_kind_like_dense(case, monkeypatch):
    Estimator, params, kind = SPARSE_CASES[case]
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 30)) * (rng.random((120, 30)) < 0.15)
    y = {
        "binary": (X[:, :4].sum(axis=1) > 0).astype(int),
        "multilabel": np.column_stack([X[:, 0] > 0, X[:, 1] < 0, X[:, 2] != 0]).astype(int),
        "counts": rng.poisson(np.exp(X[:, 0])).astype(float),
        "two outputs": np.column_stack([X[:, 0] - X[:, 3], X[:, 1]]),
    }[kind]
    params = dict(params, hidden_layer_sizes=(7,), max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = Estimator(**params).fit(X, y)
        monkeypatch.setattr(_data, "DENSE_BUDGET", 0)
        monkeypatch.setattr(sp.csr_matrix, "toarray", _refuse_to_densify)
        fitted = Estimator(**params).fit(sp.csr_matrix(X), y)
    for Wa, Wb in zip(dense.coefs_ + dense.intercepts_, fitted.coefs_ + fitted.intercepts_):
        np.testing.assert_allclose(Wb, Wa, rtol=1e-9, atol=1e-12)
    if params.get("early_stopping"):
        np.testing.assert_allclose(fitted.validation_scores_, dense.validation_scores_)
    got = fitted.predict(sp.csr_matrix(X))
    expected = dense.predict(X)
    if kind in ("binary", "multilabel"):
        assert np.array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    if params["solver"] != "lbfgs" and not params.get("early_stopping"):
        before = [W.copy() for W in fitted.coefs_]
        fitted.partial_fit(sp.csr_matrix(X), y)
        assert fitted.n_iter_ == 1 and not np.array_equal(before[0], fitted.coefs_[0])
