"""A practitioner swaps scikit-learn's MLPs for handgrad's: each test runs the same user code
with both libraries and checks that what the user sees is the same (shapes, dtypes, types,
attributes, warnings, errors), and that handgrad's numbers are right. What differs on
purpose is listed in docs/estimators.md, "Differences from scikit-learn"."""

from __future__ import annotations

import contextlib
import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import handgrad
import handgrad.estimators as hg_estimators

X, Y = load_iris(return_X_y=True)
XD, YD = load_diabetes(return_X_y=True)
YD = (YD - YD.mean()) / YD.std()


def libraries():
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return {
        "sklearn": (MLPClassifier, MLPRegressor),
        "handgrad": (hg_estimators.MLPClassifier, hg_estimators.MLPRegressor),
    }


def both(scenario):
    """scenario(MLPClassifier, MLPRegressor) run with each library: (scikit-learn's, ours)."""
    libs = libraries()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return scenario(*libs["sklearn"]), scenario(*libs["handgrad"])


def without_scores(observed: dict) -> dict:
    """What must be the same in both libraries: all but the scores (keys "q_..."), which
    differ with the random draws and are checked on handgrad's side alone."""
    return {k: v for k, v in observed.items() if not k.startswith("q_")}


def iris_fit(C, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return C((10,), max_iter=50, random_state=0, **kw).fit(X, Y)


def table():
    rng = np.random.default_rng(0)
    n = 240
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "flag": rng.integers(0, 2, n),
        }
    )
    y = np.where(df.age + 8 * (df.city == "rome") + rng.normal(0, 2, n) > 44, "yes", "no")
    return df, y


def table_pipeline(C, sparse=True):
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income", "flag"]),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=sparse), ["city"]),
        ]
    )
    mlp = C((16,), max_iter=300, learning_rate_init=0.01, random_state=0)
    return Pipeline([("prep", prep), ("mlp", mlp)])


# --- pipelines, data frames, feature names -------------------------------------------------


def test_a_column_transformer_pipeline_on_a_data_frame():
    def scenario(C, R):
        df, y = table()
        p = table_pipeline(C).fit(df, y)
        p_pandas = table_pipeline(C, sparse=False).set_output(transform="pandas").fit(df, y)
        return dict(
            classes=p.classes_.tolist(),
            classes_dtype=p.classes_.dtype.str,
            predicted=(p.predict(df).dtype.str, type(p.predict(df[:1])[0]).__name__),
            proba=p.predict_proba(df).shape,
            names=hasattr(p[-1], "feature_names_in_"),
            pandas_names=list(p_pandas[-1].feature_names_in_),
            score=p.score(df, y),
        )

    sk, hg = both(scenario)
    assert hg["pandas_names"][:3] == ["num__age", "num__income", "num__flag"]
    assert hg["score"] > 0.9  # the rule is learnable from age and city
    sk.pop("score"), hg.pop("score")
    assert hg == sk


def test_feature_names_warn_and_refuse_as_in_scikit_learn():
    def scenario(C, R):
        frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
        m = C((8,), max_iter=20, random_state=0).fit(frame, pd.Series(Y))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            m.predict(X)  # an array for a model fitted on named columns
        renamed = frame.rename(columns={"sl": "x"})
        with pytest.raises(ValueError, match="feature names") as refused:
            m.predict(renamed)
        return dict(
            names=m.feature_names_in_.tolist(),
            warned=[(w.category, str(w.message)) for w in seen],
            refused=str(refused.value).split("\n")[0],
        )

    sk, hg = both(scenario)
    assert hg["warned"] == [
        (
            UserWarning,
            "X does not have valid feature names, but MLPClassifier was fitted with feature names",
        )
    ]
    assert hg == sk


# --- parameters, clone, fitted or not ------------------------------------------------------


def test_clone_and_params_round_trip():
    def scenario(C, R):
        m = C((5, 3), activation="tanh", solver="sgd", random_state=1, early_stopping=True)
        params = m.get_params()
        out = dict(
            clone_same=clone(m).get_params() == params,
            set_same=C().set_params(**params).get_params() == params,
            html="MLPClassifier" in m._repr_html_(),
            kinds=(is_classifier(m), is_regressor(R())),
            nested=make_pipeline(StandardScaler(), m).get_params()[
                f"{type(m).__name__.lower()}__hidden_layer_sizes"
            ],
        )
        params.pop("dtype", None)  # handgrad's extra parameter
        out["names"] = sorted(params)
        return out

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["clone_same"] and hg["set_same"] and hg["nested"] == (5, 3)


def test_an_unfitted_estimator_raises_not_fitted_error():
    def scenario(C, R):
        raised = []
        for call in (
            lambda: C().predict(X),
            lambda: C().predict_proba(X),
            lambda: R().predict(XD),
            lambda: C().score(X, Y),
        ):
            with pytest.raises(NotFittedError) as err:
                call()
            raised.append(type(err.value))
        return raised

    sk, hg = both(scenario)
    assert hg == sk == [NotFittedError] * 4


@pytest.mark.parametrize(
    "bad",
    [
        dict(alpha=-1.0),
        dict(activation="softsign"),
        dict(batch_size=0),
        dict(max_iter=0),
        dict(momentum=2.0),
        dict(validation_fraction=1.0),
        dict(hidden_layer_sizes=(0,)),
        dict(hidden_layer_sizes="wide"),
        dict(random_state="zero"),
    ],
)
def test_a_bad_parameter_raises_what_scikit_learn_users_catch(bad):
    """scikit-learn raises InvalidParameterError, both a ValueError and a TypeError; code
    written for either catches handgrad's."""
    with pytest.raises(InvalidParameterError) as err:
        hg_estimators.MLPClassifier(**bad).fit(X, Y)
    assert isinstance(err.value, ValueError) and isinstance(err.value, TypeError)
    assert next(iter(bad)) in str(err.value) or "hidden layer" in str(err.value)


# --- labels and targets --------------------------------------------------------------------

LABELS = {
    "str": np.array(["setosa", "versicolor", "virginica"])[Y],
    "object str": np.array(["b", "a", "c"], dtype=object)[Y],
    "pandas categorical": pd.Series(pd.Categorical(np.array(["b", "a", "c"])[Y])),
    "pandas string": pd.Series(np.array(["b", "a", "c"])[Y], dtype="string"),
    "int": Y + 10,
    "negative int": Y - 1,
    "bool": Y > 0,
    "float": Y + 1.0,
    "list of str": list(np.array(["x", "y", "z"])[Y]),
}


@pytest.mark.parametrize("kind", LABELS)
def test_class_labels_come_back_as_scikit_learn_returns_them(kind):
    y = LABELS[kind]

    def scenario(C, R):
        m = C((10,), max_iter=30, random_state=0).fit(X, y)
        predicted = m.predict(X[:3])
        return dict(
            classes=m.classes_.tolist(),
            dtype=m.classes_.dtype.str,
            predicted=(predicted.dtype.str, type(predicted[0])),
            proba=m.predict_proba(X[:3]).shape,
        )

    sk, hg = both(scenario)
    assert hg == sk


def test_mixed_label_types_are_refused_as_in_scikit_learn():
    y = np.array(["a", 1, "b"], dtype=object)[Y]
    for C, _ in libraries().values():
        with pytest.raises(TypeError):
            C((4,), max_iter=2).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_multilabel_and_multioutput_shapes():
    def scenario(C, R):
        Xm, Ym = make_multilabel_classification(120, 8, n_classes=4, random_state=0)
        m = C((16,), max_iter=100, random_state=0).fit(Xm, Ym)
        r = R(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
        r.fit(XD, np.c_[YD, -YD, YD**2])
        r1 = R(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(XD, YD[:, None])
        rdf = R(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
        rdf.fit(pd.DataFrame(XD), pd.DataFrame({"a": YD, "b": -YD}))
        return dict(
            classes=m.classes_.tolist(),
            predicted=(m.predict(Xm).shape, m.predict(Xm).dtype.kind),
            proba=m.predict_proba(Xm).shape,
            ml=(m.n_outputs_, m.out_activation_),
            reg=(r.predict(XD).shape, r.n_outputs_, r.out_activation_),
            column=r1.predict(XD).shape,
            frame=rdf.predict(XD).shape,
        )

    sk, hg = both(scenario)
    assert hg == sk


# --- training behaviour --------------------------------------------------------------------


def test_attributes_after_fit_have_scikit_learn_types_and_shapes():
    def scenario(C, R):
        out = {}
        for solver in ("adam", "sgd"):
            m = iris_fit(C, solver=solver)
            out[solver] = dict(
                curve=(len(m.loss_curve_), all(isinstance(v, float) for v in m.loss_curve_)),
                loss=(isinstance(m.loss_, float), m.loss_ == m.loss_curve_[-1]),
                best=(isinstance(m.best_loss_, float), m.best_loss_ == min(m.loss_curve_)),
                validation=(m.validation_scores_, m.best_validation_score_),
                counts=(m.n_iter_, m.t_, type(m.n_iter_), type(m.t_)),
                shapes=[w.shape for w in m.coefs_] + [b.shape for b in m.intercepts_],
                net=(m.n_layers_, m.n_outputs_, m.out_activation_, m.n_features_in_),
            )
        b = C((4,), max_iter=20, random_state=0).fit(X[Y < 2], Y[Y < 2])
        r = R(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(XD, YD)
        out["binary"] = (b.n_outputs_, b.out_activation_, b.predict_proba(X[:2]).shape)
        out["regressor"] = (r.n_outputs_, r.out_activation_, r.n_layers_, r.predict(XD).shape)
        return out

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["adam"]["counts"] == (50, 50 * 150, int, int)


def test_early_stopping_attributes():
    def scenario(C, R):
        m = C((10,), max_iter=300, random_state=0, early_stopping=True, n_iter_no_change=5)
        m.fit(StandardScaler().fit_transform(X), np.array(["a", "b", "c"])[Y])
        return dict(
            lengths=len(m.validation_scores_) == len(m.loss_curve_) == m.n_iter_,
            best=m.best_validation_score_ == max(m.validation_scores_),
            best_loss=m.best_loss_,
            stopped=m.n_iter_ < 300,
            types=(type(m.validation_scores_), type(m.best_validation_score_)),
            training_rows=m.t_ / m.n_iter_,  # the split's size: 150 - ceil(0.1 * 150)
        )

    sk, hg = both(scenario)
    assert hg == sk
    assert hg == dict(
        lengths=True,
        best=True,
        best_loss=None,
        stopped=True,
        types=(list, float),
        training_rows=135,
    )


def test_warm_start_and_partial_fit_count_as_in_scikit_learn():
    def scenario(C, R):
        m = C((10,), max_iter=10, random_state=0, warm_start=True).fit(X, Y)
        first = (m.n_iter_, len(m.loss_curve_), m.t_)
        m.fit(X, Y)
        second = (m.n_iter_, len(m.loss_curve_), m.t_)
        p = C((10,), random_state=0)
        with pytest.raises(ValueError):
            p.partial_fit(X[:30], Y[:30])  # classes are needed on the first call
        order = np.random.default_rng(0).permutation(150)
        for part in np.array_split(order, 5):
            p.partial_fit(X[part], Y[part], classes=[0, 1, 2])
        with pytest.raises(ValueError):
            p.partial_fit(X[:5], np.array([0, 1, 2, 3, 3]))  # a label never announced
        r = R(hidden_layer_sizes=(10,), random_state=0)
        r.partial_fit(XD[:50], YD[:50])
        return dict(
            warm=(first, second),
            partial=(p.n_iter_, p.t_, len(p.loss_curve_), p.classes_.tolist()),
            regressor=(r.n_iter_, r.t_),
            lbfgs_partial=hasattr(C(solver="lbfgs"), "partial_fit"),
        )

    sk, hg = both(scenario)
    assert hg == sk
    assert hg["warm"] == ((10, 10, 1500), (10, 20, 3000))


@pytest.mark.parametrize(
    "flt",
    [
        dict(category=ConvergenceWarning),
        dict(message="Stochastic Optimizer"),
        dict(message="lbfgs failed to converge"),
        dict(message="Stochastic Optimizer: Maximum iterations"),
    ],
)
def test_users_convergence_warning_filters_work(flt):
    """A filter by category or by scikit-learn's words silences handgrad's warning too."""

    def scenario(C, R):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", **flt)
            C((5,), max_iter=3, random_state=0).fit(X, Y)
            C((5,), max_iter=3, solver="lbfgs", random_state=0).fit(X, Y)
        return sorted(str(w.message).split(" ")[0] for w in seen)

    libs = libraries()
    sk, hg = scenario(*libs["sklearn"]), scenario(*libs["handgrad"])
    assert hg == sk
    assert len(hg) == (0 if "category" in flt else 1)


def test_convergence_warnings_point_at_the_users_call():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        hg_estimators.MLPClassifier((5,), max_iter=3, random_state=0).fit(X, Y)
        hg_estimators.MLPClassifier((5,), max_iter=3, solver="lbfgs").fit(X, Y)
        hg_estimators.MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).partial_fit(XD, YD)
        hg_estimators.MLPRegressor(hidden_layer_sizes=(5,), max_iter=2).fit(XD, YD)
    assert [w.category for w in seen] == [ConvergenceWarning] * 3
    assert {w.filename for w in seen} == {__file__}


def test_diverging_fits_warn_at_the_users_call():
    huge = np.finfo(np.float64).max * np.random.default_rng(0).uniform(size=(10, 2))
    for solver in ("adam", "lbfgs"):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            hg_estimators.MLPRegressor(solver=solver, random_state=0).fit(huge, np.ones(10))
        diverged = [w for w in seen if w.category is RuntimeWarning]
        assert diverged and {w.filename for w in diverged} == {__file__}


@pytest.mark.parametrize("early_stopping", [False, True])
def test_ctrl_c_during_fit_keeps_the_model_as_scikit_learn_does(monkeypatch, early_stopping):
    """A Ctrl-C in the 8th minibatch: scikit-learn warns "Training interrupted by user." and
    fit returns the model of the epochs done (2 epochs of 3 batches on the 120 training rows
    of an early-stopping split, else 1 epoch of 4 batches)."""
    from sklearn.neural_network import MLPClassifier as SkMLP

    from handgrad.estimators._solvers import Objective

    def interrupt_at(cls, name, call):
        original = getattr(cls, name)
        calls = []

        def wrapped(*args, **kwargs):
            calls.append(1)
            if len(calls) == call:
                raise KeyboardInterrupt
            return original(*args, **kwargs)

        monkeypatch.setattr(cls, name, wrapped)

    interrupt_at(SkMLP, "_backprop", 8)
    interrupt_at(Objective, "value_and_grad", 8)

    def scenario(C, R):
        m = C((10,), batch_size=40, random_state=0, early_stopping=early_stopping)
        m.validation_fraction = 0.2
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                returned = m.fit(X, Y)
            except KeyboardInterrupt:  # (a test failure, not the end of the test session)
                pytest.fail(f"{C.__module__}: KeyboardInterrupt escaped fit")
        return dict(
            returned=returned is m,
            warned=[(w.category, str(w.message), w.filename) for w in seen],
            epochs=(m.n_iter_, len(m.loss_curve_), len(m.validation_scores_ or [])),
            predicts=m.predict(X).shape,
        )

    sk, hg = both(scenario)
    epochs = 2 if early_stopping else 1
    assert hg["warned"] == [(UserWarning, "Training interrupted by user.", __file__)]
    assert hg["epochs"][:2] == (epochs, epochs)
    assert hg == {**sk, "warned": hg["warned"]}
    assert [w[:2] for w in sk["warned"]] == [w[:2] for w in hg["warned"]]


def test_verbose_prints_scikit_learns_lines():
    def scenario(C, R):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            C((5,), max_iter=3, verbose=True, random_state=0).fit(X, Y)
            C((5,), max_iter=2, verbose=True, random_state=0, early_stopping=True).fit(X, Y)
        return [line.split(" = ")[0].split(":")[0] for line in out.getvalue().splitlines()]

    sk, hg = both(scenario)
    assert hg == sk
    assert hg[:3] == ["Iteration 1, loss", "Iteration 2, loss", "Iteration 3, loss"]


def test_probabilities_scores_and_sample_weight():
    w = np.where(Y == 0, 3.0, 1.0)

    def scenario(C, R):
        m = iris_fit(C)
        P = m.predict_proba(X)
        out = dict(
            sums=bool(np.allclose(P.sum(axis=1), 1.0)),
            log=bool(np.allclose(np.log(P), m.predict_log_proba(X))),
            score=m.score(X, Y) == np.mean(m.predict(X) == Y),
            weighted=m.score(X, Y, sample_weight=w) == np.average(m.predict(X) == Y, weights=w),
        )
        for solver in ("adam", "sgd", "lbfgs"):
            C((8,), solver=solver, max_iter=5, random_state=0).fit(X, Y, sample_weight=w)
        name = f"{type(m).__name__.lower()}__sample_weight"
        make_pipeline(StandardScaler(), C((8,), max_iter=5)).fit(X, Y, **{name: w})
        return out

    sk, hg = both(scenario)
    assert hg == sk == dict(sums=True, log=True, score=True, weighted=True)


def test_float32_input_trains_a_float32_network():
    def scenario(C, R):
        m = C((8,), max_iter=5, random_state=0).fit(X.astype(np.float32), Y)
        r = R(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
        r.fit(XD.astype(np.float32), YD.astype(np.float32))
        return dict(
            coefs=m.coefs_[0].dtype.str,
            proba=m.predict_proba(X.astype(np.float32)).dtype.str,
            reg=r.predict(XD.astype(np.float32)).dtype.str,
        )

    sk, hg = both(scenario)
    assert hg == sk == dict(coefs="<f4", proba="<f4", reg="<f4")


# --- persistence ---------------------------------------------------------------------------


def _pickle(m):
    return pickle.loads(pickle.dumps(m))


def _joblib(m, **kw):
    buffer = io.BytesIO()
    joblib.dump(m, buffer, **kw)
    buffer.seek(0)
    return joblib.load(buffer)


@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib compressed"])
def test_a_pickled_estimator_predicts_and_continues_exactly(how):
    load = {
        "pickle": _pickle,
        "joblib": _joblib,
        "joblib compressed": lambda m: _joblib(m, compress=3),
    }[how]

    def scenario(C, R):
        m = iris_fit(C, solver="adam")
        copy = load(m)
        same = np.array_equal(m.predict_proba(X), copy.predict_proba(X))
        m.partial_fit(X, Y)
        copy.partial_fit(X, Y)  # Adam's moments and the shuffling stream came along
        return dict(same=same, continued=np.array_equal(m.predict_proba(X), copy.predict_proba(X)))

    sk, hg = both(scenario)
    assert hg == sk == dict(same=True, continued=True)


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_an_unpickled_estimators_coefs_are_its_networks_arrays(how):
    m = iris_fit(hg_estimators.MLPClassifier, solver="sgd")
    copy = _pickle(m) if how == "pickle" else _joblib(m)
    linears = copy.model_.layers[::2]
    assert all(lin.weight.value is W for lin, W in zip(linears, copy.coefs_))
    assert all(lin.bias.value is b for lin, b in zip(linears, copy.intercepts_))
    copy.coefs_[0][...] = 0.0  # what the network computes with
    assert np.array_equal(copy.model_.forward(X)[:, 0], copy.model_.forward(X * 2)[:, 0])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_pickled_estimator_holds_no_rows_of_the_data(solver):
    """The engine's layers keep their last input for a backward; a fitted estimator must not
    carry the rows it was trained on or last predicted (a pickle shared with others)."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 4))
    secret = data[-1].tobytes()  # in the last batch, the last predicted chunk
    m = hg_estimators.MLPClassifier((6,), solver=solver, max_iter=3, batch_size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(data, data[:, 0] > 0, sample_weight=np.ones(300))  # the textbook path
    fitted = pickle.dumps(m)
    m.predict(data)
    m.model_.forward(data)  # the user's own forward through the network
    for blob in (fitted, pickle.dumps(m), joblib_bytes(m)):
        assert secret not in blob
    assert len(pickle.dumps(m)) == len(fitted)


def joblib_bytes(m) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(m, buffer)
    return buffer.getvalue()


def test_a_pickle_from_another_handgrad_version_warns():
    m = iris_fit(hg_estimators.MLPClassifier)
    state = m.__getstate__()
    assert state["_handgrad_version"] == handgrad.__version__
    state["_handgrad_version"] = "0.0.1"
    copy = hg_estimators.MLPClassifier.__new__(hg_estimators.MLPClassifier)
    with pytest.warns(UserWarning, match="pickled by handgrad 0.0.1"):
        copy.__setstate__(state)
    assert np.array_equal(copy.predict(X), m.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _pickle(m)  # the same version: silent


# --- model selection and meta-estimators (processes: slow) ----------------------------------


@pytest.mark.slow
def test_grid_search_and_cross_validation_with_two_processes():
    def scenario(C, R):
        step = type(C()).__name__.lower()
        grid = GridSearchCV(
            make_pipeline(StandardScaler(), C(max_iter=200, random_state=0)),
            {f"{step}__alpha": [1e-4, 1e-2], f"{step}__hidden_layer_sizes": [(8,), (16, 8)]},
            cv=3,
            n_jobs=2,
        ).fit(X, Y)
        from sklearn.model_selection import cross_validate

        cv = cross_validate(
            make_pipeline(StandardScaler(), C((16,), max_iter=300, random_state=0)),
            X,
            Y,
            cv=3,
            n_jobs=2,
            scoring=["accuracy", "neg_log_loss", "roc_auc_ovr", "f1_macro"],
            return_estimator=True,
        )
        return dict(
            best=sorted(grid.best_params_),
            fitted=type(grid.best_estimator_[-1]) is C,
            q_grid=grid.best_score_,
            keys=sorted(cv),
            log_loss=bool(np.all(cv["test_neg_log_loss"] < 0)),
            q_auc=min(cv["test_roc_auc_ovr"]),
            estimators=[type(e[-1]) is C for e in cv["estimator"]],
        )

    sk, hg = both(scenario)
    assert hg["q_grid"] > 0.85 and hg["q_auc"] > 0.9
    assert without_scores(hg) == without_scores(sk)


@pytest.mark.slow
def test_metadata_routing_of_sample_weight_through_a_search():
    import sklearn

    w = np.where(Y == 0, 3.0, 1.0)

    def scenario(C, R):
        with sklearn.config_context(enable_metadata_routing=True):
            est = C((8,), max_iter=30, random_state=0)
            est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
            step = type(est).__name__.lower()
            scaler = StandardScaler().set_fit_request(sample_weight=False)
            grid = GridSearchCV(
                make_pipeline(scaler, est),
                {f"{step}__alpha": [1e-4, 1e-1]},
                cv=3,
                n_jobs=2,
            ).fit(X, Y, sample_weight=w)
            scores = cross_val_score(est, X, Y, cv=3, params={"sample_weight": w})
        return dict(best=sorted(grid.best_params_), folds=len(scores))

    sk, hg = both(scenario)
    assert hg == sk == dict(best=["mlpclassifier__alpha"], folds=3)


@pytest.mark.slow
def test_calibration_permutation_importance_and_meta_estimators():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier, StackingClassifier
    from sklearn.inspection import partial_dependence, permutation_importance
    from sklearn.model_selection import learning_curve
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputRegressor

    def scenario(C, R):
        def mlp():
            return make_pipeline(StandardScaler(), C((8,), max_iter=100, random_state=0))

        out = {}
        for method in ("sigmoid", "isotonic"):
            cal = CalibratedClassifierCV(mlp(), cv=3, method=method).fit(X, Y)
            P = cal.predict_proba(X)
            out[method] = (P.shape, bool(np.allclose(P.sum(axis=1), 1)))
        fitted = make_pipeline(
            StandardScaler(), C((8,), max_iter=300, learning_rate_init=0.01, random_state=0)
        ).fit(X, Y)
        imp = permutation_importance(fitted, X, Y, n_repeats=3, random_state=0, n_jobs=2)
        out["importance"] = imp.importances.shape
        out["q_top"] = int(np.argmax(imp.importances_mean))
        out["pdp"] = partial_dependence(fitted, X, [2], grid_resolution=5)["average"].shape
        out["bagging"] = (
            BaggingClassifier(mlp(), n_estimators=2, random_state=0).fit(X, Y).predict(X).shape
        )
        out["stacking"] = StackingClassifier([("a", mlp())], cv=3).fit(X, Y).predict_proba(X).shape
        out["ovr"] = OneVsRestClassifier(mlp()).fit(X, Y).predict_proba(X).shape
        ada = AdaBoostClassifier(
            C((8,), max_iter=20, random_state=0), n_estimators=2, random_state=0
        )
        out["ada"] = ada.fit(X, Y).predict(X).shape
        out["curve"] = learning_curve(mlp(), X, Y, cv=3, train_sizes=[0.5, 1.0])[2].shape
        reg = R(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
        out["mor"] = MultiOutputRegressor(reg).fit(XD, np.c_[YD, -YD]).predict(XD).shape
        ttr = TransformedTargetRegressor(
            make_pipeline(
                StandardScaler(), R(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
            ),
            transformer=StandardScaler(),
        )
        out["q_ttr"] = ttr.fit(XD, YD * 50 + 150).score(XD, YD * 50 + 150)
        return out

    sk, hg = both(scenario)
    assert hg["q_top"] in (2, 3) and hg["q_ttr"] > 0.4  # petal sizes matter most
    assert without_scores(hg) == without_scores(sk)


def test_one_fitted_estimator_predicts_from_several_threads():
    """A model served from a thread pool (or joblib's threading backend): concurrent predict
    calls on one estimator give the serial answers (the layers' saved inputs are per call
    scratch, never read by predict)."""
    from concurrent.futures import ThreadPoolExecutor

    m = iris_fit(hg_estimators.MLPClassifier)
    rng = np.random.default_rng(0)
    parts = [X[rng.permutation(150)[:50]] * s for s in np.linspace(0.5, 1.5, 16)]
    serial = [m.predict_proba(p) for p in parts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            threaded = list(pool.map(m.predict_proba, parts))
            assert all(np.array_equal(a, b) for a, b in zip(serial, threaded))
