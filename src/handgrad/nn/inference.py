"""A network's output with nothing kept for a backward: inference.

``forward`` keeps what ``backward`` will need (a Linear its input, a ReLU its input, a Tanh
or a Sigmoid its output). Predicting needs none of it, and what is kept holds rows of the
data until the next forward. ``infer(model, x)`` returns what ``model.forward(x)`` returns,
the same bits after the same checks (the same errors), and keeps nothing; each activation
computes in place, in the array the layer before it has just made (never in ``x`` nor in an
array another module returned), so a prediction allocates one array per Linear layer.

It knows the built-in modules, by exact type as ``handgrad.train.fast`` does: ``Sequential``
(nested too), ``Linear``, ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``, ``Identity``. Any
other module runs its own ``forward`` (and keeps what that keeps). ``tests/nn/
test_inference.py`` keeps every case equal to ``forward`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import functional as F
from ._checks import as_float_array, check_finite, check_matrix
from .layers import Identity, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["infer"]


def infer(model: Module, x: ArrayLike) -> np.ndarray:
    """``model.forward(x)`` without keeping anything for a backward: x (N, ...) -> y (N, ...)."""
    y, _ = _infer(model, x, owned=False)
    return y


def _infer(module: Module, x: ArrayLike, owned: bool) -> tuple[np.ndarray, bool]:
    """(the module's output, whether that array is this call's own and may be overwritten).
    ``owned`` says the same of x."""
    kind = type(module)
    if kind is Sequential:
        y = x
        for layer in module.layers:  # type: ignore[attr-defined]
            y, owned = _infer(layer, y, owned)
        return np.asarray(y), owned
    if kind is Linear:
        return _linear(module, x), True  # type: ignore[arg-type]
    if kind is Identity:
        return np.asarray(x), owned
    activation = _ACTIVATIONS.get(kind)
    if activation is None:  # a module handgrad does not know: its own forward
        return module.forward(x), False  # type: ignore[arg-type]
    return activation(module, np.asarray(x), owned), True


def _linear(layer: Linear, x: ArrayLike) -> np.ndarray:
    """x (N, in) -> x @ W + b (N, out): ``Linear.forward``'s checks and arithmetic."""
    x = as_float_array(x, "Linear input", layer.dtype)
    check_matrix(x, "Linear input", layer.in_features)
    check_finite(x, "Linear input")
    y: np.ndarray = x @ layer.weight.value
    if layer.bias is not None:
        y += layer.bias.value
    return y


# Each activation: (module, x, whether x may be overwritten) -> its forward's values.
# In place, the ufuncs compute each element by the expression the functional form uses.


def _relu(module: Module, x: np.ndarray, owned: bool) -> np.ndarray:
    if owned:
        y: np.ndarray = np.maximum(x, 0, out=x)
        return y
    return F.relu(x)


def _leaky_relu(module: Module, x: np.ndarray, owned: bool) -> np.ndarray:
    slope = module.negative_slope  # type: ignore[attr-defined]
    if owned:  # z stays where z > 0; elsewhere slope * z (NaN too: slope * NaN is NaN)
        y: np.ndarray = np.multiply(x, slope, out=x, where=~(x > 0))
        return y
    return F.leaky_relu(x, slope)


def _tanh(module: Module, x: np.ndarray, owned: bool) -> np.ndarray:
    if owned:
        y: np.ndarray = np.tanh(x, out=x)
        return y
    return F.tanh(x)


def _sigmoid(module: Module, x: np.ndarray, owned: bool) -> np.ndarray:
    return F.sigmoid(x)  # two tails, two expressions: the functional form, a fresh array


_ACTIVATIONS: dict[type, Callable[[Module, np.ndarray, bool], np.ndarray]] = {
    ReLU: _relu,
    LeakyReLU: _leaky_relu,
    Tanh: _tanh,
    Sigmoid: _sigmoid,
}
