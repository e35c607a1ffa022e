"""gradcheck's finite differences for one entry: the stencil, its tolerance, the step ladder.

For an entry θ_i the loss L is evaluated at θ_i ± k h for k = 1/2, 1, 2, 3 (``OFFSETS``);
``judge`` turns those eight values into the sixth-order estimate n and its allowed error
(see gradcheck's docstring), and ``ladder`` tries h = eps, eps/10, ... (REFINEMENTS times
at most) while a step crosses a built-in kink or its truncation error dominates, keeping
every step it judged (a ``Step``): the verdict uses the one with the smallest tolerance,
the kink test (``_gradcheck_kinks.at_a_kink``) all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._gradcheck_noise import loss_noise

__all__ = ["OFFSETS", "Probe", "Step", "evaluate", "judge", "ladder", "noise_by_step", "rounding"]

Index = tuple[int, ...]
# Which side of its kink each built-in ReLU-like unit's input is on (``kink_probe``).
Probe = Callable[[], list[np.ndarray]]

ULP = float(np.finfo(np.float64).eps)
ROUNDING_SAFETY = 64.0  # units in the last place a loss evaluation may carry
NOISE_SAFETY = 10.0  # standard deviations of the measured loss noise, through the stencil
REFINEMENTS = 4  # the step goes down to eps / 10^4 where needed
OFFSETS = (1, -1, 2, -2, 3, -3, 0.5, -0.5)  # gradcheck's evaluations, in units of the step h
SIXTH_ORDER = (45, -45, -9, 9, 1, -1, 0, 0)  # n = sum_k w_k L_k / 60h


@dataclass(frozen=True)
class Step:
    """One step size tried for an entry: h, the loss at θ + k h for k in ``OFFSETS``, the
    sixth-order estimate n, its allowed error, and the loss's measured noise at that step."""

    h: float
    values: tuple[float, ...]
    n: float
    allowed: float
    noise: float


def evaluate(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    offsets: Sequence[float],
    probe: Probe | None,
) -> tuple[list[float], bool]:
    """f at x[idx] + k eps for each offset k (x restored); whether ``probe()`` changed."""
    original = x[idx]
    values: list[float] = []
    states: list[list[np.ndarray]] = []
    try:
        for k in offsets:
            x[idx] = original + k * eps
            values.append(float(f()))
            if probe is not None:
                states.append(probe())
    finally:
        x[idx] = original
    crossed = any(not np.array_equal(a, b) for s in states[1:] for a, b in zip(states[0], s))
    return values, crossed


def rounding(weights: Sequence[float], values: Sequence[float], noise: float) -> float:
    """What rounding can do to sum_k w_k L_k: ROUNDING_SAFETY ulp of each |w_k L_k|, or
    NOISE_SAFETY times the measured noise (standard deviation of one L_k) through the w_k."""
    ulps = ROUNDING_SAFETY * ULP * sum(abs(w * v) for w, v in zip(weights, values))
    return max(ulps, NOISE_SAFETY * noise * float(np.sqrt(sum(w * w for w in weights))))


def judge(
    values: Sequence[float], h: float, rtol: float, noise: float = 0.0
) -> tuple[float, float, float]:
    """(n, allowed, truncation) from f at x + k h for k = 1, -1, 2, -2, 3, -3, 1/2, -1/2.

    n is the sixth-order estimate from the steps h, 2h, 3h; the fourth-order one differs from
    it by about the fourth-order truncation error, which bounds n's own (two orders smaller)
    where the Taylor series converges at step 3h. Where it does not (a feature of the loss
    narrower than the steps: a near-tie of two huge logits), the two can agree by chance, so
    a second sixth-order estimate from the steps h/2, h, 2h must agree with n as well: the
    truncation term is the sum of both disagreements. The rounding part (``rounding``)
    goes through the sixth-order stencil.
    """
    d1, d2, d3 = values[0] - values[1], values[2] - values[3], values[4] - values[5]
    d_half = values[6] - values[7]
    n4 = (8 * d1 - d2) / (12 * h)
    n6 = (45 * d1 - 9 * d2 + d3) / (60 * h)
    n6_small = (256 * d_half - 40 * d1 + d2) / (180 * h)  # Richardson on h/2, h, 2h
    truncation = abs(n4 - n6) + abs(n6_small - n6)
    allowed = rtol * abs(n6) + truncation + rounding(SIXTH_ORDER, values, noise) / (60 * h)
    return n6, allowed, truncation


def ladder(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    rtol: float,
    probe: Probe | None,
    noise: Callable[[float], float] = lambda h: 0.0,
    below: float | None = None,
) -> list[Step]:
    """Every step judged for entry ``idx`` (none when every step tried crosses a kink).

    The step starts at ``eps`` and shrinks tenfold (REFINEMENTS times at most) while it
    crosses a built-in kink or its truncation error dominates: a smaller step trades
    truncation for rounding, and trained ReLU networks often hold an input within 1e-6 of
    a kink. With ``below``, every step of the ladder smaller than that one is judged.
    """
    judged: list[Step] = []
    steps = eps * 0.1 ** np.arange(REFINEMENTS + 1)
    if below is not None:
        steps = steps[steps < 0.5 * below]
    for h, smaller in zip(steps, [*steps[1:], None]):
        values, crossed = evaluate(f, x, idx, h, OFFSETS, probe)
        if crossed:
            continue
        n, allowed, truncation = judge(values, h, rtol, noise(h))
        judged.append(Step(float(h), tuple(values), n, allowed, noise(h)))
        # a smaller step helps while truncation dominates, or while the noise within reach
        # falls faster than the step (the steps reached a noisier regime of the loss)
        settled = smaller is None or noise(h) <= 10 * noise(smaller)
        if below is None and truncation <= 0.5 * allowed and settled:
            break
    return judged


def noise_by_step(
    f: Callable[[], float],
    arrays: list[np.ndarray],
    rng: np.random.Generator,
    probe: Probe | None,
) -> Callable[[float], float]:
    """noise(h): the loss's measured noise within the span of the steps h (the farthest, 3h),
    measured once per step size, when an entry first needs it. On its own random stream, so
    the entries sampled with ``seed`` stay the ones they were."""
    streams = rng.spawn(REFINEMENTS + 1)
    measured: dict[float, float] = {}

    def noise(h: float) -> float:
        if h not in measured:
            stream = streams[min(len(measured), REFINEMENTS)]
            measured[h] = loss_noise(f, arrays, stream, max(OFFSETS) * h, probe)
        return measured[h]

    return noise
