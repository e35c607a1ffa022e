"""scikit-learn's searches over handgrad's estimators on a Dask cluster, through joblib."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def search(cls, **kwargs):
    model = make_pipeline(
        StandardScaler(), MLPClassifier(max_iter=20, learning_rate_init=0.02, random_state=0)
    )
    return cls(model, cv=3, **kwargs)


GRID = {"mlpclassifier__hidden_layer_sizes": [(8,), (16,)], "mlpclassifier__alpha": [1e-4, 1e-1]}


@pytest.mark.slow
def test_grid_search_on_dask_equals_the_serial_search(dask_client):
    import joblib

    X, y = load_iris(return_X_y=True)
    serial = search(GridSearchCV, param_grid=GRID).fit(X, y)
    before = dask_client.run(lambda dask_worker: len(dask_worker.state.log))
    with joblib.parallel_backend("dask"):
        on_dask = search(GridSearchCV, param_grid=GRID, n_jobs=-1).fit(X, y)
    after = dask_client.run(lambda dask_worker: len(dask_worker.state.log))
    assert any(after[w] > before[w] for w in after)  # the fits ran on the cluster's workers
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    assert on_dask.best_score_ > 0.8


@pytest.mark.slow
def test_randomized_search_on_dask(dask_client):
    import joblib
    from scipy.stats import loguniform

    X, y = load_iris(return_X_y=True)
    space = {"mlpclassifier__learning_rate_init": loguniform(1e-3, 1e-1)}
    serial = search(RandomizedSearchCV, param_distributions=space, n_iter=3, random_state=0)
    serial.fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = search(
            RandomizedSearchCV, param_distributions=space, n_iter=3, random_state=0, n_jobs=-1
        ).fit(X, y)
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert on_dask.best_params_ == pytest.approx(serial.best_params_)


@pytest.mark.slow
def test_the_documented_example_runs(capsys):
    """docs/sweep.md's GridSearchCV-on-Dask example, as written (it starts its own cluster)."""
    from pathlib import Path

    pytest.importorskip("distributed", reason="the sweep extra is not installed")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sweep.md").read_text()
    blocks = [b.split("```")[0] for b in doc.split("```python\n")[1:]]
    [example] = [b for b in blocks if "parallel_backend" in b]
    exec(compile(example, "docs/sweep.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "mlpclassifier__hidden_layer_sizes" in printed
    score = float(printed.split()[-1])
    assert 0.9 < score <= 1.0
