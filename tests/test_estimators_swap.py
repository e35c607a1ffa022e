"""Swapping scikit-learn's MLPs for handgrad's, continued: text X, long partial_fit streams,
memory-mapped models, the types of the loss attributes, output shapes per target kind,
sparse formats, the notebook repr, and searches in two processes. Each comparison runs the
same user code with both libraries (``both`` from test_estimators_practitioner)."""

from __future__ import annotations

import hashlib
import inspect
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import handgrad.estimators as hg_estimators
from handgrad.estimators import _solvers

from .test_estimators_practitioner import XD, YD, X, Y, both, iris_fit


def outcome(call):
    """("ok", shape) or (exception type, message) of ``call()``."""
    try:
        result = call()
    except Exception as exc:  # the type and words are what is compared
        return type(exc).__name__, str(exc)
    return "ok", np.shape(result)


# --- text X -----------------------------------------------------------------------------

TEXT_X = {
    "str": lambda: X.astype(str),
    "bytes": lambda: X.astype(bytes),
    "list of str": lambda: X.astype(str).tolist(),
    "object of numeric str": lambda: X.astype(str).astype(object),
    "object of numbers": lambda: X.astype(object),
    "pandas object columns": lambda: pd.DataFrame(X.astype(str).astype(object)),
    "pandas string columns": lambda: pd.DataFrame(X.astype(str)).astype("string"),
    "non-numeric str": lambda: np.full(X.shape, "a"),
}


@pytest.mark.parametrize("kind", list(TEXT_X))
def test_text_x_is_refused_for_prediction_as_in_scikit_learn(kind):
    """scikit-learn's fit converts numeric text (its dtype=(float64, float32)); its predict
    validates with dtype="numeric", which refuses arrays of str or bytes ("dtype='numeric'
    is not compatible with arrays of bytes/strings") but converts object arrays and pandas
    columns. The same in handgrad, for every prediction method."""
    Xt = TEXT_X[kind]()

    def scenario(C, R):
        fitted = iris_fit(C)
        seen = {"fit": outcome(lambda: iris_fit(C).fit(Xt, Y).n_features_in_)}
        for method in ("predict", "predict_proba", "predict_log_proba"):
            seen[method] = outcome(lambda m=method: getattr(fitted, m)(Xt))
        seen["score"] = outcome(lambda: fitted.score(Xt, Y))
        reg = R(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, XD[:150, 0])
        seen["regressor predict"] = outcome(lambda: reg.predict(Xt))
        return seen

    sk, hg = both(scenario)
    assert hg == sk
    refused = kind in ("str", "bytes", "list of str", "non-numeric str")
    assert (hg["predict"][0] == "ValueError") == refused
    if refused:
        assert "dtype='numeric' is not compatible with arrays of bytes/strings" in hg["predict"][1]


def test_text_x_that_prediction_accepts_predicts_as_the_numbers_do():
    m = iris_fit(hg_estimators.MLPClassifier)
    for kind in ("object of numeric str", "object of numbers", "pandas object columns"):
        assert np.array_equal(m.predict_proba(TEXT_X[kind]()), m.predict_proba(X)), kind
    for dtype in (np.float16, np.int64, bool):  # converted to float64, as before
        assert np.array_equal(
            m.predict_proba(X.astype(dtype)), m.predict_proba(X.astype(dtype).astype(float))
        )


# --- long partial_fit streams -----------------------------------------------------------


def _stream(calls: int):
    """A regressor after ``calls`` partial_fit calls of 500 rows in batches of 10 (50 steps
    a call), and each call's step losses."""
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(500, 3))
    ys = Xs @ [1.0, -2.0, 0.5]
    reg = hg_estimators.MLPRegressor(hidden_layer_sizes=(3,), batch_size=10, random_state=0)
    per_call = []
    for _ in range(calls):
        reg.partial_fit(Xs, ys)
        per_call.append(reg.history_.step_loss[-50:])
    return reg, per_call


def test_step_losses_of_a_partial_fit_stream_stay_bounded():
    kept = _solvers.STEP_LOSSES_KEPT
    calls = kept // 50 + 10  # past the bound
    reg, per_call = _stream(calls)
    everything = [v for call in per_call for v in call]
    assert len(everything) == 50 * calls > kept + 50
    # every step of the last call, and the `kept` steps before it: the most recent ones
    assert reg.history_.step_loss == everything[-(kept + 50) :]
    # loss_curve_ keeps one value per call (an epoch each), all of them, as scikit-learn's
    assert len(reg.loss_curve_) == reg.history_.epochs == calls
    # and a pickle stops growing with the stream
    longer, _ = _stream(calls + 5)
    assert len(pickle.dumps(longer)) - len(pickle.dumps(reg)) < 2000


def test_fit_keeps_every_step_loss():
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(500, 3))
    reg = hg_estimators.MLPRegressor(
        hidden_layer_sizes=(3,), batch_size=10, max_iter=25, tol=0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(Xs, Xs[:, 0])
    assert len(reg.history_.step_loss) == 25 * 50 > _solvers.STEP_LOSSES_KEPT


# --- joblib.load(mmap_mode="r") ---------------------------------------------------------


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_memory_mapped_model_continues_with_partial_fit(tmp_path, solver):
    """joblib.load(..., mmap_mode="r") gives read-only memory maps (shared by the processes
    that predict). scikit-learn's partial_fit then fails ("output array is read-only");
    handgrad's copies what training writes, takes exactly the original's steps, and never
    writes the file."""
    path = tmp_path / "model.joblib"
    m = iris_fit(hg_estimators.MLPClassifier, solver=solver)
    joblib.dump(m, path)
    digest = _digest(path)
    mapped = joblib.load(path, mmap_mode="r")
    assert isinstance(mapped.coefs_[0], np.memmap) and not mapped.coefs_[0].flags.writeable
    assert np.array_equal(mapped.predict_proba(X), m.predict_proba(X))  # no copy to predict
    assert isinstance(mapped.coefs_[0], np.memmap)
    for _ in range(2):
        m.partial_fit(X, Y)
        mapped.partial_fit(X, Y)
        for a, b in zip(m.coefs_ + m.intercepts_, mapped.coefs_ + mapped.intercepts_):
            assert np.array_equal(a, b)
    assert type(mapped.coefs_[0]) is np.ndarray and mapped.coefs_[0].flags.writeable
    linears = mapped.model_.layers[::2]
    assert all(lin.weight.value is W for lin, W in zip(linears, mapped.coefs_))
    assert _digest(path) == digest

    from sklearn.neural_network import MLPClassifier

    joblib.dump(iris_fit(MLPClassifier, solver=solver), path)
    with pytest.raises(ValueError, match="read-only"):  # scikit-learn's, for the record
        joblib.load(path, mmap_mode="r").partial_fit(X, Y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_memory_mapped_model_continues_with_warm_start(tmp_path, solver):
    path = tmp_path / "model.joblib"
    m = iris_fit(hg_estimators.MLPClassifier, solver=solver, warm_start=True)
    joblib.dump(m, path)
    digest = _digest(path)
    mapped = joblib.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(X, Y)
        mapped.fit(X, Y)
    for a, b in zip(m.coefs_ + m.intercepts_, mapped.coefs_ + mapped.intercepts_):
        assert np.array_equal(a, b)
    assert mapped.n_iter_ == m.n_iter_ and mapped.loss_curve_ == m.loss_curve_
    assert _digest(path) == digest


# --- attribute types, output shapes -----------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_loss_attributes_are_numpy_floats_as_in_scikit_learn(solver, tmp_path):
    """scikit-learn's loss_, best_loss_ and loss_curve_ values are np.float64 (code calls
    .item() or .round() on them); so are handgrad's, also after save/load."""

    def scenario(C, R):
        m = iris_fit(C, solver=solver)
        return {
            "loss_": type(m.loss_),
            "best_loss_": type(getattr(m, "best_loss_", None)) if solver != "lbfgs" else None,
            "curve": {type(v) for v in getattr(m, "loss_curve_", [])}
            if solver != "lbfgs"
            else None,
            "round": m.loss_.round(3) == round(float(m.loss_), 3),
        }

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["loss_"] is np.float64
    m = iris_fit(hg_estimators.MLPClassifier, solver=solver)
    assert type(m.best_loss_) is np.float64 and {type(v) for v in m.loss_curve_} == {np.float64}
    loaded = hg_estimators.MLPClassifier.load(m.save(tmp_path / "m.npz"))
    assert type(loaded.loss_) is np.float64 and loaded.loss_curve_ == m.loss_curve_
    assert {type(v) for v in loaded.loss_curve_} == {np.float64}


def test_output_shapes_and_attributes_per_kind_of_target():
    y_binary = (Y > 0).astype(int)
    targets = {
        "binary": y_binary,
        "multiclass": Y,
        "multilabel": np.c_[Y == 0, Y == 1, Y == 2].astype(int),
        "two labels": np.c_[y_binary, 1 - y_binary],
    }

    def scenario(C, R):
        seen = {}
        for kind, y in targets.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m = C((5,), max_iter=20, random_state=0).fit(X, y)
            for method in ("predict", "predict_proba", "predict_log_proba"):
                out = getattr(m, method)(X[:7])
                seen[kind, method] = (out.shape, out.dtype.kind)
            seen[kind] = (
                m.n_outputs_,
                m.out_activation_,
                m.n_layers_,
                m.classes_.tolist(),
                [W.shape for W in m.coefs_],
                [b.shape for b in m.intercepts_],
                type(m.score(X, y)).__name__,
            )
        for outputs in (1, 2):
            y = YD[:, None].repeat(outputs, axis=1) if outputs > 1 else YD
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                r = R(hidden_layer_sizes=(6, 3), max_iter=10, random_state=0).fit(XD, y)
            seen["regressor", outputs] = (
                r.predict(XD[:4]).shape,
                r.n_outputs_,
                r.n_layers_,
                r.out_activation_,
                [W.shape for W in r.coefs_],
                r.t_ == r.n_iter_ * len(XD),
            )
        return seen

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["binary", "predict_proba"] == ((7, 2), "f")
    assert hg["multilabel", "predict"] == ((7, 3), "i")


@pytest.mark.parametrize("fmt", ["coo", "lil", "dok", "bsr", "dia"])
def test_other_sparse_formats_are_converted_as_in_scikit_learn(fmt):
    Xs = sp.random(60, 8, density=0.3, format=fmt, random_state=0)
    y = np.arange(60) % 3

    def scenario(C, R):
        fit = outcome(lambda: C((5,), max_iter=5, random_state=0).fit(Xs, y).n_features_in_)
        m = C((5,), max_iter=5, random_state=0).fit(sp.csr_matrix(Xs), y)
        return {"fit": fit, "predict": outcome(lambda: m.predict_proba(Xs))}, m

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        (sk, _), (hg, m) = both(scenario)
    assert hg == sk == {"fit": ("ok", ()), "predict": ("ok", (60, 3))}
    assert np.array_equal(m.predict_proba(Xs), m.predict_proba(Xs.toarray()))


def test_the_notebook_repr_marks_a_fitted_estimator():
    def scenario(C, R):
        m = C((5,), max_iter=5, random_state=0)
        before = m._repr_html_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.fit(X, Y)
        after = m._repr_html_()
        return {
            "fitted shown": ("is-fitted-icon" in before, "is-fitted-icon" in after),
            "parameters": all(k in after for k in ("hidden_layer_sizes", "max_iter")),
            "mimebundle": sorted(m._repr_mimebundle_()),
        }

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["parameters"]


def test_partial_fit_with_classes_refuses_as_scikit_learn_does():
    def scenario(C, R):
        m = C((8,), random_state=0)
        seen = {"no classes": outcome(lambda: m.partial_fit(X[:10], Y[:10]))[0]}
        m.partial_fit(X[:50], Y[:50], classes=[0, 1, 2])
        seen["first"] = (m.n_iter_, m.t_, len(m.loss_curve_), m.classes_.tolist())
        m.partial_fit(X[50:], Y[50:])
        seen["second"] = (m.n_iter_, m.t_, len(m.loss_curve_))
        seen["unseen label"] = outcome(lambda: m.partial_fit(X[:5], [0, 1, 2, 3, 0]))[0]
        seen["other classes"] = outcome(lambda: m.partial_fit(X[:5], Y[:5], classes=[0, 1]))[0]
        seen["other width"] = outcome(lambda: m.partial_fit(X[:5, :3], Y[:5]))[0]
        seen["lbfgs"] = hasattr(C(solver="lbfgs"), "partial_fit")
        return seen

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["second"] == (1, 150, 2)


@pytest.mark.slow  # processes (n_jobs=2)
def test_a_randomized_search_on_a_pipeline_in_two_processes():
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def scenario(C, R):
        pipe = make_pipeline(
            StandardScaler(), C((8,), max_iter=100, learning_rate_init=0.02, random_state=0)
        )
        space = {
            "mlpclassifier__alpha": loguniform(1e-5, 1e-1),
            "mlpclassifier__hidden_layer_sizes": [(4,), (8,)],
        }
        search = RandomizedSearchCV(pipe, space, n_iter=4, cv=3, n_jobs=2, random_state=0)
        search.fit(X, Y)
        reg = make_pipeline(
            StandardScaler(),
            R(hidden_layer_sizes=(8,), max_iter=200, learning_rate_init=0.01, random_state=0),
        )
        scores = cross_val_score(reg, XD, YD, cv=3, n_jobs=2)
        best = search.best_estimator_[-1]
        return {
            "params": search.best_params_,
            "width": best.coefs_[0].shape,
            "keys": sorted(search.cv_results_),
            "type": type(best).__module__.split(".")[0],
            "scores": scores.shape,
            "q_search": search.best_score_,
            "q_cv": scores.mean(),
        }

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk, hg = both(scenario)
    assert hg["type"] == "handgrad" and sk["type"] == "sklearn"
    assert set(hg["params"]) == set(sk["params"])
    for key in ("keys", "scores"):
        assert hg[key] == sk[key]
    assert hg["width"] == (4, hg["params"]["mlpclassifier__hidden_layer_sizes"][0])
    assert hg["q_search"] > 0.8 and hg["q_cv"] > 0.2


def test_the_batch_size_warning_is_filtered_by_scikit_learns_words():
    def scenario(C, R):
        seen = {}
        for ignore in (False, True):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.simplefilter("ignore", ConvergenceWarning)
                if ignore:  # a regex matched at the start of the message, as users write it
                    warnings.filterwarnings("ignore", message="Got `batch_size` less than 1")
                C((5,), batch_size=500, max_iter=3, random_state=0).fit(X, Y)
            seen[ignore] = [w.category.__name__ for w in caught]
        return seen

    sk, hg = both(scenario)
    assert hg == sk == {False: ["UserWarning"], True: []}


# --- non-finite values ------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_fit_diverging_in_its_first_epoch_still_has_a_loss(solver):
    """scikit-learn raises; handgrad keeps the weights it had and warns (see "Differences"),
    and must then have every fitted attribute: loss_ is NaN (no epoch ended)."""
    reg = hg_estimators.MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=5)
    with pytest.warns(RuntimeWarning, match="training diverged at epoch 1"):
        reg.fit(XD, YD * 1e200)
    assert type(reg.loss_) is np.float64 and np.isnan(reg.loss_)
    assert reg.history_.stop_reason == "diverged" and reg.loss_curve_ == []
    assert np.all(np.isfinite(reg.predict(XD[:3])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(XD, YD)  # a good fit, then a new one that diverges: no stale loss_
    assert np.isfinite(reg.loss_)
    with pytest.warns(RuntimeWarning, match="training diverged at epoch 1"):
        reg.fit(XD, YD * 1e200)
    assert np.isnan(reg.loss_) and reg.loss_curve_ == []


def test_nan_in_x_under_assume_finite_is_named():
    """With scikit-learn's assume_finite=True, validation skips the finiteness check;
    scikit-learn then predicts NaN, handgrad's network refuses NaN: the error must say it is
    X, not claim that X is finite and the network overflowed."""
    import sklearn

    m = iris_fit(hg_estimators.MLPClassifier)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with sklearn.config_context(assume_finite=True):
        for given in (X_nan, X_nan.tolist(), sp.csr_matrix(X_nan), np.where(X > 7, np.inf, X)):
            with pytest.raises(ValueError, match=r"^Input X contains NaN or infinity\."):
                m.predict(given)
    with pytest.raises(ValueError, match=r"^Input X contains NaN\."):  # scikit-learn's own
        m.predict(X_nan)


def test_early_stopping_with_a_class_of_one_sample():
    """scikit-learn 1.9 stratifies the early-stopping split for two classes only (and then
    refuses a class of one sample); with more classes it does not stratify, so a class of
    one sample is fine. handgrad stratifies those when it can, and never refuses them."""
    y_multi = Y.copy()
    y_multi[0] = 3  # a fourth class, of one sample
    y_binary = np.ones_like(Y)
    y_binary[0] = 0

    def scenario(C, R):
        make = lambda: C((5,), max_iter=5, early_stopping=True, random_state=0)  # noqa: E731
        return {
            "multiclass": outcome(lambda: make().fit(X, y_multi).classes_),
            "multiclass, text": outcome(lambda: make().fit(X, y_multi.astype(str)).classes_),
            "binary": outcome(lambda: make().fit(X, y_binary))[0],
        }

    sk, hg = both(scenario)
    assert (
        hg
        == sk
        == {
            "multiclass": ("ok", (4,)),
            "multiclass, text": ("ok", (4,)),
            "binary": "ValueError",
        }
    )


@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array", "csc_matrix"])
def test_a_sparse_multilabel_target_predicts_sparse_as_in_scikit_learn(kind, tmp_path):
    from sklearn.datasets import make_multilabel_classification

    Xm, Ym = make_multilabel_classification(
        100, 6, n_classes=3, random_state=0, return_indicator="sparse"
    )
    y = getattr(sp, kind)(Ym)

    def scenario(C, R):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = C((5,), max_iter=5, random_state=0).fit(Xm, y)
        seen = {}
        for when in ("fit", "partial_fit"):
            labels = m.predict(Xm[:4])
            seen[when] = (type(labels).__name__, labels.format, labels.dtype, labels.shape)
            seen[when, "proba"] = type(m.predict_proba(Xm[:4])).__name__
            seen[when, "score"] = type(m.score(Xm, y)).__name__
            m.partial_fit(Xm, Ym.toarray())  # the output's kind was set by fit
        return seen, m

    (sk, _), (hg, m) = both(scenario)
    assert hg == sk
    assert hg["fit"] == ("csr_matrix", "csr", np.dtype(np.int64), (4, 3))
    dense = hg_estimators.MLPClassifier((5,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(Xm, Ym.toarray())
    assert isinstance(dense.predict(Xm), np.ndarray)
    loaded = hg_estimators.MLPClassifier.load(m.save(tmp_path / "m.npz"))
    assert (loaded.predict(Xm) != m.predict(Xm)).nnz == 0
    assert isinstance(loaded.predict(Xm), sp.csr_matrix)


def test_a_multiclass_multioutput_target_is_refused_in_scikit_learns_words():
    def scenario(C, R):
        return {
            kind: outcome(lambda y=y: C((5,), max_iter=3).fit(X, y))
            for kind, y in {"int": np.c_[Y, Y], "str": np.c_[Y, Y].astype(str)}.items()
        }

    sk, hg = both(scenario)
    for kind in sk:
        assert hg[kind][0] == sk[kind][0] == "ValueError"
        assert hg[kind][1].startswith(sk[kind][1])


def test_partial_fit_refusals_start_with_scikit_learns_words():
    import re

    def scenario(C, R):
        m = C((5,), random_state=0)
        seen = {"no classes": outcome(lambda: m.partial_fit(X, Y))}
        m.partial_fit(X[:50], Y[:50], classes=[0, 1, 2])
        seen["unseen label"] = outcome(lambda: m.partial_fit(X[:5], [0, 1, 2, 3, 0]))
        seen["other classes"] = outcome(lambda: m.partial_fit(X[:5], Y[:5], classes=[0, 1]))
        return seen

    sk, hg = both(scenario)
    for case, (kind, message) in sk.items():
        words = re.split(r"\.(?:\s|$)|, was", message)[0]  # scikit-learn's first sentence
        assert hg[case][0] == kind == "ValueError"
        assert hg[case][1].startswith(words), (case, words, hg[case][1])


# --- a minibatch whose weights are all zero -------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_minibatch_of_zero_weights_is_refused_in_scikit_learns_words(solver):
    """Rows in order, the first batches all of weight 0: both libraries raise
    ZeroDivisionError "Weights sum to zero, can't be normalized" (handgrad: then where and
    what to do; it said "float division by zero"), and handgrad's model keeps its last fit."""
    w = np.r_[np.zeros(60), np.ones(len(Y) - 60)]

    def scenario(C, R):
        seen = {}
        for name, E, target in (("clf", C, Y), ("reg", R, Y / 2.0)):
            model = E(hidden_layer_sizes=(5,), solver=solver, batch_size=30, shuffle=False)
            seen[name] = outcome(lambda m=model, t=target: m.fit(X, t, sample_weight=w))
            seen[name + " fitted"] = hasattr(model, "coefs_")
        return seen

    sk, ours = both(scenario)
    for name in ("clf", "reg"):
        assert sk[name][0] == ours[name][0] == "ZeroDivisionError"
        assert ours[name][1].startswith(sk[name][1]), (sk[name][1], ours[name][1])
        assert "batch of 30 has sample_weight 0" in ours[name][1]
        assert ours[name + " fitted"] is False  # (scikit-learn's keeps half-made coefs_)
    # after a good fit, the refused one leaves that fit's weights
    model = iris_fit(hg_estimators.MLPClassifier, batch_size=30, shuffle=False)
    before = [c.copy() for c in model.coefs_]
    with pytest.raises(ZeroDivisionError):
        model.fit(X, Y, sample_weight=w)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.coefs_))


def test_a_wrong_keyword_names_the_class_as_in_scikit_learn():
    """ "MLPClassifier.__init__() got an unexpected keyword argument ..." in both (handgrad's
    classifier said "BaseMLP.__init__()", the inherited constructor's name)."""

    def scenario(C, R):
        return {
            "classifier": outcome(lambda: C(hiden_layer_sizes=(3,))),
            "regressor": outcome(lambda: R(hiden_layer_sizes=(3,))),
            "classifier positional": outcome(lambda: C((3,), "relu", "adam")),
        }

    sk, ours = both(scenario)
    assert ours == sk
    assert ours["classifier"] == (
        "TypeError",
        "MLPClassifier.__init__() got an unexpected keyword argument 'hiden_layer_sizes'",
    )
    # one list of parameters: the classifier's constructor is the base's, renamed
    base = inspect.signature(hg_estimators._base.BaseMLP.__init__)
    assert inspect.signature(hg_estimators.MLPClassifier.__init__) == base
    assert hg_estimators.MLPClassifier(max_iter=7, dtype="float32").get_params() == dict(
        hg_estimators._base.BaseMLP(max_iter=7, dtype="float32").get_params()
    )
