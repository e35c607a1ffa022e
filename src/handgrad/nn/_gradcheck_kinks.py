"""gradcheck's view of kinks: the built-in probe, and a test that needs no help from the module.

**The probe.** A module says it has a kink with a ``kink`` attribute (the input where its
derivative jumps, e.g. 0.0) and keeps its last input as ``_x`` or ``x``, as ReLU and
LeakyReLU do; Sequentials are searched all the way down. A step that moves such an input
across its kink is not used (``kink_probe``).

**The layers' probe** (``reaches_a_bend``), asked of a model's entry that failed: the same
question for every layer's output, without a ``kink`` attribute. A step h is not used when
some element of some layer's output bends within θ ± 3h (its second differences over that
span are not alike, as a smooth element's are); a tie of a learner's maxout 3e-6 from θ
bends the steps 1e-3 .. 1e-5 too little for the loss's slopes to show it, yet enough to
FAIL a correct backward. When every step reaches a kink and no layer bends at θ itself
(``bends_at``), the kink lies near θ within even the finest reach: the entry is a kink.

**The one-sided test** (``at_a_kink``), for any loss, asked only about an entry that failed.
A learner's own ReLU, abs, clip or max has no ``kink`` attribute, and at its kink (XOR's
corners with zero biases, symmetric weights, a tie in a max) the central difference
measures the mean of the two one-sided slopes, not the slope backward took. From the loss
at θ, L0, and the values the steps already took, the one-sided slopes

    right(t) = (L(θ + t) - L0) / t        left(t) = (L0 - L(θ - t)) / t

are extrapolated to t -> 0 by the quadratic through t = h/2, h, 2h (error ~ h³; the one
through h, 2h, 3h gives a second value, and their difference bounds the error, with the
rounding through the same weights). For a smooth loss both tend to the derivative and their
gap shrinks like t; at a kink the gap stays. An entry that fails is counted as a kink, not
as a failure, only when

1. the loss is not smooth at θ (``shows_a_kink``): the two slopes differ by more than
   KINK_SAFETY times their errors (the slope jumps), or the central estimate lies outside
   both by more than its own tolerance (the curvature jumps: a kink whose slopes agree
   still biases the central difference by ~h). A failed entry whose loss shows a kink at
   some step is judged at every smaller step of the ladder too (gradcheck.py), and, as a
   built-in kink's crossing steps are, the steps that show it are not used for the verdict;
2. backward is right beside θ (``Nearby.gradient``, a model only): its value with the entry
   moved by ±t (t = BESIDE h, and ±2t for its own drift) agrees with the slope on that side,
   h the smallest step that shows the kink (a kink at θ shows at every step, so that is the
   finest; a neighbour shows only at the steps that reach it, and bends their slopes, so a
   backward beside θ disagrees and the entry is judged as it should be). Backward's value
   *at* θ is not judged: at a kink every side's slope, or a mix, is right (x > 0 or x >= 0
   for a ReLU; on a zero layer whose inputs have both signs it may lie outside both slopes).
   A backward wrong beside the kink is FAILED there, and at every entry away from kinks.
   For a bare function (no backward to move) the analytic value must lie between the two
   slopes instead; where the failed step's slopes are too rounded to show a kink within
   its reach (a jump of 1e-10 on a loss of 1 at h = 1e-3, which still biases the central
   estimate past its tolerance), between those of 10 or 100 times the step, when they
   show it and agree with the step's own on each side (``unseen_kink``). One exception,
   as for the probe: a kink near θ but not at it (no layer output bends at θ, ``_bends``)
   that even the finest step crosses (``_crossed``): no step can judge that entry, so it
   is a kink.

One more case passes 2 with 1 false: the loss is smooth along the entry, yet backward's
value at θ is neither side's limit, because kinks inside the model cancel in the loss (two
leaky units on their kinks with opposite weights) or a unit on its kink feeds one on its
own. That is a kink only if some layer's output bends at θ (``Nearby.activations``); a
backward that jumps by itself on a smooth model (an argmax tie in a wrong gradient) is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._gradcheck_steps import (
    OFFSETS,
    ROUNDING_SAFETY,
    ULP,
    Index,
    Probe,
    Step,
    evaluate,
    lagrange_at_zero,
    rounding,
)
from .layers import Module, Sequential

__all__ = [
    "Nearby",
    "at_a_kink",
    "bends_at",
    "bends_beside",
    "kink_probe",
    "one_sided",
    "reaches_a_bend",
    "shows_a_kink",
    "unseen_kink",
]

KINK_SAFETY = 2.0  # the slopes must differ by this many times the sum of their errors
FINE = (0.5, 1.0, 2.0)  # one-sided steps of the estimate, in units of h
COARSE = (1.0, 2.0, 3.0)  # and of the second estimate that bounds its error
BESIDE = 0.01  # backward is checked at θ ± BESIDE h and θ ± 2 BESIDE h, h the finest step
WIDER = (10.0, 100.0)  # the larger steps that look for a kink a step's slopes cannot resolve


def kink_probe(model: Module) -> Probe | None:
    """A function returning, for every ReLU-like unit, which side of its kink each input is on
    (-1, 0 on it, +1).

    A module says it has a kink with a ``kink`` attribute (the input where its derivative
    jumps, e.g. 0.0) and keeps its last input as ``_x`` or ``x``, as ReLU and LeakyReLU do.
    """
    kinked: list[tuple[Module, float]] = [
        (m, kink) for m in _modules(model) if (kink := getattr(m, "kink", None)) is not None
    ]
    if not kinked:
        return None
    # three states (below, on, above): an input exactly on its kink changes state on
    # either side, so neither side of θ is taken as smooth there
    return lambda: [np.sign(_last_input(m) - kink) for m, kink in kinked]


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


# --- the one-sided test -------------------------------------------------------------------


@dataclass(frozen=True)
class Slopes:
    """The one-sided slopes at θ extrapolated to a zero step, each with its error bound."""

    left: float
    right: float
    left_error: float
    right_error: float

    @property
    def low(self) -> float:
        return min(self.left - self.left_error, self.right - self.right_error)

    @property
    def high(self) -> float:
        return max(self.left + self.left_error, self.right + self.right_error)

    def jump(self) -> bool:
        """The slopes differ by more than KINK_SAFETY times their errors."""
        return abs(self.right - self.left) > KINK_SAFETY * (self.left_error + self.right_error)

    def hold(self, value: float, margin: float = 0.0) -> bool:
        """``value`` lies between the slopes (errors and ``margin`` included)."""
        return self.low - margin <= value <= self.high + margin


def _one_side(step: Step, base: float, sign: int, ts: Sequence[float]) -> tuple[float, float]:
    """(slope, rounding bound) of one side (sign +1 right, -1 left) through the steps ``ts``:
    sum_j w_j sign (L(θ + sign t_j h) - L0) / (t_j h)."""
    by_offset = dict(zip(OFFSETS, step.values))
    weights = [sign * w / t for w, t in zip(lagrange_at_zero(ts), ts)]
    values = [by_offset[sign * t] for t in ts] + [base]
    coefficients = [*weights, -sum(weights)]
    slope = sum(c * v for c, v in zip(coefficients, values)) / step.h
    return slope, rounding(coefficients, values, step.noise) / step.h


def one_sided(step: Step, base: float, rtol: float) -> Slopes:
    """The left and right slopes at θ from a step's values and L0 = ``base``."""
    ends = []
    for sign in (-1, 1):
        fine, rounding = _one_side(step, base, sign, FINE)
        coarse, _ = _one_side(step, base, sign, COARSE)
        ends.append((fine, abs(fine - coarse) + rounding + rtol * abs(fine)))
    (left, left_error), (right, right_error) = ends
    return Slopes(left, right, left_error, right_error)


def shows_a_kink(steps: Sequence[Step], base: float, rtol: float) -> bool:
    """Whether some step shows the loss is not smooth at θ: its one-sided slopes differ by
    more than KINK_SAFETY times their errors (the slope jumps), or the central estimate lies
    outside both by more than its own tolerance (the curvature jumps)."""
    for step in steps:
        slopes = one_sided(step, base, rtol)
        if slopes.jump() or not slopes.hold(step.n, margin=step.allowed):
            return True
    return False


def unseen_kink(
    f: Callable[[], float], x: np.ndarray, idx: Index, step: Step, base: float, rtol: float
) -> Slopes | None:
    """The one-sided slopes of a kink within the reach of ``step`` whose own slopes are too
    rounded to show it, for the callable form (only the loss tells where its kinks are);
    None if no larger step shows one. At 10 and 100 times the step the slopes' rounding is
    that much smaller; the first whose slopes jump (``Slopes.jump``) while each side agrees
    with the step's own (within both errors: the kink lies within the step's reach, or so
    close that its slopes cannot tell) gives them. As at a kink the step shows, the entry
    is a kink when the analytic value lies between them."""
    near = one_sided(step, base, rtol)
    for scale in WIDER:
        h = step.h * scale
        try:  # a loss that overflows or refuses its input so far from θ shows nothing here
            with np.errstate(all="ignore"):
                values = evaluate(f, x, idx, h, OFFSETS, None)[0]
                wide = one_sided(Step(h, tuple(values), 0.0, 0.0, step.noise), base, rtol)
        except (ArithmeticError, ValueError):
            return None
        if not _agree(near, wide):
            return None
        if wide.jump():
            return wide
    return None


def _agree(near: Slopes, wide: Slopes) -> bool:
    """Each side's slope agrees at the two steps, within the sum of their errors."""
    return (abs(near.left - wide.left) <= near.left_error + wide.left_error
            and abs(near.right - wide.right) <= near.right_error + wide.right_error)  # fmt: skip


@dataclass(frozen=True)
class Nearby:
    """What a model (not a bare function) shows near θ along one entry moved by t:
    ``gradient(t)``, backward's value for the entry; ``activations(t)``, the output of every
    layer (the modules a Sequential chains, nested ones included); ``finest``, the smallest
    step the ladder may take."""

    gradient: Callable[[float], float]
    activations: Callable[[float], list[np.ndarray]]
    finest: float  # the smallest step the ladder may take


def at_a_kink(
    analytic: float,
    steps: Sequence[Step],
    base: float,
    rtol: float,
    nearby: Nearby | None = None,
) -> bool:
    """Whether a failed entry sits on a kink where backward is right (see the module
    docstring). ``steps`` as the ladder judged them, largest first; ``base`` is L(θ);
    ``nearby`` None for a function (then ``analytic`` must lie between the one-sided
    slopes of a loss that shows a kink)."""
    showing = [k for k, step in enumerate(steps) if shows_a_kink([step], base, rtol)]
    rough = bool(showing)
    # the slopes of the smallest step that shows the kink: a kink at θ shows at every step,
    # so that is the finest; a neighbour shows only at the steps that reach it, whose slopes
    # it bends (then backward beside θ disagrees with them, and the entry is judged)
    k = showing[-1] if rough else len(steps) - 1
    ref = one_sided(steps[k], base, rtol)
    if nearby is None:
        return rough and ref.hold(analytic)
    t = steps[k].h * BESIDE
    at_theta = []
    for sign, slope, error in ((1, ref.right, ref.right_error),
                               (-1, ref.left, ref.left_error)):  # fmt: skip
        near, far = nearby.gradient(sign * t), nearby.gradient(2 * sign * t)
        if abs(near - slope) > error + 2 * abs(far - near):
            # backward is wrong beside θ, unless a kink near θ (not at θ: there the slopes
            # are θ's own) lies so close that even the finest step crosses it: then no
            # step can judge the entry, as the probe says for a built-in unit
            outputs = [nearby.activations(j * t) for j in (-2, -1, 0, 1, 2)]
            return rough and not _bends(outputs) and _crossed(nearby)
        at_theta.append(2 * near - far)  # backward's limit at θ from that side
    if rough:
        return True
    # The loss is smooth along this entry, yet backward's value at θ is neither side's limit:
    # right only if some layer's output bends at θ (kinks that cancel in the loss, or a unit
    # whose kink feeds a unit on its own kink), not for a backward that jumps by itself.
    tolerance = min(step.allowed for step in steps)
    jumps = any(abs(analytic - limit) > tolerance for limit in at_theta)
    return jumps and _bends([nearby.activations(k * t) for k in (-2, -1, 0, 1, 2)])


def bends_at(nearby: Nearby) -> bool:
    """Whether some layer's output has a kink at θ itself (within 2 BESIDE finest steps)."""
    t = nearby.finest * BESIDE
    return _bends([nearby.activations(k * t) for k in (-2, -1, 0, 1, 2)])


def _bends(outputs: list[list[np.ndarray]]) -> bool:
    """outputs[k] = every layer's output with the entry moved by (k - 2) t: whether some
    element has a kink at θ: its second difference across θ is KINK_SAFETY² times those on
    either side (where a smooth element has all three alike) and above rounding."""
    for layer in zip(*outputs):
        m2, m1, z, p1, p2 = (np.asarray(y, dtype=np.float64) for y in layer)
        across = np.abs(p1 - 2 * z + m1)
        sides = np.abs(z - 2 * m1 + m2) + np.abs(p2 - 2 * p1 + z)
        floor = ROUNDING_SAFETY * ULP * (np.abs(m2) + np.abs(m1) + 2 * np.abs(z) + np.abs(p1)
                                         + np.abs(p2))  # fmt: skip
        if np.any(across > KINK_SAFETY**2 * sides + floor):
            return True
    return False


def _crossed(nearby: Nearby) -> bool:
    """Whether some layer's output has a kink within the finest step's reach."""
    return reaches_a_bend(nearby, nearby.finest)


def reaches_a_bend(nearby: Nearby, h: float) -> bool:
    """Whether some layer's output has a kink within the reach of the step h (θ ± 3h, the
    stencil's span), as the probe asks of a built-in unit: among each element's second
    differences at the points -3h .. 3h (spacing h), one stands out KINK_SAFETY² times over
    the median and above rounding. A smooth element has them all alike (y'' h², varying by
    its third derivative times h³ across the span); a piecewise-linear one has them zero
    except the one or two whose three points straddle the kink (its slope's jump times up
    to h)."""
    return _stands_out([nearby.activations(k * h) for k in range(-3, 4)])


def bends_beside(nearby: Nearby, step: Step) -> bool:
    """Whether some layer's output has a kink within a one-sided step's reach (θ to θ + 3h
    on its side, points h/2 apart): the same test as ``reaches_a_bend``, on that side only."""
    return _stands_out([nearby.activations(step.side * k * step.h / 2) for k in range(7)])


def _stands_out(outputs: list[list[np.ndarray]]) -> bool:
    """outputs[k] = every layer's output at equally spaced points: whether some element's
    second differences hold one KINK_SAFETY² times over their median and above rounding."""
    for layer in zip(*outputs):
        y = np.stack([np.asarray(v, dtype=np.float64) for v in layer])
        second = np.abs(y[2:] - 2 * y[1:-1] + y[:-2])
        floor = 4 * ROUNDING_SAFETY * ULP * np.max(np.abs(y))  # the layer's scale: y may cancel
        if np.any(second.max(axis=0) > KINK_SAFETY**2 * np.median(second, axis=0) + floor):
            return True
    return False
