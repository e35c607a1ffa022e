"""A fresh network of the classic classes, as their contracts state it: weights (n_in, n_out)
drawn from np.random.default_rng(seed) at He's scale, normal * sqrt(2 / n_in), biases
(1, n_out); the same seed gives the same network, another seed another one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .catalogue import Verdict

__all__ = ["fresh_outputs", "fresh_judge"]


def _shape(array: Any) -> list[int]:
    """The shape padded with -1 to two numbers: a bias (n,) is [n, -1]."""
    return (list(np.shape(array)) + [-1, -1])[:2]


def fresh_outputs(make: Callable[[int], Any], sizes: Sequence[int]) -> dict[str, Any]:
    """What the judge reads from three fresh networks, ``make(seed)`` for seeds 0, 0 and 1."""
    first, again, other = make(0), make(0), make(1)
    weights = [np.asarray(w, dtype=float) for w in first.weights]
    return {
        "weight_shapes": np.array([_shape(w) for w in weights]),
        "bias_shapes": np.array([_shape(b) for b in first.biases]),
        # the first layer's many weights pin their std to a fraction of a percent
        "scale": float(np.std(weights[0]) / np.sqrt(2.0 / sizes[0])),
        "same_seed_same": all(
            np.array_equal(a, b) for a, b in zip(first.weights, again.weights, strict=True)
        ),
        "other_seed_other": not all(
            np.array_equal(a, b) for a, b in zip(first.weights, other.weights, strict=True)
        ),
    }


def _shapes(shapes: list[list[int]]) -> str:
    return ", ".join(str(tuple(n for n in shape if n >= 0)) for shape in shapes)


def fresh_judge(sizes: Sequence[int], cls: str) -> Callable[[dict[str, Any]], Verdict]:
    """The verdict on ``fresh_outputs``: the layout (`shape`), the seed read
    (`ignores-input`) and followed, He's scale within 10 % (both `initialization`; a right
    answer's first-layer std is within 0.3 % of it, so no right draw fails; no He scale is
    12 times off, Xavier's 0.71)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))

    def judge(outputs: dict[str, Any]) -> Verdict:
        want_w = [[a, b] for a, b in pairs]
        want_b = [[1, b] for _, b in pairs]
        got_w = np.asarray(outputs["weight_shapes"]).tolist()
        got_b = np.asarray(outputs["bias_shapes"]).tolist()
        if got_w != want_w or got_b != want_b:
            return (
                False,
                f"a fresh {cls}({list(sizes)}) has weights {_shapes(want_w)} and biases "
                f"{_shapes(want_b)}; got weights {_shapes(got_w)} and biases {_shapes(got_b)}",
                ["shape"],
            )
        if not bool(outputs["other_seed_other"]):
            return (
                False,
                (
                    "seeds 0 and 1 give the same weights: is seed passed to "
                    "np.random.default_rng(seed)?"
                ),
                ["ignores-input"],
            )
        if not bool(outputs["same_seed_same"]):
            return (
                False,
                (
                    "two networks made with seed=0 differ: draw every weight from "
                    "np.random.default_rng(seed)"
                ),
                ["initialization"],
            )
        scale = float(np.asarray(outputs["scale"]))
        if not 0.9 <= scale <= 1.1:
            return (
                False,
                (
                    f"the first layer's weights have a std of {scale:.3g} times He's "
                    f"sqrt(2 / n_in) = {np.sqrt(2.0 / sizes[0]):.3g}: draw normal * sqrt(2 / n_in)"
                ),
                ["initialization"],
            )
        return True, "", []

    return judge
