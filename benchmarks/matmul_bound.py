"""The matrix-multiply bound: the time of only the matrix multiplies one epoch needs.

For every batch of an epoch (same shapes and batch count as training), each layer l with
input A (m, in), weights W (in, out) and upstream gradient G (m, out) needs

    forward   A @ W        (m, out)
    backward  A.T @ G      (in, out)   the weight gradient
              G @ W.T      (m, in)     the input gradient, for every layer but the first

and nothing else. They run here on preallocated arrays with ``out=`` through ``np.dot``
(NumPy's cheapest call into BLAS for 2-D products; handgrad uses it too), so the time is
BLAS and NumPy's call overhead alone: no training loop can do these products faster with
the same library.
"""

from __future__ import annotations

import numpy as np


def make_buffers(sizes, batch_size: int, dtype, seed: int = 0):
    """Random weights, layer inputs ``acts[l]`` (batch, sizes[l]) and gradients of the same shapes.

    Nothing feeds back into itself, so the values stay fixed in size from step to step.
    """
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((i, o)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    acts = [rng.standard_normal((batch_size, s)).astype(dtype) for s in sizes]
    dacts = [rng.standard_normal((batch_size, s)).astype(dtype) for s in sizes]
    grads = [np.empty_like(W) for W in weights]
    return weights, acts, dacts, grads


def one_epoch(batch_sizes: list[int], weights, acts, dacts, grads) -> None:
    """All matrix products of one epoch, one batch of each size in ``batch_sizes``."""
    n_layers = len(weights)
    for m in batch_sizes:
        for i in range(n_layers):  # forward
            np.dot(acts[i][:m], weights[i], out=acts[i + 1][:m])
        for i in range(n_layers - 1, -1, -1):  # backward: G = dacts[i + 1]
            np.dot(acts[i][:m].T, dacts[i + 1][:m], out=grads[i])
            if i > 0:
                np.dot(dacts[i + 1][:m], weights[i].T, out=dacts[i][:m])
