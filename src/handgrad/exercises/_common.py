"""Helpers the exercise definitions share: random inputs and one-call probes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["rng", "call_probe", "ns", "NONE", "predictions_problem"]

NONE = "returned None (is a `return` missing?)"


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def call_probe(
    entry: str, args: tuple[str, ...], out: str = "out"
) -> Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]:
    """A probe calling ``entry(*inputs[a] for a in args)`` and naming its result ``out``."""

    def probe(namespace: Mapping[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        return {out: namespace[entry](*(inputs[a] for a in args))}

    return probe


def ns(**entries: Any) -> Callable[[], Mapping[str, Any]]:
    """A reference namespace, built lazily."""
    return lambda: entries


def item(result: Any, key: str, what: str = "the result") -> Any:
    """``result[key]``, or a TypeError that says what was returned instead."""
    if result is None:
        raise TypeError(f"{what}: {NONE}")
    try:
        return result[key]
    except (KeyError, IndexError, TypeError):
        kind = type(result).__name__
        keys = f" with keys {sorted(map(str, result))}" if isinstance(result, dict) else ""
        raise TypeError(f"{what} is a {kind}{keys}; expected it to hold {key!r}") from None


def pair(result: Any, what: str) -> tuple[Any, ...]:
    """A returned tuple of the expected length, or a TypeError saying what came back."""
    if result is None:
        raise TypeError(f"{what}: {NONE}")
    if not isinstance(result, (tuple, list)):
        raise TypeError(f"{what}: returned {type(result).__name__}, expected a tuple")
    return tuple(result)


def predictions_problem(predictions: Any, n: int) -> tuple[str, str]:
    """(code, why) when predict's result breaks its contract, (N,) integers; ("", "") if not.
    A column (N, 1) compared with labels (N,) broadcasts into (N, N): a wrong accuracy."""
    p = np.asarray(predictions)
    if p.shape != (n,):
        return "shape", (
            f"predict returned shape {p.shape} where ({n},) is asked: one class per sample in "
            "a flat array (a column (N, 1) compared with labels (N,) broadcasts into (N, N))"
        )
    if p.dtype.kind not in "iu":
        return "dtype", f"predict returned {p.dtype} where integer classes are asked"
    return "", ""
