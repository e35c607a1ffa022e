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

``check_hidden=False`` checks for NaN and inf only what comes from outside the built-in
layers (the model's input, and what a module of your own returns), as scikit-learn's
``predict`` checks X only: what a Linear made from checked values, through the built-in
activations, is not scanned again before the next Linear (that scan is a pass over each
hidden layer's activations, about 5 % of a large prediction). Nothing is
missed that the caller would not see: a NaN made inside stays NaN to the outputs, and an
infinity too unless an activation saturates it (tanh, sigmoid, relu of -inf) to its exact
limit, which the checked forward passes on as well. Check the outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from . import functional as F
from ._checks import as_float_array, check_finite, check_matrix
from .layers import Identity, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["infer"]


def infer(model: Module, x: ArrayLike, check_hidden: bool = True) -> np.ndarray:
    """``model.forward(x)`` without keeping anything for a backward: x (N, ...) -> y (N, ...).
    ``check_hidden=False``: a Linear checks its input for NaN and inf only if that input
    does not come from an earlier Linear of this call through built-in layers (above); the
    same bits either way."""
    y: ArrayLike = x
    owned = False  # y is this call's own array (a built-in layer made it): may be overwritten
    checked = False  # y comes from a Linear whose input was checked, through built-in layers
    for layer in _layers(model):
        kind = type(layer)
        if kind is Linear:
            y = _linear(layer, y, check_hidden or not checked)  # type: ignore[arg-type]
            owned = checked = True
            continue
        activation = _ACTIVATIONS.get(kind)
        if activation is not None:
            given = y if owned else np.asarray(y)  # (owned: an array already)
            y, owned = activation(layer, given, owned), True  # type: ignore[arg-type]
        elif kind is Identity:
            y = np.asarray(y)
        else:  # a module handgrad does not know: its own forward
            y, owned, checked = layer.forward(y), False, False  # type: ignore[arg-type]
    return np.asarray(y) if type(model) is Sequential else y  # type: ignore[return-value]


def _layers(module: Module) -> list[Module]:
    """The modules ``module.forward`` runs, in order: a Sequential's layers, nested ones
    flattened; any other module itself."""
    if type(module) is not Sequential:
        return [module]
    layers: list[Module] = module.layers
    if all(type(layer) is not Sequential for layer in layers):
        return layers
    return [leaf for layer in layers for leaf in _layers(layer)]


def _linear(layer: Linear, x: ArrayLike, check_finite_input: bool) -> np.ndarray:
    """x (N, in) -> x @ W + b (N, out): ``Linear.forward``'s checks and arithmetic (the
    finiteness check only if asked)."""
    x = as_float_array(x, "Linear input", layer.dtype)
    check_matrix(x, "Linear input", layer.in_features)
    if check_finite_input:
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
