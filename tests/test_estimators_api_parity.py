"""The public surface of handgrad's MLPs against the installed scikit-learn's, compared by
introspection (not by a list written here, so a newer scikit-learn's additions show up):
every parameter with its default and kind, every public method with its signature, the
fitted attributes and their types per solver, the estimator tags, metadata routing; and
the differences found by that comparison (docs/estimators.md, "Differences")."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.neural_network as sk
from sklearn.exceptions import ConvergenceWarning

import handgrad.estimators as hg

from .test_estimators_as_sklearn import outcome
from .test_estimators_practitioner import X, Y, both

NAMES = ["MLPClassifier", "MLPRegressor"]
# what handgrad adds (docs/estimators.md, "extras"); everything else is scikit-learn's
EXTRA_METHODS = {
    "MLPClassifier": {"decision_function", "load", "model_", "save"},
    "MLPRegressor": {"load", "model_", "save"},
}
# scikit-learn's lbfgs fit sets none of these; handgrad's sets them for every solver
LBFGS_EXTRA = {"loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_"}


def _public(cls) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def _plain(signature: inspect.Signature) -> list[tuple]:
    """A signature without annotations: (name, kind, default) per parameter but self."""
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name != "self"]


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_has_scikit_learns_name_default_and_kind(name):
    theirs = inspect.signature(getattr(sk, name).__init__).parameters
    ours = inspect.signature(getattr(hg, name).__init__).parameters
    assert [p for p in ours if p not in theirs] == ["dtype"]  # handgrad's one extra, last
    assert list(ours)[: len(theirs)] == list(theirs)
    for key, p in theirs.items():
        assert (ours[key].default, ours[key].kind) == (p.default, p.kind), key


@pytest.mark.parametrize("name", NAMES)
def test_every_public_method_has_scikit_learns_signature(name):
    theirs, ours = getattr(sk, name), getattr(hg, name)
    assert _public(theirs) <= _public(ours)
    assert _public(ours) - _public(theirs) == EXTRA_METHODS[name]
    for method in sorted(_public(theirs)):
        a, b = getattr(theirs, method), getattr(ours, method)
        if callable(a):
            assert _plain(inspect.signature(a)) == _plain(inspect.signature(b)), method


@pytest.mark.parametrize("name", NAMES)
def test_metadata_routing_is_scikit_learns(name):
    assert str(getattr(hg, name)().get_metadata_routing()) == str(
        getattr(sk, name)().get_metadata_routing()
    )
    with sklearn.config_context(enable_metadata_routing=True):
        theirs = getattr(sk, name)().set_fit_request(sample_weight=True)
        ours = getattr(hg, name)().set_fit_request(sample_weight=True)
        theirs.set_score_request(sample_weight="w")
        ours.set_score_request(sample_weight="w")
        assert str(ours.get_metadata_routing()) == str(theirs.get_metadata_routing())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "params",
    [dict(solver="adam"), dict(solver="sgd", early_stopping=True), dict(solver="lbfgs")],
    ids=lambda p: "-".join(map(str, p.values())),
)
def test_the_fitted_attributes_are_scikit_learns_with_their_types(name, params):
    y = Y if name == "MLPClassifier" else X[:, 0]

    def scenario(C, R):
        est = (C if name == "MLPClassifier" else R)(
            hidden_layer_sizes=(5,), max_iter=5, random_state=0, **params
        ).fit(X, y)
        return {k: v for k, v in vars(est).items() if k.endswith("_") and k[0] != "_"}

    theirs, ours = both(scenario)
    lbfgs = params["solver"] == "lbfgs"
    extra = {"history_"} | LBFGS_EXTRA if lbfgs else {"history_", "batch_size_"}
    assert set(ours) - set(theirs) == extra
    assert set(theirs) <= set(ours)
    for key, value in theirs.items():
        assert type(ours[key]) is type(value), key
        if isinstance(value, list) and value:
            assert type(ours[key][0]) is type(value[0]), key
    for key in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_"):
        assert ours[key] == theirs[key]
    assert [W.shape for W in ours["coefs_"]] == [W.shape for W in theirs["coefs_"]]


def test_the_classifiers_tags_are_scikit_learns():
    assert hg.MLPClassifier().__sklearn_tags__() == sk.MLPClassifier().__sklearn_tags__()


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_the_regressors_tags_differ_only_where_documented(loss):
    """scikit-learn's MLPRegressor does not declare the several outputs it fits, nor that
    Poisson needs y >= 0; handgrad's declares both (so scikit-learn's common checks run its
    multi-output check and give Poisson non-negative targets)."""
    theirs = sk.MLPRegressor(loss=loss).__sklearn_tags__()
    ours = hg.MLPRegressor(loss=loss).__sklearn_tags__()
    assert (theirs.target_tags.multi_output, ours.target_tags.multi_output) == (False, True)
    positive = loss == "poisson"
    assert (theirs.target_tags.positive_only, ours.target_tags.positive_only) == (False, positive)
    ours.target_tags.multi_output = False
    ours.target_tags.positive_only = False
    assert ours == theirs


def test_a_sparse_y_for_the_regressor_is_refused_in_scikit_learns_words():
    """scikit-learn refuses a one-column sparse y so, and fails on a wider one with a
    LinAlgError; handgrad refuses both alike, before anything changes."""
    for columns in (1, 2):
        y = sp.csr_matrix(X[:, :columns])
        theirs, ours = both(lambda C, R, y=y: outcome(lambda: R(max_iter=2).fit(X, y)))
        assert ours[0] == "TypeError"
        assert ours[1].startswith("Sparse data was passed for y, but dense data is required")
        assert theirs == (ours if columns == 1 else ("LinAlgError", theirs[1]))
    est = hg.MLPRegressor(max_iter=2)
    with pytest.raises(TypeError, match="Sparse data was passed for y"):
        est.fit(X, sp.csr_matrix(X[:, :2]))
    assert not hasattr(est, "n_features_in_")


def test_labels_mixing_text_and_numbers_are_refused_clearly():
    y = np.array([1, "a"] * 75, dtype=object)
    theirs, ours = both(lambda C, R: outcome(lambda: C((5,), max_iter=2).fit(X, y)))
    assert theirs[0] == "TypeError"  # scikit-learn's MLP fails sorting them
    assert ours[0] == "ValueError"
    assert ours[1].startswith("Mix of label input types (string and number)")  # unique_labels'


def test_partial_fit_after_an_early_stopping_fit_continues():
    """scikit-learn's partial_fit after a fit with early stopping (then switched off) fails
    (a TypeError: best_loss_ is None); handgrad's trains the epoch, and best_loss_ stays None
    as it was (the early-stopping fit kept the validation record)."""

    def scenario(C, R):
        clf = C((5,), max_iter=3, random_state=0, early_stopping=True).fit(X, Y)
        clf.set_params(early_stopping=False)
        return outcome(lambda: clf.partial_fit(X, Y)), clf

    (theirs, _), ((kind, _), ours) = both(scenario)
    assert theirs[0] == "TypeError" and kind == "ok"
    assert (ours.n_iter_, len(ours.loss_curve_), ours.best_loss_) == (1, 4, None)
    assert len(ours.validation_scores_) == 3


@pytest.mark.parametrize("name", NAMES)
def test_convergence_warnings_come_when_scikit_learns_do(name):
    """Stochastic: when an epoch reaches max_iter (a fit, never a partial_fit); L-BFGS: when
    it stops before convergence; the same first words."""
    y = Y if name == "MLPClassifier" else X[:, 0]

    def scenario(C, R):
        E = C if name == "MLPClassifier" else R
        seen = []
        cases = [
            lambda: E(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y),
            lambda: E(hidden_layer_sizes=(5,), max_iter=1, random_state=0).fit(X, y),
            lambda: E(hidden_layer_sizes=(5,), max_iter=1, random_state=0).partial_fit(
                X, y, **({"classes": np.unique(Y)} if name == "MLPClassifier" else {})
            ),
            lambda: E(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=2, random_state=0).fit(
                X, y
            ),
            lambda: E(hidden_layer_sizes=(5,), solver="lbfgs", max_fun=3, random_state=0).fit(X, y),
        ]
        for case in cases:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                case()
            seen.append(
                [str(w.message)[:58] for w in caught if issubclass(w.category, ConvergenceWarning)]
            )
        return seen

    theirs = scenario(sk.MLPClassifier, sk.MLPRegressor)
    ours = scenario(hg.MLPClassifier, hg.MLPRegressor)
    assert ours == theirs
    assert [len(w) for w in ours] == [1, 1, 0, 1, 1]


def test_multilabel_log_probabilities_agree_with_the_probabilities_as_scikit_learns():
    """Where labels' probabilities round to 1.0 and tie, scikit-learn's argmax of
    predict_proba and of predict_log_proba (its log) take the same first label; handgrad's
    log is 0 there too (as for one label or several classes), and the exact log elsewhere."""
    from sklearn.datasets import make_multilabel_classification

    Xm, Ym = make_multilabel_classification(n_samples=50, random_state=0, return_indicator=True)
    clf = hg.MLPClassifier(solver="lbfgs", hidden_layer_sizes=30, random_state=0).fit(Xm, Ym)
    proba, log_proba = clf.predict_proba(Xm), clf.predict_log_proba(Xm)
    assert (proba == 1).sum() > 10  # ties at 1.0: the case in question
    assert np.array_equal(log_proba[proba == 1], np.zeros((proba == 1).sum()))
    assert np.array_equal(proba.argmax(axis=1), log_proba.argmax(axis=1))
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_and_partial_fit_count_as_scikit_learns(early_stopping):
    """A second fit with warm_start continues: n_iter_ counts the call's epochs, t_ every
    sample seen, loss_curve_ (and validation_scores_) every epoch; partial_fit after fit is
    one more epoch."""

    def scenario(C, R):
        clf = C((5,), max_iter=3, warm_start=True, early_stopping=early_stopping, random_state=0)
        clf.fit(X, Y)
        clf.fit(X, Y)
        seen = [clf.n_iter_, clf.t_, len(clf.loss_curve_), clf.best_loss_ is None]
        seen.append(None if clf.validation_scores_ is None else len(clf.validation_scores_))
        if not early_stopping:
            clf.partial_fit(X, Y)
            seen += [clf.n_iter_, clf.t_, len(clf.loss_curve_)]
        return seen

    theirs, ours = both(scenario)
    assert ours == theirs
    assert ours[:3] == ([3, 810, 6] if early_stopping else [3, 900, 6])
