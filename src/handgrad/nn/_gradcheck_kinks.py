"""gradcheck's view of kinks: which side of its kink each ReLU-like unit's input is on.

A module says it has a kink with a ``kink`` attribute (the input where its derivative
jumps, e.g. 0.0) and keeps its last input as ``_x`` or ``x``, as ReLU and LeakyReLU do;
Sequentials are searched all the way down (a Sequential nested in another included).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layers import Module, Sequential

__all__ = ["Probe", "kink_probe"]

# Which side of its kink each ReLU-like unit's input is on, one boolean array per module.
Probe = Callable[[], list[np.ndarray]]


def kink_probe(model: Module) -> Probe | None:
    """A function returning, for every ReLU-like unit, which side of its kink each input is on.

    A module says it has a kink with a ``kink`` attribute (the input where its derivative
    jumps, e.g. 0.0) and keeps its last input as ``_x`` or ``x``, as ReLU and LeakyReLU do.
    """
    kinked: list[tuple[Module, float]] = [
        (m, kink) for m in _modules(model) if (kink := getattr(m, "kink", None)) is not None
    ]
    if not kinked:
        return None
    return lambda: [_last_input(m) > kink for m, kink in kinked]


def _modules(model: Module) -> list[Module]:
    """Every module inside ``model``, Sequentials nested in Sequentials included."""
    if isinstance(model, Sequential):
        return [m for layer in model.layers for m in _modules(layer)]
    return [model]


def _last_input(module: Module) -> np.ndarray:
    for name in ("_x", "x"):
        x: np.ndarray | None = getattr(module, name, None)
        if x is not None:
            return x
    raise AttributeError(f"{type(module).__name__} has a kink but keeps no last input (_x or x)")
