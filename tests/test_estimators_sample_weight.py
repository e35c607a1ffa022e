"""sample_weight in fit, partial_fit and score; AdaBoost and metadata routing on top."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import AdaBoostClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier, MLPRegressor

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:Got `batch_size`"),  # (full batch on purpose)
]


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "params",
    [
        # (L-BFGS amplifies rounding: weights 1e-9 apart after 30 iterations, 1e-5 after 50)
        dict(solver="lbfgs", max_iter=30),
        dict(solver="sgd", batch_size=1000, max_iter=20, learning_rate_init=0.1),  # full batch
        dict(solver="adam", batch_size=1000, max_iter=20, learning_rate_init=0.01),
    ],
)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_weight_two_equals_a_duplicated_row(Estimator, params):
    X, y = _iris()
    y = y if Estimator is MLPClassifier else X[:, 0] - 2 * X[:, 1]
    X = X[:, 1:] if Estimator is MLPRegressor else X
    w = np.ones(len(X))
    w[::7] = 2.0
    rows = np.r_[np.arange(len(X)), np.arange(0, len(X), 7)]  # every 7th row twice
    common = dict(hidden_layer_sizes=(8,), shuffle=False, random_state=0, tol=0.0, **params)
    a = Estimator(**common).fit(X, y, sample_weight=w)
    b = Estimator(**common).fit(X[rows], y[rows])
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-7)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-7, atol=1e-10)


def test_zero_weights_ignore_rows_and_score_is_weighted():
    X, y = _iris()
    keep = np.arange(len(X)) % 3 != 0
    w = keep.astype(float)
    common = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0)
    a = MLPClassifier(**common).fit(X, y, sample_weight=w)
    b = MLPClassifier(**common).fit(X[keep], y[keep])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7, atol=1e-10)
    assert a.score(X, y, sample_weight=w) == pytest.approx(a.score(X[keep], y[keep]))


def test_partial_fit_takes_weights():
    X, y = _iris()
    w = np.where(y == 2, 3.0, 1.0)
    clf = MLPClassifier((8,), solver="sgd", shuffle=False, random_state=0)
    twin = MLPClassifier((8,), solver="sgd", shuffle=False, random_state=0)
    clf.partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
    twin.partial_fit(X, y, classes=[0, 1, 2])
    assert not np.allclose(clf.coefs_[0], twin.coefs_[0])
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        clf.partial_fit(X, y, sample_weight=-w)


def test_bad_weights_are_refused_before_anything_changes():
    X, y = _iris()
    clf = MLPClassifier((4,), max_iter=5, random_state=0)
    for w, match in [(np.ones(3), r"shape \(3,\)"), (np.zeros(len(X)), "sums to 0")]:
        with pytest.raises(ValueError, match=match):
            clf.fit(X, y, sample_weight=w)
        assert not hasattr(clf, "coefs_")


def test_adaboost_boosts_the_classifier():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    base = MLPClassifier((), solver="lbfgs", max_iter=3, random_state=0)  # a weak learner
    boost = AdaBoostClassifier(base, n_estimators=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        boost.fit(X[:400], y[:400])
    assert len(boost.estimators_) >= 2
    weights_differ = not np.allclose(boost.estimators_[0].coefs_[0], boost.estimators_[1].coefs_[0])
    assert weights_differ and boost.score(X[400:], y[400:]) > 0.9
    assert np.all(np.isfinite(boost.estimator_weights_[: len(boost.estimators_)]))


def test_metadata_routing_sends_sample_weight_to_fit():
    X, y = _iris()
    w = np.where(y == 0, 0.0, 1.0)  # class 0 weighs nothing
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MLPClassifier((8,), solver="lbfgs", max_iter=50, random_state=0)
        clf.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        search = GridSearchCV(
            make_pipeline(StandardScaler().set_fit_request(sample_weight=False), clf),
            {"mlpclassifier__alpha": [1e-4, 1e-2]},
            cv=3,
        )
        search.fit(X, y, sample_weight=w)
        routed = search.best_estimator_[-1]
        plain = MLPClassifier((8,), solver="lbfgs", max_iter=50, random_state=0,
                              alpha=routed.alpha)  # fmt: skip
        Xs = search.best_estimator_[0].transform(X)
        plain.fit(Xs, y, sample_weight=w)
    np.testing.assert_allclose(routed.predict_proba(Xs), plain.predict_proba(Xs), rtol=1e-7)
