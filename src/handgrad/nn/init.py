"""Weight initializations, chosen by name.

Each initializer draws a weight matrix of shape (fan_in, fan_out) from an explicit
``numpy.random.Generator``. The scale keeps the variance of activations (forward) or of
gradients (backward) roughly constant from layer to layer:

    He / Kaiming  Var(W) = 2 / fan_in               for ReLU (half the units are off)
    Xavier/Glorot Var(W) = 2 / (fan_in + fan_out)   for tanh / sigmoid / linear
    LeCun         Var(W) = 1 / fan_in               for SELU-like or linear units

A uniform U(-a, a) has variance a^2 / 3, so a = sqrt(3 * Var).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

Initializer = Callable[[int, int, np.random.Generator, DTypeLike], np.ndarray]


def _normal(
    std: float, shape: tuple[int, int], rng: np.random.Generator, dtype: DTypeLike
) -> np.ndarray:
    return (rng.standard_normal(shape) * std).astype(dtype, copy=False)


def _uniform(
    var: float, shape: tuple[int, int], rng: np.random.Generator, dtype: DTypeLike
) -> np.ndarray:
    a = math.sqrt(3.0 * var)
    return rng.uniform(-a, a, size=shape).astype(dtype, copy=False)


def he_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _normal(math.sqrt(2.0 / fan_in), (fan_in, fan_out), rng, dtype)


def he_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _uniform(2.0 / fan_in, (fan_in, fan_out), rng, dtype)


def xavier_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)), (fan_in, fan_out), rng, dtype)


def xavier_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _uniform(2.0 / (fan_in + fan_out), (fan_in, fan_out), rng, dtype)


def lecun_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _normal(math.sqrt(1.0 / fan_in), (fan_in, fan_out), rng, dtype)


def lecun_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    return _uniform(1.0 / fan_in, (fan_in, fan_out), rng, dtype)


def zeros(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """All zeros: every hidden unit computes the same thing forever (the symmetry problem)."""
    return np.zeros((fan_in, fan_out), dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "zeros": zeros,
}

# The initialization that suits each hidden activation (used by ``mlp``).
DEFAULT_FOR_ACTIVATION = {
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "tanh": "xavier_uniform",
    "sigmoid": "xavier_uniform",
    "identity": "xavier_uniform",
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Look an initializer up by name, or pass a callable through."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        names = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown init {init!r}; choose one of: {names}") from None


def make_rng(
    seed: int | None = None, rng: np.random.Generator | None = None
) -> np.random.Generator:
    """One explicit Generator from ``seed`` or ``rng`` (giving both is an error)."""
    if rng is not None:
        if seed is not None:
            raise ValueError("give either seed= or rng=, not both")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    return np.random.default_rng(seed)
