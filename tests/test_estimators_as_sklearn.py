"""Where code written for scikit-learn relies on what its MLPs do, handgrad's do the same: a
classifier fitted on one class (a cross-validation fold can hold only one) predicts it;
``partial_fit`` with ``early_stopping=True`` is refused; the stratified split's refusal names
the lonely class as scikit-learn does. Each comparison runs the same user code with both
libraries (``both`` from test_estimators_practitioner)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score
from sklearn.utils.estimator_checks import check_estimator

from handgrad.estimators import MLPClassifier, MLPRegressor, _data, load_estimator

from .test_estimators_practitioner import X, Y, both

X10 = np.random.default_rng(0).normal(size=(10, 2))


def outcome(call):
    """("ok", result) or (exception type, message) of ``call()``."""
    try:
        return "ok", call()
    except Exception as exc:  # the type and words are what is compared
        return type(exc).__name__, str(exc)


# --- a classifier fitted on a single class ---------------------------------------------------


@pytest.mark.parametrize(
    "y", [np.ones(10, dtype=int), np.array(["spam"] * 10), np.full(10, -3)], ids=str
)
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="lbfgs"),
        dict(solver="sgd", early_stopping=True, validation_fraction=0.2),
    ],
    ids=lambda p: p["solver"],
)
def test_a_classifier_fitted_on_one_class_predicts_it_as_scikit_learns(y, params):
    def scenario(C, R):
        clf = C((5,), max_iter=5, random_state=0, **params).fit(X10, y)
        return {
            "classes_": clf.classes_.tolist(),
            "classes_ dtype": clf.classes_.dtype,
            "predict": clf.predict(X10).tolist(),
            "predict dtype": clf.predict(X10).dtype,
            "score": clf.score(X10, y),
            "n_outputs_": clf.n_outputs_,
            "out_activation_": clf.out_activation_,
            "validation_scores_": getattr(clf, "validation_scores_", None),
            "coefs_ shapes": [W.shape for W in clf.coefs_],
        }

    theirs, ours = both(scenario)
    assert ours == theirs
    assert ours["predict"] == [y[0]] * 10 and ours["score"] == 1.0


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize(
    "y", [np.ones(10, dtype=int), np.array(["spam"] * 10), np.ones(10, dtype=bool)], ids=str
)
def test_a_one_class_classifier_gives_scikit_learns_two_probability_columns(y, solver):
    """scikit-learn's predict_proba for one class: two columns (1 - p, p), p = sigmoid of the
    one logit, trained toward 0; classes_ holds the one class. Code that indexes
    ``predict_proba(X)[:, 1]`` (written for binary problems) runs on such a fold's model."""

    def scenario(C, R):
        clf = C((5,), max_iter=20, random_state=0, solver=solver).fit(X10, y)
        proba = clf.predict_proba(X10)
        return clf, {
            "classes_": clf.classes_.tolist(),
            "proba shape": proba.shape,
            "proba dtype": proba.dtype,
            "log shape": clf.predict_log_proba(X10).shape,
            "column 1": proba[:, 1].shape,
            "column 0 larger": bool(np.all(proba[:, 0] > proba[:, 1])),
            "rows sum to 1": bool(np.allclose(proba.sum(axis=1), 1.0)),
        }

    (theirs, seen_theirs), (ours, seen_ours) = both(scenario)
    assert seen_ours == seen_theirs
    assert seen_ours["proba shape"] == (10, 2) and seen_ours["classes_"] == [y[0]]
    # from scikit-learn's own weights, the same numbers (to rounding)
    ours.coefs_ = [W.copy() for W in theirs.coefs_]
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    np.testing.assert_allclose(
        ours.predict_proba(X10), theirs.predict_proba(X10), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        ours.predict_log_proba(X10), theirs.predict_log_proba(X10), rtol=1e-10
    )
    assert ours.predict(X10).tolist() == theirs.predict(X10).tolist() == [y[0]] * 10
    assert ours.decision_function(X10).shape == (10,)


def test_a_one_class_partial_fit_gives_two_probability_columns_as_scikit_learns():
    def scenario(C, R):
        clf = C((5,), random_state=0).partial_fit(X10, np.zeros(10, dtype=int), classes=[0])
        return clf.classes_.tolist(), clf.predict_proba(X10).shape

    theirs, ours = both(scenario)
    assert ours == theirs == ([0], (10, 2))


@pytest.mark.filterwarnings("ignore:Number of classes in training fold")  # (scikit-learn's)
def test_a_fold_with_one_class_is_cross_validated_like_any_other():
    """KFold without shuffling on sorted labels: each training fold holds one class."""
    y = np.repeat([0, 1], 5)
    folds = KFold(2)

    def scenario(C, R):
        clf = C((5,), max_iter=5, random_state=0)
        return {
            "predict": cross_val_predict(clf, X10, y, cv=folds).tolist(),
            "score": cross_val_score(clf, X10, y, cv=folds).tolist(),
            "predict_proba": outcome(
                lambda: cross_val_predict(clf, X10, y, cv=folds, method="predict_proba")
            ),
        }

    theirs, ours = both(scenario)
    # each fold predicts the class it saw, so every row is wrong: the same in both
    assert ours["predict"] == theirs["predict"] == [1] * 5 + [0] * 5
    assert ours["score"] == theirs["score"] == [0.0, 0.0]
    # two probability columns for a fold's one class: cross_val_predict refuses them, in
    # scikit-learn's words, in both
    assert ours["predict_proba"] == theirs["predict_proba"]
    assert ours["predict_proba"][0] == "ValueError"


def test_one_class_given_to_partial_fit_then_a_new_label_is_refused_as_in_scikit_learn():
    def scenario(C, R):
        clf = C((5,), random_state=0).partial_fit(X10, np.ones(10), classes=[1])
        return (
            clf.classes_.tolist(),
            clf.predict(X10).tolist(),
            outcome(lambda: clf.partial_fit(X10, np.r_[np.ones(9), 0]))[0],
        )

    theirs, ours = both(scenario)
    assert ours == theirs == ([1], [1] * 10, "ValueError")


def test_a_one_class_classifier_saves_and_loads(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((5,), max_iter=5, random_state=0).fit(X10, np.array(["a"] * 10))
    loaded = load_estimator(clf.save(tmp_path / "one.npz"))
    assert loaded.predict(X10).tolist() == ["a"] * 10
    assert np.array_equal(loaded.predict_proba(X10), clf.predict_proba(X10))
    assert loaded.predict_proba(X10).shape == (10, 2)


# --- partial_fit with early_stopping=True -----------------------------------------------------


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("after_fit", [False, True], ids=["first call", "after fit"])
def test_partial_fit_with_early_stopping_is_refused_as_in_scikit_learn(kind, after_fit):
    y = Y if kind == "classifier" else X[:, 0]
    extra = {"classes": np.unique(Y)} if kind == "classifier" else {}
    seen = {}

    def scenario(C, R):
        est = (C if kind == "classifier" else R)(
            hidden_layer_sizes=(5,), max_iter=5, random_state=0
        )
        est.set_params(early_stopping=True)
        if after_fit:
            est.fit(X, y)
        before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(est).items()}
        seen[type(est).__module__.partition(".")[0]] = (est, before)
        return outcome(lambda: est.partial_fit(X, y, **extra))

    theirs, ours = both(scenario)
    assert theirs[0] == ours[0] == "ValueError"
    assert ours[1].startswith(theirs[1]) and theirs[1].endswith("early_stopping=True")
    est, before = seen["handgrad"]
    assert vars(est).keys() == before.keys()  # nothing changed
    if after_fit:
        assert np.array_equal(est.coefs_[0], before["coefs_"][0])
        assert est.loss_curve_ == before["loss_curve_"]


# --- the stratified split's refusal ------------------------------------------------------------


@pytest.mark.parametrize(
    "y",
    [[0, 0, 0, 1], [0, 1, 1, 1], ["a", "a", "a", "b"], [False, True, True, True], [3, 7]],
    ids=str,
)
def test_a_lonely_class_is_named_as_scikit_learn_names_it(y):
    rows = X[: len(y)]
    theirs, ours = both(
        lambda C, R: outcome(lambda: C(early_stopping=True, random_state=0).fit(rows, y))
    )
    assert theirs[0] == ours[0] == "ValueError"
    assert ours[1].startswith(theirs[1])  # scikit-learn's words, then the user's labels
    classes = sorted(set(y))
    lonely = [c for c in classes if y.count(c) == 1]
    assert f"scikit-learn's names for y's classes {lonely}" in ours[1]


SPLITS = {  # (rows, y, kind): every refusal of the early-stopping split
    "one row": (1, [0], "classifier"),
    "one row, regression": (1, [0.5], "regressor"),
    "a validation row for two classes": (10, [0, 1] * 5, "classifier"),
    "one class of ten": (10, [1] * 10, "classifier"),
    "one validation row": (10, np.linspace(0, 1, 10), "regressor"),
}


@pytest.mark.parametrize("case", SPLITS)
def test_the_early_stopping_split_is_refused_in_scikit_learns_words(case):
    n, y, kind = SPLITS[case]
    rows = X[:n]

    def scenario(C, R):
        est = (C if kind == "classifier" else R)(early_stopping=True, random_state=0)
        return outcome(lambda: est.fit(rows, y))

    theirs, ours = both(scenario)
    assert theirs[0] == ours[0] == "ValueError"
    assert ours[1].startswith(theirs[1].rstrip(".")), (theirs, ours)


# --- scikit-learn's common checks with every sparse X on the sparse path ---------------------


@pytest.mark.slow  # (about 10 s each on a loaded machine)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_scikit_learns_checks_pass_with_sparse_x_never_densified(Estimator, monkeypatch):
    """The checks' sparse inputs are small, so they are densified once; with the budget at
    0, every one takes the sparse first layer instead."""
    monkeypatch.setattr(_data, "DENSE_BUDGET", 0)
    est = Estimator(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(est, on_fail=None)
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 60
