"""The references of the classic interview classes, ``NeuralNetwork`` and ``MultiClassNN``:
thin adapters, the engine's ``mlp`` layers, losses and ``SGD`` behind the exercise's attribute
names (``weights`` (in, out) and ``biases`` (1, out), shared with the engine's parameters, not
copied). The exercises themselves are in defs_classes.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.layers import Linear, ReLU, Sequential, mlp
from ..nn.losses import BCEWithLogitsLoss, Loss, SoftmaxCrossEntropyLoss
from ..nn.optim import SGD

__all__ = ["OnEngine", "NeuralNetworkOnEngine", "MultiClassOnEngine"]


class OnEngine:
    """The classes' layout over the engine: ReLU hidden layers, full-batch SGD."""

    def __init__(self, layer_sizes, learning_rate=0.01, momentum=0.0, seed=None):
        self.lr, self.momentum = float(learning_rate), float(momentum)
        linears = [
            m for m in mlp(list(layer_sizes), "relu", seed=seed).layers if isinstance(m, Linear)
        ]
        self.weights = [lin.weight.value for lin in linears]
        self.biases = [lin.bias.value.reshape(1, -1) for lin in linears if lin.bias is not None]

    def _loss(self) -> Loss:
        raise NotImplementedError

    def _model(self) -> Sequential:
        """The engine's layers over the current weights and biases (the same arrays)."""
        layers: list[Any] = []
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            lin = Linear(W.shape[0], W.shape[1], dtype=W.dtype)
            assert lin.bias is not None
            lin.weight.value, lin.bias.value = W, b.reshape(-1)
            lin.weight.grad, lin.bias.grad = np.zeros_like(W), np.zeros(b.size, W.dtype)
            layers += [lin, ReLU()] if i < len(self.weights) - 1 else [lin]
        return Sequential(*layers)

    def logits(self, X) -> np.ndarray:
        return self._model().forward(np.asarray(X, dtype=float))

    def backward(self, X, y):
        model = self._model()
        loss = self._loss()
        loss.forward(model.forward(np.asarray(X, dtype=float)), y)
        model.backward(loss.backward())
        params = model.parameters()
        return [p.grad.copy() for p in params[::2]], [p.grad.reshape(1, -1) for p in params[1::2]]

    def fit(self, X, y, epochs=1000, verbose=False):
        X = np.asarray(X, dtype=float)
        model, loss = self._model(), self._loss()
        opt = SGD(model.parameters(), lr=self.lr, momentum=self.momentum)
        for _ in range(epochs):
            loss.forward(model.forward(X), y)
            model.backward(loss.backward())
            opt.step()
        return self


class NeuralNetworkOnEngine(OnEngine):
    def _loss(self) -> Loss:
        return BCEWithLogitsLoss()

    def forward(self, X):
        return F.sigmoid(self.logits(X))

    def backward(self, X, y):
        return super().backward(X, np.asarray(y, dtype=float).reshape(-1, 1))

    def fit(self, X, y, epochs=1000, verbose=False):
        return super().fit(X, np.asarray(y, dtype=float).reshape(-1, 1), epochs, verbose)

    def predict(self, X, threshold=0.5):
        return (self.forward(X) >= threshold).astype(int).ravel()


class MultiClassOnEngine(OnEngine):
    def __init__(self, layer_sizes, learning_rate=0.01, seed=None):
        super().__init__(layer_sizes, learning_rate, 0.0, seed)

    def _loss(self) -> Loss:
        return SoftmaxCrossEntropyLoss()

    def forward(self, X):
        return F.softmax(self.logits(X))

    def fit(self, X, y, epochs=1000, verbose=False):
        return super().fit(X, np.asarray(y).astype(int), epochs, verbose)

    def predict(self, X):
        return np.argmax(self.forward(X), axis=1)
