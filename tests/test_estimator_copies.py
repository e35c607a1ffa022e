"""A pickled or deep-copied estimator keeps training on its own parameters (issue 8/9:
200 partial_fit steps toward y = 1 used to end at -30.6 after a copy)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import handgrad as hg


@pytest.mark.filterwarnings("ignore:.*max_iter.*has not converged")
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_copied_regressor_partial_fits_like_the_original(how, solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    reg = hg.MLPRegressor(
        hidden_layer_sizes=(8,),
        solver=solver,
        random_state=0,
        learning_rate_init=0.02 if solver == "sgd" else 0.01,  # sgd: the half squared error
    )
    reg.fit(X, X[:, 0])
    twin = pickle.loads(pickle.dumps(reg)) if how == "pickle" else copy.deepcopy(reg)
    for _ in range(200):
        reg.partial_fit(X, np.ones(30))
        twin.partial_fit(X, np.ones(30))
    np.testing.assert_array_equal(twin.predict(X), reg.predict(X))
    assert np.abs(twin.predict(X) - 1.0).max() < 0.1
