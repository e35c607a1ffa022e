"""The estimators' forward pass for prediction: X checked once, as scikit-learn's MLPs check it.

``handgrad.nn.inference.infer`` checks the input of every Linear layer, as the engine's
``Linear.forward`` does: for a network of one hidden layer that is a second pass over the
(N, hidden) activations, about 5 % of the CPU of a 20,000-row prediction (digits, 64 hidden
units). Here X is checked once (the first layer's input), as scikit-learn's ``predict``
checks it, and the outputs by the caller (``BaseMLP._outputs``). Nothing is missed between:
a NaN made inside the network stays NaN through every later layer, and so does an infinity
unless an activation saturates it (tanh, sigmoid, relu of -inf), to its exact limit, which
``infer`` passes on too (it checks what the next Linear receives). The operations are
``infer``'s, in its order, so the outputs are its bits (``tests/test_estimators_predict.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..nn._checks import check_finite
from ..nn.inference import _ACTIVATIONS
from ..nn.layers import Identity, Linear, Sequential


def forward(net: Sequential, x: Any) -> np.ndarray:
    """The outputs (N, n_outputs) of an estimator's network ``net`` (Linear layers and the
    engine's activations, as ``BaseMLP._network`` builds it and ``load`` accepts it) on x
    (N, n_features), a C-contiguous array or a sparse matrix of the network's dtype (the first
    layer multiplies it as it is); NonFiniteError if x holds NaN or inf."""
    check_finite(x.data if sp.issparse(x) else x, "X")
    y, owned = x, False  # (owned: y is this call's own array, which may be overwritten)
    for layer in net.layers:
        if type(layer) is Linear:
            y, owned = np.asarray(y @ layer.weight.value), True
            if layer.bias is not None:
                y += layer.bias.value
        elif type(layer) is not Identity:
            y, owned = _ACTIVATIONS[type(layer)](layer, y, owned), True
    return y
