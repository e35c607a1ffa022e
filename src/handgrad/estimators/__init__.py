"""scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` on handgrad's engine.

Swap ``from sklearn.neural_network import MLPClassifier`` for
``from handgrad.estimators import MLPClassifier``: the same parameters (names, defaults,
positional order), methods and fitted attributes, trained by handgrad's engine:

    _params        the parameters, checked at the boundary
    _data          dense or sparse X (large sparse X never densified), sample weights, the split
    _solvers       the objective (engine forward/backward; a sparse first layer for sparse X),
                   L-BFGS through SciPy, the minibatch loop with scikit-learn's schedules and
                   stopping rule
    _rewind        the minibatch loop's divergence guard: snapshots every 32 updates, replay
    _base          fit / partial_fit / warm start; coefs_ and intercepts_ are the engine's arrays;
                   prediction through nn.inference.infer, X checked once (as scikit-learn)
    _persistence   save / load: arrays + JSON, never pickle
    _classifier, _regressor   the two estimators
"""

from __future__ import annotations

import os
from typing import Any

from ..nn.serialization import load_with_metadata
from ._classifier import MLPClassifier
from ._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "load_estimator"]


def load_estimator(path: str | os.PathLike):
    """Load whichever handgrad estimator ``path`` holds (MLPClassifier or MLPRegressor)."""
    _, meta = load_with_metadata(path)
    kinds: dict[str, Any] = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
    kind = meta.get("estimator")
    if kind not in kinds:
        raise ValueError(f"{path} does not hold a handgrad estimator (found {kind!r})")
    return kinds[kind].load(path)
