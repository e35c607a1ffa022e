"""A tiny binary classifier (chapter 4, "Backprop by hand") as plain functions over a parameter
dict.

    forward          z1 = X W1 + b1,  a1 = f(z1),  z2 = a1 W2 + b2,  p = sigmoid(z2)
    bce_from_logits  mean BCE computed from the logit z2 (softplus form, never log(p))
    backward         the chain rule by hand, for f = ReLU or tanh
    gd_step          theta <- theta - lr * g
    gradient_check   central finite differences through ``handgrad.gradcheck``
    plus    init_params (He for ReLU, Xavier for tanh) and ``train`` (full-batch gradient
            descent, end to end)

Shapes (N samples, D features, H hidden units):

    X (N, D)   W1 (D, H)   b1 (H,)   W2 (H, 1)   b2 (1,)
    z1, a1 (N, H)          z2, p (N, 1)          y (N,) or (N, 1) of 0/1 labels

The biases are 1-D and broadcast over the N rows (b1 is added to every row of X W1).
The parameter layout is exactly that of ``handgrad.mlp([D, H, 1], activation)``, and
``init_params`` draws the same numbers for the same seed, so the engine can check these
functions and vice versa. The math comes from ``handgrad.nn.functional`` and
``handgrad.nn.losses``: these functions arrange it, they do not copy it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..nn import functional as F
from ..nn.constraints import Integer, Options, Real, check
from ..nn.gradcheck import GradcheckReport, gradcheck
from ..nn.init import DEFAULT_FOR_ACTIVATION, get_initializer, make_rng
from ..nn.losses import BCEWithLogitsLoss

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "forward",
    "bce_from_logits",
    "backward",
    "gd_step",
    "gradient_check",
    "init_params",
    "train",
]


class Activation(NamedTuple):
    """f, the gradient through f (dL/da, saved) -> dL/dz, and which cache entry is ``saved``."""

    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    saved: str  # "z1", the pre-activation (ReLU), or "a1", the output (tanh)


ACTIVATIONS = {
    "relu": Activation(F.relu, F.relu_backward, "z1"),
    "tanh": Activation(F.tanh, F.tanh_backward, "a1"),
}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _activation(name: str) -> Activation:
    return ACTIVATIONS[check(name, Options(*ACTIVATIONS), "activation", error=ValueError)]


def _check_params(X: np.ndarray, params: dict) -> None:
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {list(PARAM_NAMES)}")
    W1, b1, W2, b2 = (np.shape(params[k]) for k in PARAM_NAMES)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {X.shape}")
    if len(W1) != 2 or W1[0] != X.shape[1]:
        raise ValueError(f"W1 has shape {W1}, expected (D, H) with D = {X.shape[1]}")
    H = W1[1]
    expected = {"b1": (H,), "W2": (H, 1), "b2": (1,)}
    for name, shape in zip(("b1", "W2", "b2"), (b1, W2, b2)):
        if shape != expected[name]:
            raise ValueError(f"{name} has shape {shape}, expected {expected[name]} for H = {H}")


# --- forward ------------------------------------------------------------------------------


def forward(X: np.ndarray, params: dict, activation: str = "relu") -> dict[str, np.ndarray]:
    """The forward pass; returns the cache ``{"z1", "a1", "z2", "p"}``.

    X (N, D) -> z1, a1 (N, H) -> z2, p (N, 1). ``p`` is for reading off probabilities;
    the loss and the gradients use the logit ``z2``.
    """
    f = _activation(activation).forward
    X = np.asarray(X)
    _check_params(X, params)
    z1 = X @ params["W1"] + params["b1"]  # (N, H): b1 (H,) broadcasts over the rows
    a1 = f(z1)
    z2 = a1 @ params["W2"] + params["b2"]  # (N, 1)
    return {"z1": z1, "a1": a1, "z2": z2, "p": F.sigmoid(z2)}


# --- loss ---------------------------------------------------------------------------------


def bce_from_logits(z2: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy from the logit: mean_n [y softplus(-z) + (1 - y) softplus(z)].

    This equals -mean[y log p + (1 - y) log(1 - p)] with p = sigmoid(z), but never forms
    p, so it is finite for every finite logit (the naive form gives inf once p rounds to
    0 or 1). z2 (N, 1) or (N,); y (N,) or (N, 1) of 0/1 labels.
    """
    return BCEWithLogitsLoss(reduction="mean").forward(z2, y)


# --- backward -----------------------------------------------------------------------------


def backward(
    X: np.ndarray, y: np.ndarray, params: dict, cache: dict, activation: str = "relu"
) -> dict[str, np.ndarray]:
    """Gradients of the mean BCE with respect to W1, b1, W2, b2 (each shaped like its parameter).

    dz2 = (p - y) / N                  (N, 1)  sigmoid and BCE fuse into one subtraction
    dW2 = a1^T dz2                     (H, 1)
    db2 = sum_n dz2                    (1,)
    da1 = dz2 W2^T                     (N, H)
    dz1 = da1 * f'(z1)                 (N, H)  ReLU: 1[z1 > 0];  tanh: 1 - a1^2
    dW1 = X^T dz1                      (D, H)
    db1 = sum_n dz1                    (H,)
    """
    f = _activation(activation)
    X = np.asarray(X)
    _check_params(X, params)
    loss = BCEWithLogitsLoss(reduction="mean")
    loss.forward(cache["z2"], y)
    dz2 = loss.backward()  # (p - y) / N, computed without cancellation at saturation
    da1 = dz2 @ params["W2"].T
    dz1 = f.backward(da1, cache[f.saved])
    return {
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0),
        "W2": cache["a1"].T @ dz2,
        "b2": dz2.sum(axis=0),
    }


# --- optimization -------------------------------------------------------------------------


def gd_step(params: dict, grads: dict, lr: float) -> dict[str, np.ndarray]:
    """One step of gradient descent, theta <- theta - lr * g, as a new parameter dict."""
    lr = check(lr, Real(0.0, low_open=True), "lr", "gd_step", error=ValueError)
    return {k: params[k] - lr * grads[k] for k in PARAM_NAMES}


# --- gradient check ---------------------------------------------------------------------------


def gradient_check(
    X: np.ndarray,
    y: np.ndarray,
    params: dict,
    activation: str = "relu",
    *,
    eps: float | None = None,
    tol: float = 1e-7,  # the relative part of the allowed error (gradcheck's rtol)
) -> GradcheckReport:
    """Compare ``backward`` with central finite differences of ``bce_from_logits``.

    Works on float64 copies (the caller's arrays are never touched). For ReLU, the step
    ``eps`` is chosen so that no perturbation (up to 2 eps with the fourth-order stencil)
    moves a hidden pre-activation across the kink at 0, where the finite difference would
    measure the jump rather than the derivative; tanh uses the default 1e-3.
    """
    X = np.asarray(X, dtype=np.float64)
    params = {k: np.array(params[k], dtype=np.float64) for k in PARAM_NAMES}
    cache = forward(X, params, activation)
    grads = backward(X, y, params, cache, activation)
    if eps is None:
        eps = 1e-3
        if activation == "relu":
            # perturbing W1[i, j] by d moves z1[n, j] by X[n, i] * d; b1[j] moves it by d
            margin = float(np.min(np.abs(cache["z1"])))
            reach = max(1.0, float(np.max(np.abs(X))))
            # floor: a pre-activation at exactly 0 sits on the kink, where no step avoids it
            # (the derivative does not exist there, and the check reports the disagreement)
            eps = max(min(eps, 0.4 * margin / reach), 1e-7)

    def loss() -> float:
        return bce_from_logits(forward(X, params, activation)["z2"], y)

    return gradcheck(loss, params, grads, eps=eps, rtol=tol)


# --- initialization and the training loop ---------------------------------------------------


def init_params(
    D: int, H: int, activation: str = "relu", seed: int | None = 0
) -> dict[str, np.ndarray]:
    """Weights drawn for the activation (He normal for ReLU, Xavier uniform for tanh), zero biases.

    He keeps Var(z) steady through ReLU units, which zero half their inputs (Var(W) = 2 / fan_in);
    Xavier balances forward and backward variance for tanh (Var(W) = 2 / (fan_in + fan_out)).
    Zero biases are fine because the random weights already make the units differ.
    Draws W1 then W2 from one Generator, as ``handgrad.mlp([D, H, 1], activation, seed=seed)``.
    """
    _activation(activation)
    D = check(D, Integer(1), "D", "init_params", error=ValueError)
    H = check(H, Integer(1), "H", "init_params", error=ValueError)
    draw = get_initializer(DEFAULT_FOR_ACTIVATION[activation])
    rng = make_rng(seed)
    W1 = draw(D, H, rng, np.dtype(np.float64))
    W2 = draw(H, 1, rng, np.dtype(np.float64))
    return {"W1": W1, "b1": np.zeros(H), "W2": W2, "b2": np.zeros(1)}


def train(
    X: np.ndarray,
    y: np.ndarray,
    H: int = 16,
    activation: str = "relu",
    lr: float = 0.1,
    epochs: int = 1000,
    seed: int | None = 0,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Full-batch gradient descent from ``init_params``; returns (params, loss per epoch).

    The loss recorded for an epoch is the one measured before that epoch's update.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {X.shape}")
    params = init_params(X.shape[1], H, activation, seed)
    losses: list[float] = []
    for _ in range(epochs):
        cache = forward(X, params, activation)
        losses.append(bce_from_logits(cache["z2"], y))
        params = gd_step(params, backward(X, y, params, cache, activation), lr)
    return params, losses
