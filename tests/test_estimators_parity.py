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


def test_adam_takes_scikit_learns_steps_up_to_where_epsilon_goes():
    X, y = _digits()
    common = dict(hidden_layer_sizes=(16,), solver="adam", learning_rate_init=0.01, batch_size=50)
    sk, hg = _both(SkClassifier, MLPClassifier, X, y, **common)
    _continue(sk, X, y, 10)
    _continue(hg, X, y, 10)
    # the engine adds epsilon to sqrt(v_hat), scikit-learn to sqrt(v): a relative change of
    # about epsilon / sqrt(v) per step (measured: 3.5e-5 after 10 epochs)
    np.testing.assert_allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-4)
    assert not np.allclose(hg.loss_curve_, sk.loss_curve_, rtol=1e-7)  # (so it is not exact)


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
