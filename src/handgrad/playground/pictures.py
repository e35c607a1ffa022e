"""What a frame draws: the output over the plane, each hidden unit's picture, dead ReLUs.

Every picture is computed by running the network forward on a grid of points: ``grid`` is
(GRID * GRID, D) network inputs (the plane's features at each grid point, top row first), or
(CURVE_POINTS, 1) for the 1-D sine set. Pictures travel as base64 bytes (0..255) that the
page turns into pixels.
"""

from __future__ import annotations

import base64
import math

import numpy as np

import handgrad as hg

from ..metrics import probabilities

__all__ = [
    "GRID",
    "UNIT_GRID",
    "CURVE_POINTS",
    "COARSE",
    "to_bytes",
    "normalize",
    "all_finite",
    "activations",
    "pictures",
    "dead_fractions",
]

GRID = 60  # decision-region picture: GRID x GRID points
UNIT_GRID = 30  # each hidden unit's picture: every other grid point
CURVE_POINTS = 200  # 1-D regression: points on the fitted curve

# the unit pictures' grid: every other point of the GRID x GRID grid, row by row
COARSE = ((np.arange(GRID)[:, None] % 2 == 0) & (np.arange(GRID)[None, :] % 2 == 0)).ravel()


def to_bytes(values: np.ndarray) -> str:
    """Numbers in [0, 1] -> base64 of uint8 (the page draws them as pixels)."""
    clipped = np.nan_to_num(np.clip(values, 0.0, 1.0), nan=0.5)
    return base64.b64encode(np.round(clipped * 255).astype(np.uint8).tobytes()).decode()


def normalize(values: np.ndarray) -> np.ndarray:
    """Scale to [-1, 1] by the largest magnitude (all zeros stays zeros)."""
    top = float(np.max(np.abs(values))) if values.size else 0.0
    return values / top if top > 0 and np.isfinite(top) else np.zeros_like(values)


def all_finite(value) -> bool:
    """Whether every number in a frame (nested dicts and lists) is finite (JSON can carry it)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(all_finite(v) for v in value)
    return True


def activations(model, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """On X (N, D): each hidden layer's output a = f(z) (N, units), the logits (N, outputs),
    and each hidden layer's z (N, units)."""
    hidden: list[np.ndarray] = []
    pre: list[np.ndarray] = []
    a = X
    layers = list(model)
    for k, layer in enumerate(layers):
        a = layer.forward(a)
        if k < len(layers) - 1:
            (pre if isinstance(layer, hg.Linear) else hidden).append(a.copy())
    return hidden, a, pre


def pictures(model, grid: np.ndarray, data, curve: bool) -> dict:
    """The output over the grid (regions, heat map or curve) and every hidden unit's picture:
    its output scaled per unit, and (plane only) where it is switched on, z > 0, as bits."""
    hidden, outputs, pre = activations(model, grid)
    if curve:
        return {
            "curve": np.round(outputs[:, 0], 4).tolist(),
            "units": [
                [np.round(normalize(h[::4, u]), 3).tolist() for u in range(h.shape[1])]
                for h in hidden
            ],
        }
    out: dict[str, object]
    if data.task == "classification":
        p = probabilities(outputs)
        out = {
            "region_class": to_bytes(np.argmax(p, axis=1) / 255.0),
            "region_conf": to_bytes(p.max(axis=1)),
        }
        if p.shape[1] == 2:
            out["region_p1"] = to_bytes(p[:, 1])
    else:
        lo, hi = float(data.y.min()), float(data.y.max())
        fitted = model.forward(data.X)[:, 0]  # residual = y - fitted, per point
        out = {
            "region_value": to_bytes((outputs[:, 0] - lo) / (hi - lo or 1.0)),
            "value_range": [lo, hi],
            "fitted": np.round(fitted, 4).tolist(),
        }
    out["units"] = [
        [to_bytes((normalize(h[COARSE, u]) + 1.0) / 2.0) for u in range(h.shape[1])] for h in hidden
    ]
    out["units_on"] = [
        [
            base64.b64encode(np.packbits(z[COARSE, u] > 0).tobytes()).decode()
            for u in range(z.shape[1])
        ]
        for z in pre
    ]
    out["unit_grid"] = UNIT_GRID
    out["grid"] = GRID
    return out


def dead_fractions(model, X_train: np.ndarray) -> list[float | None]:
    """Per hidden layer: the share of ReLU units that output 0 on every training row (None for
    a layer of another activation)."""
    hidden, _, _ = activations(model, X_train)
    acts = [layer for layer in model if not isinstance(layer, hg.Linear)]
    return [
        float(np.mean(np.all(h <= 0, axis=0))) if isinstance(layer, hg.ReLU) else None
        for h, layer in zip(hidden, acts)
    ]
