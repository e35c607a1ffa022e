"""The same parameters train the same model as scikit-learn's MLP, step for step.

Each test starts handgrad's estimator from scikit-learn's own initial weights (copied into
``coefs_``/``intercepts_``, with ``t_`` and the stopping state) and continues both with
``warm_start`` and ``shuffle=False``, so the batches are the same: then the weights, the
loss curves and the number of epochs must agree to rounding. This checks scikit-learn's
objective (the regressor's half squared error, the L2 term divided by each batch's size),
SGD with Nesterov momentum, the invscaling and adaptive schedules, Adam, L-BFGS, and the
stopping rule with ``tol`` / ``n_iter_no_change``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier, MLPRegressor


def _digits():
    X, y = load_digits(n_class=3, return_X_y=True)
    return StandardScaler().fit_transform(X[:240]), y[:240]


def _regression():
    X, y = make_regression(n_samples=150, n_features=6, noise=5.0, random_state=0)
    return X, (y - y.mean()) / y.std()


def _both(sk_cls, hg_cls, X, y, **params):
    """scikit-learn's estimator after one epoch, and handgrad's holding the same state."""
    sk = sk_cls(**params, warm_start=True, shuffle=False, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X, y)
    hg = hg_cls(**params, warm_start=True, shuffle=False, max_iter=1, random_state=0)
    hg.coefs_ = [W.copy() for W in sk.coefs_]
    hg.intercepts_ = [b.copy() for b in sk.intercepts_]
    if sk.solver != "lbfgs":
        hg.t_, hg.loss_curve_ = sk.t_, list(sk.loss_curve_)
        hg.best_loss_, hg._no_improvement_count = sk.best_loss_, sk._no_improvement_count
    return sk, hg


def _continue(est, X, y, max_iter):
    est.set_params(max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return est


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate_init=0.05),  # Nesterov momentum, scikit-learn's default
        dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False),
        dict(solver="sgd", learning_rate_init=0.2, learning_rate="invscaling", power_t=0.3),
        dict(solver="sgd", learning_rate_init=0.05, momentum=0.0, alpha=0.1),
    ],
)
def test_sgd_classifier_takes_scikit_learns_steps(params):
    X, y = _digits()
    common = dict(hidden_layer_sizes=(16,), batch_size=50, **params)
    sk, hg = _both(SkClassifier, MLPClassifier, X, y, **common)
    _continue(sk, X, y, 15)
    _continue(hg, X, y, 15)
    assert hg.n_iter_ == sk.n_iter_ == 15 and hg.t_ == sk.t_
    np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-10)
    for a, b in zip(hg.coefs_ + hg.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hg.predict_proba(X), sk.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_sgd_regressor_half_squared_error_takes_scikit_learns_steps():
    X, y = _regression()
    common = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, batch_size=32)
    sk, hg = _both(SkRegressor, MLPRegressor, X, y, **common)
    _continue(sk, X, y, 10)
    _continue(hg, X, y, 10)
    np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(hg.predict(X), sk.predict(X), rtol=1e-9, atol=1e-12)


def test_stopping_rule_and_adaptive_rate_stop_at_scikit_learns_epoch():
    X, y = _digits()
    common = dict(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        batch_size=60,
        tol=1e-2,
        n_iter_no_change=2,
    )
    sk, hg = _both(SkClassifier, MLPClassifier, X, y, **common)
    _continue(sk, X, y, 300)
    _continue(hg, X, y, 300)
    assert sk.n_iter_ < 300  # the rule fired (several times: the rate fell below 1e-6)
    assert hg.n_iter_ == sk.n_iter_ and len(hg.loss_curve_) == len(sk.loss_curve_)
    assert hg._optimizer.learning_rate == pytest.approx(sk._optimizer.learning_rate, rel=1e-12)
    np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-9)


@pytest.mark.parametrize("epsilon", [1e-8, 1e-3])  # 1e-3: where epsilon goes matters
def test_adam_takes_scikit_learns_steps(epsilon):
    X, y = _digits()
    common = dict(
        hidden_layer_sizes=(16,),
        solver="adam",
        learning_rate_init=0.01,
        batch_size=50,
        epsilon=epsilon,
        beta_2=0.99,
    )
    sk, hg = _both(SkClassifier, MLPClassifier, X, y, **common)
    _continue(sk, X, y, 10)
    _continue(hg, X, y, 10)
    # epsilon is added to sqrt(v) with the bias corrections in the rate, as scikit-learn's
    # (the engine's own Adam adds it to sqrt(v_hat): 3.5e-5 apart after 10 epochs at 1e-8)
    np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-10)
    for a, b in zip(hg.coefs_ + hg.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_regressor_with_two_outputs_reports_scikit_learns_loss(solver):
    """scikit-learn's squared error averages the K outputs in the value it reports (loss_,
    loss_curve_, the stopping rule, what L-BFGS sees) while its gradient sums them."""
    X, y = _regression()
    Y = np.column_stack([y, 0.5 * y**2 - 1.0])
    common = dict(hidden_layer_sizes=(8,), solver=solver, learning_rate_init=0.01, batch_size=32)
    sk, hg = _both(SkRegressor, MLPRegressor, X, Y, **common)
    _continue(sk, X, Y, 12)
    _continue(hg, X, Y, 12)
    assert hg.n_iter_ == sk.n_iter_
    assert hg.loss_ == pytest.approx(sk.loss_, rel=1e-9)
    if solver != "lbfgs":
        np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(hg.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_minimizes_scikit_learns_objective(kind):
    X, y = _digits() if kind == "classifier" else _regression()
    sk_cls, hg_cls = (
        (SkClassifier, MLPClassifier) if kind == "classifier" else (SkRegressor, MLPRegressor)
    )
    sk, hg = _both(sk_cls, hg_cls, X, y, hidden_layer_sizes=(8,), solver="lbfgs", alpha=1e-3)
    # from the same weights, the objective and its gradient agree to rounding
    theta = np.hstack([a.ravel() for a in sk.coefs_ + sk.intercepts_])
    T = sk._label_binarizer.transform(y) if kind == "classifier" else y.reshape(-1, 1)
    args = (X, T, None, [X, None, None], [None, None], [None, None], [None, None])
    sk_value, sk_grad = sk._loss_grad_lbfgs(theta, *args)
    hg.n_features_in_, hg.out_activation_ = X.shape[1], sk.out_activation_
    hg_value, hg_grad = hg._loss_grad_lbfgs(theta, X, T)
    assert hg_value == pytest.approx(sk_value, rel=1e-10)
    np.testing.assert_allclose(hg_grad, sk_grad, rtol=1e-8, atol=1e-12)


def _scikit_learns_initial_weights(units, activation, random_state):
    """scikit-learn's ``_init_coef`` draws, layer by layer (W, then b), from its RandomState."""
    rs = np.random.RandomState(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        a = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rs.uniform(-a, a, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-a, a, fan_out))
    return coefs, intercepts


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_initial_weights_and_biases_are_scikit_learns_glorot_uniform(activation):
    clf = MLPClassifier((300, 200), activation, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(learning_rate_init=1e-300).fit(np.eye(100), np.arange(100) % 7)
    factor = 2.0 if activation == "logistic" else 6.0
    for W, b in zip(clf.coefs_, clf.intercepts_):
        a = np.sqrt(factor / sum(W.shape))
        for values in (W, b):  # uniform on [-a, a]: the extremes near a, the variance a^2 / 3
            assert np.abs(values).max() <= a
            assert np.abs(values).max() > 0.95 * a
            # (a uniform's sample variance has a relative spread sqrt(0.8 / n): 5 of them)
            assert values.var() == pytest.approx(a * a / 3, rel=5 * np.sqrt(0.8 / values.size))


def test_lbfgs_regression_stops_where_scikit_learns_stops_from_the_same_weights():
    """scikit-learn's test_lbfgs_regression (tol=1e-3, logistic units) passes by its seed.

    With tol as L-BFGS's gtol, a start whose logistic units sit near their linear range
    can reach max|gradient| < 1e-3 at the least-squares fit of a linear model (R^2 ~0.81)
    and stop there after 6-9 iterations; scikit-learn stops so for 20 of random_state 0..39
    (handgrad's own draws: 21 of 40). From scikit-learn's draw for random_state=1 the test's
    assertions hold for every activation; from its draw for 2, both libraries stop at the
    same iteration with the same fit.
    """
    X, y = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0, random_state=7)
    y = (y - y.mean()) / y.std()
    params = dict(solver="lbfgs", hidden_layer_sizes=50, max_iter=200, tol=1e-3)
    for activation in ["identity", "logistic", "tanh", "relu"]:
        hg = MLPRegressor(**params, activation=activation, warm_start=True)
        hg.coefs_, hg.intercepts_ = _scikit_learns_initial_weights([10, 50, 1], activation, 1)
        hg.fit(X, y)
        assert hg.score(X, y) > (0.80 if activation == "identity" else 0.98)
    sk = SkRegressor(**params, activation="logistic", random_state=2).fit(X, y)
    hg = MLPRegressor(**params, activation="logistic", warm_start=True)
    hg.coefs_, hg.intercepts_ = _scikit_learns_initial_weights([10, 50, 1], "logistic", 2)
    hg.fit(X, y)
    assert hg.n_iter_ == sk.n_iter_ < 10
    assert hg.score(X, y) == pytest.approx(sk.score(X, y), abs=1e-6) and sk.score(X, y) < 0.85


def test_lbfgs_regression_maxfun_warns_from_scikit_learns_weights():
    """scikit-learn's test_lbfgs_regression_maxfun, from scikit-learn's draw for random_state=1.

    With identity units the objective is a least-squares one: from about half the initial
    draws (scikit-learn's: 24 of random_state 0..39) L-BFGS converges within max_fun=10
    evaluations and rightly gives no ConvergenceWarning, so that test passes by its seed.
    """
    X, y = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0, random_state=7)
    y = (y - y.mean()) / y.std()
    params = dict(solver="lbfgs", hidden_layer_sizes=50, tol=0.0, max_iter=150, max_fun=10)
    for activation in ["identity", "logistic", "tanh", "relu"]:
        hg = MLPRegressor(**params, activation=activation, warm_start=True)
        hg.coefs_, hg.intercepts_ = _scikit_learns_initial_weights([10, 50, 1], activation, 1)
        with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
            hg.fit(X, y)
        assert hg.n_iter_ <= 10
