"""A plain, straightforward NumPy training loop: the baseline handgrad must not lose to.

This is the loop a person writes from a textbook: fancy-index the batch, fresh arrays for
every intermediate, the usual max-shifted softmax, no buffers, no ``out=``. It trains the
same network as the other runners (He-normal weights, zero biases, plain SGD) so that its
time per epoch is directly comparable.
"""

from __future__ import annotations

import numpy as np


def init_params(sizes, dtype, seed: int):
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = np.sqrt(2.0 / fan_in)
        weights.append((rng.standard_normal((fan_in, fan_out)) * std).astype(dtype))
        biases.append(np.zeros(fan_out, dtype))
    return weights, biases


def train(X, y, sizes, loss: str, batch_size: int, lr: float, epochs: int, seed: int):
    """Train an MLP (ReLU hidden layers) with minibatch SGD; returns the per-step losses."""
    weights, biases = init_params(sizes, X.dtype, seed)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        losses += train_epoch(X, y, weights, biases, loss, batch_size, lr, rng)
    return losses


def train_epoch(X, y, weights, biases, loss: str, batch_size: int, lr: float, rng):
    """One epoch of minibatch SGD, updating ``weights`` and ``biases`` in place."""
    n = X.shape[0]
    losses = []
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb, yb = X[idx], y[idx]
        m = xb.shape[0]

        # forward: keep every layer's input and pre-activation for the backward pass
        inputs, pre = [], []
        a = xb
        for i, (W, b) in enumerate(zip(weights, biases)):
            inputs.append(a)
            z = a @ W + b
            pre.append(z)
            a = np.maximum(z, 0) if i < len(weights) - 1 else z

        # loss and its gradient with respect to the logits
        if loss == "softmax_ce":
            shifted = a - a.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sums = exp.sum(axis=1, keepdims=True)
            log_probs = shifted - np.log(sums)
            losses.append(-log_probs[np.arange(m), yb].mean())
            grad = exp / sums
            grad[np.arange(m), yb] -= 1
            grad /= m
        else:
            z = a[:, 0]
            losses.append(np.mean(np.maximum(z, 0) - z * yb + np.log1p(np.exp(-np.abs(z)))))
            grad = ((1 / (1 + np.exp(-z))) - yb)[:, None] / m

        # backward and update
        for i in range(len(weights) - 1, -1, -1):
            dW = inputs[i].T @ grad
            db = grad.sum(axis=0)
            if i > 0:
                grad = (grad @ weights[i].T) * (pre[i - 1] > 0)
            weights[i] -= lr * dW
            biases[i] -= lr * db
    return losses
