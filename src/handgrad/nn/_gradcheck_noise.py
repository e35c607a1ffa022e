"""How noisy is the loss? gradcheck's measure of the rounding error in the loss values.

A loss value is known to far fewer digits than "a few units in its last place" when it is
computed with cancellation: MSE or Poisson on a fitted model with large targets (L ~ 1e-6
out of terms ~ 1e3), a logit summed from large products. Its rounding error is then set by
the size of the intermediate numbers, not by L, and a finite difference divides it by the
step. So gradcheck measures it, from the loss itself, the way Moré and Wild's ECnoise does:

    f_j = L(θ + j δ u),  j = 0 .. POINTS - 1       u random, all parameters at once
    σ_k = sqrt( γ_k mean_j (Δ^k f_j)² ),  γ_k = (k!)² / (2k)!

Δ^k is the k-th forward difference. For a smooth L the differences shrink like δ^k; rounding
noise of standard deviation σ makes each σ_k ≈ σ instead. The level k is accepted where
σ_{k-1}, σ_k, σ_{k+1} agree within a factor 4 and Δ^k changes sign (noise, not curvature); if
no level qualifies, δ is changed (smaller when the differences still look smooth, larger
when the values are all equal) and the measure repeated. Directions whose points move a
ReLU-like unit across its kink are not used (a kink is not noise). The result is the largest
σ over the directions, 0.0 when none could be measured (the ulp floor then applies alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import factorial

import numpy as np

__all__ = ["loss_noise", "loss_quantum"]

POINTS = 13  # evaluations per direction and step
DIRECTIONS = 2
SPARE_DIRECTIONS = 4  # tried only while no direction could be measured
FIRST_STEP = 1e-7
LARGEST_STEP = 1e-5  # never wider: the noise is measured on a scale where the loss is smooth
TRIES = 5  # steps tried per direction
LEVELS = range(2, 7)  # difference orders that may be accepted
GAMMA = {k: factorial(k) ** 2 / factorial(2 * k) for k in range(1, 9)}


def _sigmas(values: np.ndarray) -> dict[int, float]:
    """σ_k for k = 1..7, computed on values / max |values| so that no square overflows (a
    loss of 1e200 has differences whose squares would be inf, and an inf σ allows anything)."""
    scale = float(np.max(np.abs(values)))
    unit = values / scale
    return {
        k: scale * float(np.sqrt(GAMMA[k] * np.mean(np.diff(unit, k) ** 2))) for k in range(1, 8)
    }


def _level(values: np.ndarray) -> tuple[float | None, str]:
    """(σ, "") when some level shows noise; (None, "smooth" or "flat") when none does."""
    if np.all(values == values[0]):
        return None, "flat"
    sigma = _sigmas(values)
    for k in LEVELS:
        near = (sigma[k - 1], sigma[k], sigma[k + 1])
        changes_sign = np.any(np.diff(np.sign(np.diff(values, k))) != 0)
        if min(near) > 0 and max(near) <= 4 * min(near) and changes_sign:
            return sigma[k], ""
    return None, "smooth"


def loss_noise(
    f: Callable[[], float],
    arrays: Sequence[np.ndarray],
    rng: np.random.Generator,
    reach: float,
    probe: Callable[[], list[np.ndarray]] | None = None,
) -> float:
    """The standard deviation of the rounding noise in f() around the current ``arrays``.

    The noise is measured at the current parameters and at a point at distance ``reach``
    (gradcheck's farthest step, 3h, along a random unit direction): noise often grows away
    from a minimum (a fitted regression's residual r turns a rounding error e of its
    prediction into 2 r e). Not farther: all parameters moved by 3h each can take a network
    with large inputs to another regime (a logit 300 away) whose noise no single step meets.
    ``arrays`` are perturbed in place and restored exactly; ``probe()`` (optional) tells on
    which side of its kink each ReLU-like unit is, so a series that crosses one is not used.
    """
    originals = [x.copy() for x in arrays]
    worst = 0.0
    try:
        # more directions only while none could be measured (each crossed a kink): a 0.0
        # left the ulp floor alone, and a -log p loss, noisy at 3e-16 with a loss of 1e-5,
        # FAILED a correct network at its smallest step
        for tried in range(DIRECTIONS + SPARE_DIRECTIONS):
            if tried >= DIRECTIONS and worst > 0.0:
                break
            u = [rng.uniform(-1.0, 1.0, x.shape) for x in arrays]
            norm = float(np.sqrt(sum(float(np.sum(d * d)) for d in u))) or 1.0
            for anchor in (0.0, reach / norm):
                sigma = _noise_along(f, arrays, originals, u, anchor, probe)
                worst = max(worst, sigma)
    finally:
        for x, x0 in zip(arrays, originals):
            x[...] = x0
    return worst


def _noise_along(
    f: Callable[[], float],
    arrays: Sequence[np.ndarray],
    originals: Sequence[np.ndarray],
    u: Sequence[np.ndarray],
    anchor: float,
    probe: Callable[[], list[np.ndarray]] | None,
) -> float:
    """σ from f at x0 + (anchor + j step) u, j = 0 .. POINTS - 1; 0.0 if not measurable."""
    step = FIRST_STEP
    for _ in range(TRIES):
        values = np.empty(POINTS)
        start: list[np.ndarray] | None = None
        for j in range(POINTS):
            for x, x0, d in zip(arrays, originals, u):
                x[...] = x0 + (anchor + j * step) * d
            values[j] = float(f())
            if probe is not None:
                state = probe()
                if start is None:
                    start = state
                elif any(not np.array_equal(a, b) for a, b in zip(start, state)):
                    return 0.0  # a kink inside the series: its jump is not noise
        if not np.all(np.isfinite(values)):
            return 0.0
        sigma, why = _level(values)
        if sigma is not None:
            return sigma
        if why == "flat" and step >= LARGEST_STEP:
            return 0.0  # a loss this flat has no rounding noise worth allowing for
        step = step * 100.0 if why == "flat" else step / 100.0
    return 0.0


QUANTUM_STEP = 1e-4  # loss_quantum's spacing along its direction


def loss_quantum(
    f: Callable[[], float],
    arrays: Sequence[np.ndarray],
    probe: Callable[[], list[np.ndarray]] | None = None,
) -> float | None:
    """The step of the loss's staircase near the current ``arrays``, if it moves in one.

    f at POINTS points QUANTUM_STEP apart along a random direction through all parameters:
    a loss computed to a few ulp of itself changes at every point (or nowhere, if nothing
    moves it); one computed through a rounded quantity (-log p with p near 1 moves in steps
    of ulp(1) per sample) stays put at some points and jumps at others. Returns the smallest
    jump then; None when every value is equal (flat: no jump to measure); 0.0 when every
    value differs, or a value is not finite, or a ReLU-like unit crossed its kink (its jump
    is no quantum). The arrays
    are restored exactly; the direction is fixed (seed 0), so the result is too."""
    rng = np.random.default_rng(0)
    originals = [x.copy() for x in arrays]
    u = [rng.uniform(-1.0, 1.0, x.shape) for x in arrays]
    values, states = np.empty(POINTS), []
    try:
        for j in range(POINTS):
            for x, x0, d in zip(arrays, originals, u):
                x[...] = x0 + j * QUANTUM_STEP * d
            values[j] = float(f())
            states.append([] if probe is None else probe())
    finally:
        for x, x0 in zip(arrays, originals):
            x[...] = x0
    crossed = any(
        not np.array_equal(a, b) for state in states[1:] for a, b in zip(states[0], state)
    )
    jumps = np.abs(np.diff(values))
    if np.all(np.isfinite(values)) and not np.any(jumps):
        return None  # flat, kinks crossed or not (a unit on its kink with the loss at 0)
    if crossed or not np.all(np.isfinite(values)) or np.all(jumps > 0):
        return 0.0
    return float(np.min(jumps[jumps > 0]))
