"""Estimators at the edges: validation splits too small to mean anything, partial_fit's
classes, n_iter_no_change=inf, best_loss_ with early stopping, damaged estimator files."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import handgrad as hg
from handgrad.estimators import MLPClassifier, MLPRegressor, load_estimator
from handgrad.nn import load_with_metadata


def quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture
def blobs():
    return make_blobs(n_samples=60, centers=3, n_features=2, random_state=3)


# --- the early-stopping validation split ----------------------------------------------------


def test_two_samples_with_early_stopping_are_refused_not_validated_on_one():
    X = np.array([[0.0], [1.0]])
    clf = MLPClassifier(early_stopping=True, max_iter=5, random_state=0)
    with pytest.raises(
        ValueError,
        match=r"only 1 member.*too few members are: \['False', 'True'\] \(scikit-learn's "
        r"names for y's classes \[0, 1\]\)",
    ):
        clf.fit(X, np.array([0, 1]))
    reg = MLPRegressor(early_stopping=True, max_iter=5, random_state=0)
    with pytest.raises(ValueError, match="holds out 1 sample.*at least 2"):
        reg.fit(X, np.array([0.0, 1.0]))
    assert not hasattr(clf, "model_") and not hasattr(reg, "model_")


def test_a_one_member_class_is_refused_by_the_stratified_split():
    X = np.arange(40.0).reshape(20, 2)
    y = np.array(["a"] * 19 + ["b"])
    with pytest.raises(ValueError, match=r"too few members are: \['True'\] .*\['b'\].*stratified"):
        MLPClassifier(early_stopping=True, max_iter=5, random_state=0).fit(X, y)
    # without early stopping there is no split, and one member is fine
    quiet(MLPClassifier(max_iter=2, random_state=0), X, y)


def test_the_validation_split_is_stratified_and_at_least_two_rows(blobs):
    X, y = blobs
    clf = quiet(
        MLPClassifier(early_stopping=True, validation_fraction=0.1, max_iter=3, random_state=0),
        X,
        y,
    )
    assert len(clf.validation_scores_) == clf.n_iter_
    # 6 of 60 rows held out, 2 per class: every score is a multiple of 1/6
    assert all(abs(6 * s - round(6 * s)) < 1e-12 for s in clf.validation_scores_)


# --- partial_fit's classes ------------------------------------------------------------------


def test_partial_fit_refuses_other_classes_than_the_first_call():
    X = np.array([[3.0, 2.0], [1.0, 6.0]])
    clf = MLPClassifier(solver="sgd", random_state=0)
    clf.partial_fit(X, [0, 1], classes=[0, 1])
    before = [p.value.copy() for p in clf.model_.parameters()]
    with pytest.raises(ValueError, match=r"`classes=\[1, 2\]` is not the same .* \[0, 1\]"):
        clf.partial_fit(X, [1, 1], classes=[1, 2])
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X, [1, 1], classes=[0, 1, 2])
    assert all(np.array_equal(a, p.value) for a, p in zip(before, clf.model_.parameters()))
    clf.partial_fit(X, [1, 0], classes=[1, 0])  # the same set, in another order, is fine
    fitted = quiet(MLPClassifier(max_iter=2, random_state=0), X, ["x", "y"])
    with pytest.raises(ValueError, match="not the same"):
        fitted.partial_fit(X, ["x", "y"], classes=["x", "z"])


# --- stopping parameters --------------------------------------------------------------------


def test_n_iter_no_change_inf_never_stops_early(blobs, tmp_path):
    X, y = blobs
    clf = MLPClassifier(
        n_iter_no_change=np.inf, tol=1e9, max_iter=15, hidden_layer_sizes=(4,), random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.n_iter_ == 15 and clf.history_.stop_reason is None
    with pytest.warns(ConvergenceWarning):
        MLPRegressor(n_iter_no_change=math.inf, tol=1e9, max_iter=4, early_stopping=True).fit(
            X, y.astype(float)
        )
    loaded = MLPClassifier.load(clf.save(tmp_path / "inf.npz"))
    assert loaded.n_iter_no_change == math.inf
    meta = json.loads(str(np.load(tmp_path / "inf.npz")["__handgrad__"][()]))
    assert meta["metadata"]["params"]["n_iter_no_change"] is None  # strict JSON: inf is null
    for bad in (2.5, -np.inf, np.nan, 0):
        with pytest.raises(ValueError, match="n_iter_no_change"):
            MLPClassifier(n_iter_no_change=bad).fit(X, y)


def test_best_loss_is_none_with_early_stopping(blobs, tmp_path):
    X, y = blobs
    es = quiet(MLPClassifier(early_stopping=True, max_iter=5, random_state=0), X, y)
    assert es.best_loss_ is None
    assert es.best_validation_score_ == max(es.validation_scores_)
    assert MLPClassifier.load(es.save(tmp_path / "es.npz")).best_loss_ is None
    plain = quiet(MLPClassifier(max_iter=5, random_state=0), X, y)
    assert plain.best_loss_ == min(plain.loss_curve_)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None


# --- estimator files ------------------------------------------------------------------------


@pytest.fixture
def saved_classifier(blobs, tmp_path):
    X, y = blobs
    clf = quiet(MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0), X, y)
    return clf.save(tmp_path / "clf.npz"), X


def _with_estimator_meta(src, dst, change):
    """Rewrite the estimator metadata of a model file (the network stays as it was)."""
    model, meta = load_with_metadata(src)
    change(meta)
    hg.save(model, dst, metadata=meta)


REQUIRED = [
    "params",
    "n_features_in_",
    "feature_names_in_",
    "n_outputs_",
    "batch_size_",
    "history_",
    "validation_scores_",
    "classes_",
    "classes_dtype",
]


@pytest.mark.parametrize("key", REQUIRED)
def test_an_estimator_file_missing_a_key_names_it(saved_classifier, tmp_path, key):
    path, _ = saved_classifier
    bad = tmp_path / "missing.npz"
    _with_estimator_meta(path, bad, lambda m: m.pop(key))
    with pytest.raises(ValueError, match=f"missing.npz: its metadata has no '{key}'"):
        MLPClassifier.load(bad)
    with pytest.raises(ValueError, match=f"'{key}'"):
        load_estimator(bad)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda m: m.update(params=[1]), "invalid estimator metadata"),
        (lambda m: m["params"].update(bogus=1), "bogus"),
        (lambda m: m["params"].update(hidden_layer_sizes="x"), "must be an integer"),
        (lambda m: m.update(n_features_in_="2"), "n_features_in_ must be a positive integer"),
        (lambda m: m.update(n_features_in_=5), "does not map 5 features"),
        (lambda m: m.update(n_outputs_=1), "does not map 2 features to 1 outputs"),
        (lambda m: m.update(classes_=[0, 1, 2, 3]), "4 classes do not fit"),
        (lambda m: m.update(classes_dtype="V8"), "plain dtype"),
        (lambda m: m.update(classes_dtype="not a dtype"), "invalid estimator metadata"),
        (lambda m: m.update(history_={"nonsense": 1}), "nonsense"),
        (lambda m: m["history_"].update(epoch_loss="abc"), "list of numbers"),
        (lambda m: m.update(validation_scores_=3), "validation_scores_"),
        (lambda m: m.update(feature_names_in_=["a"]), "one name per feature"),
    ],
)
def test_an_estimator_file_with_bad_values_is_refused(saved_classifier, tmp_path, change, match):
    path, _ = saved_classifier
    bad = tmp_path / "bad.npz"
    _with_estimator_meta(path, bad, change)
    with pytest.raises(ValueError, match=match):
        MLPClassifier.load(bad)


def test_an_intact_estimator_file_still_loads(saved_classifier):
    path, X = saved_classifier
    loaded = MLPClassifier.load(path)
    assert loaded.predict(X).shape == (X.shape[0],)
    assert loaded.best_loss_ == min(loaded.loss_curve_)


def test_a_refused_split_leaves_the_callers_generator_untouched():
    gen = np.random.default_rng(5)
    state = gen.bit_generator.state
    X = np.arange(40.0).reshape(20, 2)
    y = np.array([0] * 19 + [1])
    with pytest.raises(ValueError, match="only 1"):
        MLPClassifier(early_stopping=True, random_state=gen, max_iter=2).fit(X, y)
    assert gen.bit_generator.state == state


def test_predict_on_finite_input_that_overflows_the_network_says_so():
    X = np.random.default_rng(0).normal(size=(12, 3))
    reg = quiet(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, X[:, 1])
    reg.model_[0].weight.value[...] = 1.0  # so that a row of 1e308s sums to 3e308
    huge = X.copy()
    huge[0] = 1e308
    with pytest.raises(ValueError, match="X is finite, but the network's values overflow"):
        reg.predict(huge)
    assert np.all(np.isfinite(reg.predict(X)))


# --- where handgrad differs from scikit-learn on purpose (docs/estimators.md lists why) -----


def test_x_near_the_largest_float_warns_and_keeps_finite_weights():
    """The defect of issue 22: a one-row probe raised NonFiniteError before training."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    for solver in ("adam", "sgd", "lbfgs"):
        reg = MLPRegressor(solver=solver, random_state=0)
        with pytest.warns(RuntimeWarning, match="diverged|no finite loss"):
            reg.fit(X, y)
        assert reg.history_.stop_reason == "diverged"
        assert all(np.isfinite(W).all() for W in reg.coefs_ + reg.intercepts_)
