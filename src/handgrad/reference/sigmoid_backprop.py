"""``backprop(...)`` for a one-hidden-layer sigmoid network with the loss summed over samples.

The network (rows are samples, m of them):

    z1 = X W1 + b1        X (m, D), W1 (D, H), b1 (1, H)  -> z1, a1 (m, H)
    a1 = sigmoid(z1)
    z2 = a1 W2 + b2       W2 (H, 1), b2 (1, 1)            -> z2 (m, 1)
    A  = sigmoid(z2)      the predicted P(y = 1 | x)
    L  = sum_n BCE(A_n, Y_n)     binary cross-entropy, *summed* over the samples

Backward (the chain rule, output first):

    dz2 = A - Y                          (m, 1)   sigmoid + BCE fuse into one subtraction
    dW2 = a1^T dz2                       (H, 1)   per-sample outer products, summed by the matmul
    db2 = sum_n dz2                      (1, 1)
    da1 = dz2 W2^T                       (m, H)
    dz1 = da1 * a1 * (1 - a1)            (m, H)   sigmoid'(z1) from the cached output
    dW1 = X^T dz1                        (D, H)
    db1 = sum_n dz1                      (1, H)

The loss is taken from the logit z2, never from A: ``BCEWithLogitsLoss`` writes it with
softplus, so saturated units (A rounding to exactly 0 or 1) give finite losses and
gradients instead of log(0).
"""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import as_float_array, check_finite
from ..nn.constraints import Integer, check
from ..nn.losses import BCEWithLogitsLoss

__all__ = ["backprop"]


def backprop(
    X,
    Y,
    input_size: int,
    hidden_size: int,
    W1,
    b1,
    W2,
    b2,
) -> dict[str, np.ndarray]:
    """Gradients of the summed binary cross-entropy of this one-hidden-layer sigmoid network.

    X (m, input_size); Y (m, 1) or (m,) of 0/1 labels; W1 (input_size, hidden_size);
    b1 (1, hidden_size) or (hidden_size,); W2 (hidden_size, 1); b2 (1, 1), (1,) or a scalar.
    Returns ``{"dW1", "db1", "dW2", "db2"}``, each shaped like its parameter. Every shape
    is checked before any arithmetic; a mismatch raises ValueError naming it.
    """
    D, H = _check_sizes(input_size, hidden_size)
    dtype = np.result_type(*(np.asarray(p).dtype for p in (W1, b1, W2, b2)), np.float32)
    X = _array(X, "X", dtype)
    W1 = _array(W1, "W1", dtype)
    W2 = _array(W2, "W2", dtype)
    b1_in, b2_in = _array(b1, "b1", dtype), _array(b2, "b2", dtype)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"backprop: X must be 2-D (m, input_size) with m >= 1, got {X.shape}")
    m = X.shape[0]
    if X.shape[1] != D:
        raise ValueError(f"backprop: X has {X.shape[1]} columns but input_size is {D}")
    if W1.shape != (D, H):
        raise ValueError(
            f"backprop: W1 has shape {W1.shape}, expected (input_size, hidden_size) = {(D, H)}"
        )
    if b1_in.shape not in ((1, H), (H,)):
        raise ValueError(f"backprop: b1 has shape {b1_in.shape}, expected (1, {H}) or ({H},)")
    if W2.shape != (H, 1):
        raise ValueError(f"backprop: W2 has shape {W2.shape}, expected (hidden_size, 1) = {(H, 1)}")
    if b2_in.size != 1 or b2_in.ndim > 2:
        raise ValueError(f"backprop: b2 has shape {b2_in.shape}, expected (1, 1)")
    Y = _labels(Y, m, dtype)

    b1, b2 = b1_in.reshape(1, H), b2_in.reshape(1, 1)

    # forward
    z1 = X @ W1 + b1  # (m, H)
    a1 = F.sigmoid(z1)  # (m, H)
    z2 = a1 @ W2 + b2  # (m, 1)
    bce = BCEWithLogitsLoss(reduction="sum")
    bce.forward(z2, Y)

    # backward
    dz2 = bce.backward()  # (m, 1) = sigmoid(z2) - Y, per sample (summed loss: no 1/m)
    dW2 = a1.T @ dz2  # (H, 1)
    db2 = dz2.sum(axis=0, keepdims=True)  # (1, 1)
    da1 = dz2 @ W2.T  # (m, H)
    dz1 = F.sigmoid_backward(da1, a1)  # (m, H)
    dW1 = X.T @ dz1  # (D, H)
    db1 = dz1.sum(axis=0, keepdims=True)  # (1, H)

    return {
        "dW1": dW1,
        "db1": db1.reshape(b1_in.shape),
        "dW2": dW2,
        "db2": db2.reshape(b2_in.shape),
    }


def _check_sizes(input_size, hidden_size) -> tuple[int, int]:
    size = Integer(1)
    return (
        check(input_size, size, "input_size", "backprop", error=ValueError),
        check(hidden_size, size, "hidden_size", "backprop", error=ValueError),
    )


def _array(x, name: str, dtype) -> np.ndarray:
    x = as_float_array(x, f"backprop: {name}", dtype)
    check_finite(x, f"backprop: {name}")
    return x


def _labels(Y, m: int, dtype) -> np.ndarray:
    """Y as an (m, 1) array of 0/1 labels; (m,) is accepted, anything else is an error."""
    Y = _array(Y, "Y", dtype)
    if Y.shape not in ((m, 1), (m,)):
        raise ValueError(f"backprop: Y has shape {Y.shape}, expected ({m}, 1) or ({m},) for m={m}")
    if not np.all((Y == 0) | (Y == 1)):
        bad = Y[(Y != 0) & (Y != 1)].ravel()[0]
        raise ValueError(f"backprop: Y must hold only 0 and 1 labels, found {bad!r}")
    return Y.reshape(m, 1)
