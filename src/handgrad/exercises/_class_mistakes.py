"""Known mistakes in the classic interview classes, as the engine-backed classes that make
them (``NeuralNetwork``, ``MultiClassNN``): used only to name a wrong answer, never as a
reference. The exercises are in defs_classes.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.layers import Linear, ReLU
from ..nn.losses import Loss
from ._engine_classes import MultiClassOnEngine, NeuralNetworkOnEngine, OnEngine


def _fit_updating_before_propagating(net: OnEngine, X, y, epochs: int) -> None:
    """The `order` mistake in a hand-written loop: each layer is updated (velocity and
    weights) before its delta is passed down, so the layers below get a delta propagated
    through the *new* weights."""
    model, loss = net._model(), net._loss()
    velocity = {id(p): np.zeros_like(p.value) for p in model.parameters()}
    for _ in range(epochs):
        loss.forward(model.forward(X), y)
        delta = loss.backward()
        for layer in reversed(model.layers):
            if not isinstance(layer, Linear):
                delta = layer.backward(delta)
                continue
            layer.backward(delta)
            for p in layer.parameters():
                v = velocity[id(p)]
                v *= net.momentum
                v -= net.lr * p.grad
                p.value += v
            delta = delta @ layer.weight.value.T  # the mistake: through the updated W


class MultiClassUpdatingFirst(MultiClassOnEngine):
    def fit(self, X, y, epochs=1000, verbose=False):
        X, y = np.asarray(X, dtype=float), np.asarray(y).astype(int)
        _fit_updating_before_propagating(self, X, y, epochs)
        return self


class NetworkUpdatingFirst(NeuralNetworkOnEngine):
    def fit(self, X, y, epochs=1000, verbose=False):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float).reshape(-1, 1)
        _fit_updating_before_propagating(self, X, y, epochs)
        return self


def damped_network(layer_sizes, learning_rate=0.01, momentum=0.0, seed=None):
    """v <- mu v - (1 - mu) lr g: a damped velocity, the same as lr scaled by (1 - mu)."""
    return NeuralNetworkOnEngine(layer_sizes, learning_rate * (1 - momentum), momentum, seed)


def _unmasked(model: Any) -> Any:
    """The model with each ReLU's backward passing the gradient on untouched (no mask)."""
    for layer in model.layers:
        if isinstance(layer, ReLU):
            setattr(layer, "backward", lambda grad: grad)  # noqa: B010
    return model


class NetworkWithoutMask(NeuralNetworkOnEngine):
    def _model(self):
        return _unmasked(super()._model())


class MultiClassWithoutMask(MultiClassOnEngine):
    def _model(self):
        return _unmasked(super()._model())


class _LabelsAsColumn(Loss):
    """Softmax cross-entropy's delta with the labels left as numbers, not one-hot rows:
    (P - y[:, None]) / N, a column subtracted from every class's probability."""

    def forward(self, prediction, target) -> float:
        labels = np.asarray(target, dtype=float).reshape(-1, 1)
        self._grad = (F.softmax(np.asarray(prediction, dtype=float)) - labels) / len(labels)
        return 0.0


class MultiClassLabelsAsColumn(MultiClassOnEngine):
    def _loss(self) -> Loss:
        return _LabelsAsColumn()
