"""gradcheck's finite differences for one entry: the stencil, its tolerance, the step ladder.

For an entry θ_i the loss L is evaluated at θ_i ± k h for k = 1/2, 1, 2, 3 (``OFFSETS``);
``judge`` turns those eight values into the sixth-order estimate n and its allowed error
(see gradcheck's docstring), and ``ladder`` tries h = eps, eps/10, ... (REFINEMENTS times
at most) while a step crosses a built-in kink or its truncation error dominates, keeping
every step it judged (a ``Step``): the verdict uses the one with the smallest tolerance,
the kink test (``_gradcheck_kinks.at_a_kink``) all of them.

A step that crosses a built-in kink is not lost: the kink lies on one side of θ, and on the
other side the loss is smooth from θ on (``side_estimate``). From L0 = L(θ) and the values
already taken on that side, the secant slopes g(t) = s (L(θ + s t h) - L0) / (t h), t = 1/2,
1, 2, 3, are extrapolated to t -> 0 by the cubic through all four (error ~ h⁴); the
quadratics through t = 1/2, 1, 2 and t = 1, 2, 3 differ from it by about their own errors
(~ h³), which bound the cubic's where the Taylor series converges, and are its truncation
term. A trained ReLU network often holds a unit's input 1e-7 from its kink for one sample:
every central step crosses it, yet the side away from it judges the entry at h = eps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ._gradcheck_noise import loss_noise

__all__ = [
    "OFFSETS",
    "Probe",
    "Step",
    "evaluate",
    "coarsened",
    "resolution",
    "judge",
    "ladder",
    "noise_by_step",
    "rounding",
    "lagrange_at_zero",
    "side_again",
    "side_estimate",
]

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
    sixth-order estimate n, its allowed error, and the loss's measured noise at that step.
    ``side`` is 0 for the central estimate; +1 or -1 for the one-sided estimate from the
    values on that side of θ (the other side crossed a built-in kink)."""

    h: float
    values: tuple[float, ...]
    n: float
    allowed: float
    noise: float
    side: int = 0


def evaluate(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    offsets: Sequence[float],
    probe: Probe | None,
) -> tuple[list[float], bool]:
    """f at x[idx] + k eps for each offset k (x restored); whether ``probe()`` changed."""
    values, states = _evaluate(f, x, idx, eps, offsets, probe)
    return values, any(_moved(states[0], state) for state in states[1:])


def _evaluate(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    offsets: Sequence[float],
    probe: Probe | None,
) -> tuple[list[float], list[list[np.ndarray]]]:
    """f at x[idx] + k eps for each offset k (x restored), and ``probe()`` after each."""
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
    return values, states


Skipped = None  # the probe's state at a point ``_step_points`` did not evaluate


def _step_points(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    h: float,
    probe: Probe | None,
    at_theta: list[np.ndarray] | None,
) -> tuple[list[float], list[list[np.ndarray] | None]]:
    """A step's values at θ + k h for k in OFFSETS, as ``_evaluate``, without the points
    whose value no estimate can use: once a point has moved some built-in unit across its
    kink (the central estimate is lost), a point on a side where one has already left θ's
    side of a kink (``at_theta``; any side without it) is not evaluated (NaN, state
    ``Skipped``). The estimates built from the step are those of the full evaluation."""
    original = x[idx]
    values: list[float] = []
    states: list[list[np.ndarray] | None] = []
    central_lost, lost_sides = False, set()
    try:
        for k in OFFSETS:
            side = 1 if k > 0 else -1
            if central_lost and (at_theta is None or side in lost_sides):
                values.append(float("nan"))
                states.append(Skipped)
                continue
            x[idx] = original + k * h
            values.append(float(f()))
            if probe is None:
                continue
            state = probe()
            states.append(state)
            central_lost = central_lost or _moved(states[0], state)  # type: ignore[arg-type]
            if at_theta is not None and _moved(at_theta, state):
                lost_sides.add(side)
    finally:
        x[idx] = original
    return values, states


def _central_lost(states: list[list[np.ndarray] | None]) -> bool:
    """Whether some point of a step (``_step_points``) put a built-in unit on another side
    of its kink than the first point did (a skipped point: one already had). No probe, no
    states: False."""
    return any(state is Skipped or _moved(states[0], state) for state in states[1:])  # type: ignore[arg-type]


def _moved(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    """Whether some built-in unit's input changed side of its kink."""
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


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


def lagrange_at_zero(ts: Sequence[float]) -> list[float]:
    """Weights c_j with sum_j c_j g(t_j) = p(0), p the polynomial through the (t_j, g(t_j))."""
    return [float(np.prod([tk / (tk - tj) for tk in ts if tk != tj])) for tj in ts]


SIDE_POINTS = (0.5, 1.0, 2.0, 3.0)  # the one-sided estimate's steps, in units of h
CUBIC = np.array(lagrange_at_zero(SIDE_POINTS))  # the secants' weights for p(0) ...
QUADRATICS = np.array([[*lagrange_at_zero(SIDE_POINTS[:3]), 0.0],  # ... and the two below
                       [0.0, *lagrange_at_zero(SIDE_POINTS[1:])]])  # fmt: skip


def side_estimate(
    values: Sequence[float], base: float, h: float, side: int, rtol: float, noise: float = 0.0
) -> tuple[float, float]:
    """(n, allowed) of the one-sided derivative at θ from the side ``side`` (+1 or -1):
    ``values`` at θ + k h for k in OFFSETS, ``base`` = L(θ). See the module docstring."""
    by_offset = dict(zip(OFFSETS, values))
    side_values = np.array([by_offset[side * t] for t in SIDE_POINTS])
    secants = side * (side_values - base) / (np.array(SIDE_POINTS) * h)
    n = float(CUBIC @ secants)
    truncation = float(np.sum(np.abs(n - QUADRATICS @ secants)))
    coefficients = [*(side * CUBIC / SIDE_POINTS), -side * float(np.sum(CUBIC / SIDE_POINTS))]
    allowed = rtol * abs(n) + truncation + rounding(coefficients, [*side_values, base], noise) / h
    return n, allowed


SIDE_WEIGHTS = [*(CUBIC / SIDE_POINTS), -float(np.sum(CUBIC / SIDE_POINTS))]  # times ±1/h


def coarsened(step: Step, base: float, resolution: float) -> Step:
    """``step`` with each of its loss values known only to what the loss resolves there.

    A float64 loss computed to a few ulp of itself takes at most three distinct values at
    the step's nine points (θ and θ + k h) only where it changes by less than that ulp. A
    loss computed through a rounded quantity (-log p with p near 1) moves in quanta far
    above its own ulp (ulp(1) per sample): its values sit on one to three levels while its
    slope, ~1e-16, is far above what the ulp of a loss of 1e-16 allows, and a correct
    network FAILED at 1e11 times its tolerance. So when a step's values (of its side, for a
    one-sided step) take at most three levels, each is taken as known to the larger of
    their spread and the loss's ``resolution`` (its quantum, or, where the loss is flat and
    at most its rounding at its scale, that rounding; 0 for a loss resolved to its ulp).
    A piecewise linear loss flat on one side of a kink takes more levels on the other side
    and is judged as before. The allowed error grows by that through the stencil's
    weights, over h."""
    by_offset = dict(zip(OFFSETS, step.values))
    used = [base, *(step.values if step.side == 0 else
                    (by_offset[step.side * t] for t in SIDE_POINTS))]  # fmt: skip
    if len(set(used)) > 3:
        return step
    delta = max(max(used) - min(used), resolution)
    weights = [w / 60 for w in SIXTH_ORDER] if step.side == 0 else SIDE_WEIGHTS
    return replace(step, allowed=step.allowed + delta * sum(map(abs, weights)) / step.h)


def resolution(quantum: float | None, base: float, scale: float) -> float:
    """What the loss resolves near θ, for ``coarsened``: its quantum (``loss_quantum``) where
    it moves in steps; where it is flat and L(θ) is at most its rounding at its ``scale``
    (its size where it is not saturated: 0 included, as -log p where p rounds to 1 while
    backward gives 1e-35), that rounding, ROUNDING_SAFETY ulp of the scale; else 0."""
    if quantum is None:
        floor = ROUNDING_SAFETY * ULP * scale
        return floor if abs(base) <= floor else 0.0
    return quantum


def ladder(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    rtol: float,
    probe: Probe | None,
    noise: Callable[[float], float] = lambda h: 0.0,
    below: float | None = None,
    theta: tuple[float, list[np.ndarray]] | None = None,
) -> list[Step]:
    """Every step judged for entry ``idx`` (none when every step tried crosses a kink).

    The step starts at ``eps`` and shrinks tenfold (REFINEMENTS times at most) while it
    crosses a built-in kink or its truncation error dominates: a smaller step trades
    truncation for rounding, and trained ReLU networks often hold an input within 1e-6 of
    a kink. With ``below``, every step of the ladder smaller than that one is judged. A
    step that crosses a built-in kink gives instead a one-sided ``Step`` (``side`` ±1) from
    each side of θ whose points cross none (``side_estimate``), given ``theta``: L(θ) and
    ``probe()`` at θ.
    """
    judged: list[Step] = []
    steps = eps * 0.1 ** np.arange(REFINEMENTS + 1)
    if below is not None:
        steps = steps[steps < 0.5 * below]
    at_theta = None if theta is None else theta[1]
    for h, smaller in zip(steps, [*steps[1:], None]):
        values, states = _step_points(f, x, idx, h, probe, at_theta)
        if _central_lost(states):
            if theta is not None:
                judged += _sides(values, states, theta, h, rtol, noise(h))
            continue
        n, allowed, truncation = judge(values, h, rtol, noise(h))
        judged.append(Step(float(h), tuple(values), n, allowed, noise(h)))
        # a smaller step helps while truncation dominates, or while the noise within reach
        # falls faster than the step (the steps reached a noisier regime of the loss)
        settled = smaller is None or noise(h) <= 10 * noise(smaller)
        if below is None and truncation <= 0.5 * allowed and settled:
            break
    return judged


def _sides(
    values: list[float],
    states: list[list[np.ndarray] | None],
    theta: tuple[float, list[np.ndarray]],
    h: float,
    rtol: float,
    noise: float,
) -> list[Step]:
    """The one-sided steps from each side of θ whose points cross no built-in kink."""
    base, at_theta = theta
    crossed = {
        k for k, state in zip(OFFSETS, states) if state is Skipped or _moved(at_theta, state)
    }
    out = []
    for side in (1, -1):
        if not crossed & {side * t for t in SIDE_POINTS}:
            n, allowed = side_estimate(values, base, h, side, rtol, noise)
            out.append(Step(float(h), tuple(values), n, allowed, noise, side))
    return out


def side_again(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    step: Step,
    rtol: float,
    probe: Probe | None,
    noise: Callable[[float], float],
    theta: tuple[float, list[np.ndarray]] | None,
) -> Step | None:
    """The one-sided ``step`` redone at a tenth of its h from the same side (None if that
    side crosses a kink there too): a one-sided estimate FAILS an entry only when both agree
    it is wrong, so a truncation bound that was too hopeful at h cannot FAIL right math."""
    if probe is None or theta is None:  # no built-in kink: there are no one-sided steps
        return None
    h = step.h / 10
    values, states = _step_points(f, x, idx, h, probe, theta[1])
    again = [s for s in _sides(values, states, theta, h, rtol, noise(h)) if s.side == step.side]
    return again[0] if again else None


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
