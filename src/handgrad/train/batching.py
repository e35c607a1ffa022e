"""Batches of row indices, and a model's outputs and scores on a whole array, in chunks."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..nn.layers import Module
from ..nn.losses import Loss
from .inputs import Metric, count, prepare_inputs, prepare_target, resolve_metrics

__all__ = ["batches", "evaluate", "predict_outputs", "predict_logits"]


def batches(
    n: int,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Yield index arrays covering range(n) in batches of ``batch_size``.

    With ``shuffle`` the order comes from one permutation drawn from ``rng`` (required);
    with ``drop_last`` a final short batch is skipped.
    """
    batch_size = count("batch_size", batch_size, 1)
    if shuffle:
        if rng is None:
            raise ValueError("batches: shuffle=True needs an explicit rng (numpy Generator)")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def predict_outputs(model: Module, X: ArrayLike, batch_size: int = 4096) -> np.ndarray:
    """Raw model outputs for X (N, D): logits for a classifier, predictions for a regression;
    computed in chunks of ``batch_size`` rows to bound memory."""
    X = prepare_inputs(model, X)
    return np.concatenate(
        [model.forward(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    )


def predict_logits(model: Module, X: ArrayLike, batch_size: int = 4096) -> np.ndarray:
    """Deprecated: the outputs are not always logits; use ``predict_outputs``."""
    warnings.warn(
        "predict_logits is deprecated (it also returns regression outputs); "
        "use handgrad.train.predict_outputs",
        DeprecationWarning,
        stacklevel=2,
    )
    return predict_outputs(model, X, batch_size)


def evaluate(
    model: Module,
    loss: Loss,
    X: ArrayLike,
    y: ArrayLike,
    metrics: Sequence[str | Metric] | dict[str, Metric] = (),
    batch_size: int = 4096,
) -> dict[str, float]:
    """Loss (same reduction as ``loss``) and metrics of ``model`` on (X, y).

    ``metrics``: names / callables, or a dict name -> callable(outputs, target).
    """
    metric_fns = metrics if isinstance(metrics, dict) else resolve_metrics(metrics, loss)
    outputs = predict_outputs(model, X, batch_size)
    y = prepare_target(loss, y, outputs, outputs.shape[1:])
    result = {"loss": loss.forward(outputs, y)}
    for name, fn in metric_fns.items():
        result[name] = fn(outputs, y)
    return result
