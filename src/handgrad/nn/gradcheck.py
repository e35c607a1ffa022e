"""Gradient checking by central finite differences, with a verdict that knows its resolution.

For each checked entry θ_i the loss L is evaluated at θ_i ± k h for k = 1/2, 1, 2, 3 (h =
``eps``); with d_k = L(θ_i + k h) - L(θ_i - k h):

    n4_i = (8 d_1 - d_2) / 12h                      error ~ h⁴
    n_i  = (45 d_1 - 9 d_2 + d_3) / 60h             error ~ h⁶ (the one reported)
    n'_i = (256 d_½ - 40 d_1 + d_2) / 180h          error ~ h⁶ / 36

The entry agrees with the analytic gradient a_i when

    |a_i - n_i| <= allowed_i = rtol |n_i| + |n4_i - n_i| + |n'_i - n_i|
                               + max(ROUNDING_SAFETY ulp Σ_k |w_k L_k|, NOISE_SAFETY σ ‖w‖) / h

The middle terms are the truncation error: |n4 - n| is about n4's own (two orders of h above
n's) wherever the Taylor series converges at step 3h, and n' (smaller steps) catches the
places where it does not and the two agree by chance. The last term is the rounding error
of the stencil: each loss value L_k is known to a few units in its last place, or, where it
is computed with cancellation (a fitted regression with large targets), to its noise σ
measured within reach of the steps (``_gradcheck_noise.loss_noise``, once per step size);
the stencil's weights w_k divide that by h. All
come from the problem itself (its loss, its step, its curvature at that entry), so the
verdict means the same for a gradient of 1e-12 and one of 1e+3: PASSED says every checked
entry agrees with finite differences to what finite differences can resolve there. Where
a step crosses a kink or its truncation dominates, the entry is redone with a step ten
times smaller (REFINEMENTS times at most). A loss that moves in quanta far above its ulp
near θ (-log p with p near 1), or is exactly 0 there, does not resolve a slope below its
quantum (``loss_quantum``) or its rounding at its scale, its size where it is not
saturated: a step whose values take at most three levels has each known to that
(``coarsened``), so a correct -log softmax at a one-hot softmax PASSES.
The measurements behind these rules and their known limits are in docs/gradcheck.md of
handgrad's source tree.

    gradcheck(f, params, grads)        any callable f() -> scalar that reads the float64
                                       arrays in ``params`` (dict or list); ``grads`` are the
                                       analytic gradients to verify, shaped like ``params``
    gradcheck(model, loss, X, y)       a Module with a Loss on one batch; a float16/float32/
                                       mixed model is checked on a float64 copy (the model is
                                       untouched); the gradients checked are those of a second
                                       backward pass (a backward adding to .grad FAILS)

Refused with an error naming the problem, since no finite difference can judge them: a loss
that changes between calls at the same θ (a dropout drawing new masks), a layer returning
float32 or rounding to float32/float16 inside (its staircase looks like kinks), a backward
returning or computing in float32 (its rounding FAILS right math), a loss (or, in the
callable form, f) computing in float32 (its rounding widens every tolerance).

Kinks (``_gradcheck_kinks``): at a kink the finite difference measures the mean of two
slopes, not the one backward took, so such an entry is counted as a kink and not checked.
A built-in ReLU-like unit (any module with a ``kink`` attribute) is probed directly: a step
that moves its input across the kink is not used, and an entry whose every step does is a
kink. Any other kink (a learner's own ReLU, abs, clip or max) is found, for an entry that
fails, first from the layers: a step whose reach holds a kink of some layer's output is
not used (``_clean``; every step reaching a kink near θ but none at θ: a kink), then from
the loss: the entry is a kink only when the loss's one-sided slopes show one at θ (or a kink
in its curvature) and backward, evaluated just beside θ on each side, agrees with the slope
on that side (for the callable form: when a_i lies between the two slopes; where the
step's slopes are too rounded to show a kink within its reach, the slopes at 10 or 100
times the step, ``unseen_kink``). A wrong backward still FAILS there, and everywhere
else.

Known limit of the callable form: a unit whose every input sits within about 1e-5 of its
kink (strong L2 decaying its weights late in training) can FAIL a correct backward, since
the loss is flat there below its last bit and nothing separates a right gradient from a
wrong one of that size; the module form, which sees built-in activations, PASSES it.

The step ladder and stencils live in ``_gradcheck_steps``, the report in
``_gradcheck_report``, the float64 copy and the parameter names in ``_gradcheck_copy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from ._gradcheck_copy import (
    check_backward,
    check_function,
    check_loss,
    float64_problem,
    learner_outputs,
    named_parameters,
)
from ._gradcheck_kinks import (
    Nearby,
    at_a_kink,
    bends_at,
    bends_beside,
    kink_probe,
    reaches_a_bend,
    shows_a_kink,
    unseen_kink,
)
from ._gradcheck_noise import loss_quantum
from ._gradcheck_report import GradcheckReport, ParamCheck
from ._gradcheck_steps import (
    REFINEMENTS,
    ROUNDING_SAFETY,
    ULP,
    Probe,
    Step,
    coarsened,
    evaluate,
    ladder,
    noise_by_step,
    resolution,
    side_again,
)
from .constraints import Options, Real, check
from .init import make_rng
from .layers import Module
from .losses import Loss

Index = tuple[int, ...]
T = TypeVar("T")
ACCUMULATES = (
    "two backward passes at the same parameters gave different gradients: backward adds to "
    ".grad instead of overwriting it (the second pass is the one checked)"
)
# what the model shows near θ along entry idx of the named parameter (None for a function)
Near = Callable[[str, Index], Nearby]

__all__ = ["gradcheck", "numerical_gradient", "GradcheckReport", "ParamCheck"]

# Central-difference stencils: offsets k (in units of h) and weights w;
# derivative = sum_k w f(x + k h) / h.
STENCILS = {
    2: ((1, 0.5), (-1, -0.5)),
    4: ((1, 8 / 12), (-1, -8 / 12), (2, -1 / 12), (-2, 1 / 12)),
}


def numerical_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    eps: float = 1e-6,
    indices: Iterable[int] | None = None,
    order: int = 2,
) -> np.ndarray:
    """Central differences of f() with respect to the array ``x``, perturbed in place.

    Returns an array shaped like ``x`` (entries not in ``indices`` are NaN). ``x`` is
    restored exactly after each entry. ``order`` 2 or 4 picks the stencil.
    """
    check(order, Options(*STENCILS), "order", "numerical_gradient")
    grad = np.full(x.shape, np.nan)
    for idx in _entries(x, indices):
        values = evaluate(f, x, idx, eps, [k for k, _ in STENCILS[order]], None)[0]
        grad[idx] = sum(w * v for (_, w), v in zip(STENCILS[order], values)) / eps
    return grad


def _entries(x: np.ndarray, indices: Iterable[int] | None) -> list[Index]:
    if indices is None:
        return list(np.ndindex(x.shape))
    return [tuple(int(i) for i in np.unravel_index(k, x.shape)) for k in indices]


def _check_arrays(
    named: Sequence[tuple[str, np.ndarray]],
    f: Callable[[], float],
    analytic: Mapping[str, ArrayLike],
    eps: float,
    rtol: float,
    max_entries: int | None,
    rng: np.random.Generator,
    probe: Probe | None,
    scale: float,
    near: Near | None = None,
) -> list[ParamCheck]:
    _require_float64(named)
    base = _deterministic(f)  # L(θ), for the one-sided slopes of an entry that fails
    theta = None if probe is None else (base, probe())  # where the probed units are at θ
    noise = noise_by_step(f, [x for _, x in named], rng, probe)

    resolved = resolution(loss_quantum(f, [x for _, x in named], probe), base, scale)

    def coarse(steps: list[Step]) -> list[Step]:  # what the loss resolves (``coarsened``)
        return [coarsened(step, base, resolved) for step in steps]

    rows = []
    for name, x in named:
        a = np.asarray(analytic[name], dtype=np.float64)
        if a.shape != x.shape:
            raise ValueError(
                f"gradcheck: gradient for {name} has shape {a.shape}, parameter has {x.shape}"
            )
        indices = None
        if max_entries is not None and x.size > max_entries:
            indices = rng.choice(x.size, size=max_entries, replace=False)
        row = ParamCheck(name, tuple(x.shape))
        for idx in _entries(x, indices):
            unseen = partial(_unseen_kink, f, x, idx, base, rtol)
            again = partial(_coarse_again, coarse, f, x, idx, rtol=rtol, probe=probe,
                            noise=noise, theta=theta)  # fmt: skip
            steps = coarse(ladder(f, x, idx, eps, rtol, probe, noise, theta=theta))
            nearby = None if near is None else near(name, idx)
            sided = [step for step in steps if step.side]
            steps = [step for step in steps if not step.side]
            best, beside = _best(steps), _best(sided)
            if beside is not None and (best is None or beside.allowed < best.allowed):
                # a built-in kink within reach on one side only: judged from the other side.
                # A FAIL there must hold at a tenth of the step too, and no layer without a
                # ``kink`` attribute may bend on that side; else the central steps and the
                # kink tests below judge the entry
                if not _fails(a[idx], beside) or _confirmed(a[idx], beside, nearby, again):
                    row.record(idx, float(a[idx]), beside.n, beside.allowed)
                    continue
            if best is not None and _fails(a[idx], best) and nearby is not None:
                smaller = partial(_coarse_ladder, coarse, f, x, idx, eps, rtol, probe, noise)
                steps = _clean(steps, nearby, smaller)
                if not steps:  # every step reaches a kink near θ, none at θ: unjudgeable
                    row.kinks += 1
                    continue
                best = _best(steps)
            if best is not None and _fails(a[idx], best) and shows_a_kink(steps, base, rtol):
                # a kink within reach of some step: every smaller step is judged too, and,
                # as for a built-in kink, the steps that show it are not used
                steps += coarse(ladder(f, x, idx, eps, rtol, probe, noise, below=steps[-1].h))
                smooth = [step for step in steps if not shows_a_kink([step], base, rtol)]
                best = _best(smooth) if smooth and smooth[-1] is steps[-1] else best
            if best is None:  # every step crossed a built-in kink
                row.kinks += 1
            elif _fails(a[idx], best) and at_a_kink(a[idx], steps, base, rtol, nearby):
                row.kinks += 1  # the loss has a kink here and backward is right beside it
            elif nearby is None and _fails(a[idx], best) and unseen(a[idx], best):
                row.kinks += 1  # a kink only larger steps show, and a_i between its slopes
            else:
                row.record(idx, float(a[idx]), best.n, best.allowed)
        rows.append(row)
    return rows


def _unseen_kink(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    base: float,
    rtol: float,
    analytic: float,
    step: Step,
) -> bool:
    """The callable form: a central ``step`` that FAILS reaches a kink only larger steps show
    (``unseen_kink``), and the analytic value lies between that kink's slopes."""
    if step.side:
        return False
    slopes = unseen_kink(f, x, idx, step, base, rtol)
    return slopes is not None and slopes.hold(analytic)


def _coarse_ladder(
    coarse: Callable[[list[Step]], list[Step]], *args: Any, **kwargs: Any
) -> list[Step]:
    return coarse(ladder(*args, **kwargs))


def _coarse_again(
    coarse: Callable[[list[Step]], list[Step]], *args: Any, **kwargs: Any
) -> Step | None:
    step = side_again(*args, **kwargs)
    return None if step is None else coarse([step])[0]


def _require_float64(named: Sequence[tuple[str, np.ndarray]]) -> None:
    for name, x in named:
        if getattr(x, "dtype", None) != np.float64:
            raise TypeError(
                f"gradcheck: {name} is {getattr(x, 'dtype', type(x).__name__)}; finite "
                "differences need float64 arrays (make float64 copies, build f on them, and "
                "check those)"
            )


def _deterministic(f: Callable[[], float]) -> float:
    """f() at θ, after checking that three calls agree to rounding: a loss that changes from
    call to call (a dropout drawing a new mask in each forward, a layer keeping state between
    calls) makes every finite difference noise, which the noise measure would turn into a
    tolerance wide enough to pass any backward."""
    values = [float(f()) for _ in range(3)]
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"gradcheck: the loss is {values[-1]} at the parameters given; finite differences "
            "need a finite loss (a diverged model, or a log of 0 somewhere in the loss)"
        )
    spread = max(values) - min(values)
    if spread > ROUNDING_SAFETY * ULP * max(map(abs, values)):
        raise ValueError(
            "gradcheck: the loss is not a function of the parameters alone: three evaluations "
            f"at the same parameters gave {', '.join(f'{v:.17g}' for v in values)} (a layer "
            "that draws random numbers in forward, as dropout does, keeps state between "
            "calls, or changes its input in place). Finite differences need the same loss "
            "each time: fix the randomness for the check (dropout off, or one mask drawn "
            "once and kept) and check again"
        )
    return values[-1]


def _clean(steps: list[Step], nearby: Nearby, smaller: Callable[..., list[Step]]) -> list[Step]:
    """The steps of a failed entry whose reach holds no kink of any layer's output: what the
    probe does for a built-in unit, asked of every layer. When none of the judged steps is
    clean, every smaller step of the ladder is tried too. When every step reaches a kink:
    all of them if some layer's output bends at θ itself (``at_a_kink`` then judges backward
    beside it), else none: a kink near θ inside even the finest step's reach (a tie that
    training left 1e-8 away), which no step can judge."""
    clean = [step for step in steps if not reaches_a_bend(nearby, step.h)]
    if not clean:
        steps = steps + smaller(below=steps[-1].h)
        clean = [step for step in steps if not reaches_a_bend(nearby, step.h)]
    if clean or not bends_at(nearby):
        return clean
    return steps


def _confirmed(
    analytic: float, step: Step, nearby: Nearby | None, again: Callable[[Step], Step | None]
) -> bool:
    """Whether a one-sided step's FAIL stands: the same side at a tenth of the step FAILS
    too, and no layer's output without a ``kink`` attribute bends within its reach."""
    smaller = again(step)
    if smaller is None or not _fails(analytic, smaller):
        return False
    return nearby is None or not bends_beside(nearby, step)


def _best(steps: list[Step]) -> Step | None:
    """The step whose estimate has the smallest tolerance."""
    return min(steps, key=lambda step: step.allowed, default=None)


def _fails(analytic: float, step: Step) -> bool:
    return bool(abs(analytic - step.n) > step.allowed)


def gradcheck(
    target: Module | Callable[[], float],
    *args: Any,  # (loss, X, y) for a module, (params, grads) for a function: checked below
    eps: float = 1e-3,
    rtol: float = 1e-6,
    max_entries: int | None = None,
    seed: int | None = 0,
) -> GradcheckReport:
    """Compare analytic gradients with finite differences; see the module docstring.

    ``eps`` is the step h; ``rtol`` the relative part of the allowed error;
    ``max_entries`` samples that many entries per parameter (drawn with ``seed``).
    Returns a ``GradcheckReport``: ``passed``, ``rows`` (one ``ParamCheck`` per parameter),
    ``table()``, ``summary()``, ``explanation()`` (one sentence when it failed), ``note``.
    """
    eps = check(eps, Real(0.0, low_open=True), "eps", "gradcheck")
    rtol = check(rtol, Real(0.0), "rtol", "gradcheck")
    rng = make_rng(seed)
    if isinstance(target, Module):
        if len(args) != 3 or not isinstance(args[0], Loss):
            raise TypeError("gradcheck(model, loss, X, y): expected a Loss and a batch X, y")
        model, X, y, note = float64_problem(target, args[1], args[2])
        loss = args[0]
        named = named_parameters(model)

        def f() -> float:
            return loss.forward(model.forward(X), y)

        def gradients() -> list[np.ndarray]:
            f()
            model.backward(loss.backward())
            return [np.array(p.grad, dtype=np.float64) for _, p in named]

        # twice: a backward that adds to .grad instead of overwriting it (the protocol) is
        # right after a zero_grad only; its second pass holds twice the gradient and FAILS
        check_backward(model, X)
        scale = check_loss(loss, model.forward(X), y)
        first, second = gradients(), gradients()
        if any(not np.allclose(a, b, 1e-9, 0.0, equal_nan=True) for a, b in zip(first, second)):
            note = "; ".join(filter(None, [note, ACCUMULATES]))
        analytic = dict(zip([name for name, _ in named], second))
        arrays = [(name, p.value) for name, p in named]

        def moved(name: str, idx: Index, t: float, look: Callable[[], T]) -> T:
            """``look()`` with entry ``idx`` of parameter ``name`` moved by t."""
            x = dict(arrays)[name]
            original = x[idx]
            try:
                x[idx] = original + t
                return look()
            finally:
                x[idx] = original

        def near(name: str, idx: Index) -> Nearby:
            k = [n for n, _ in named].index(name)
            return Nearby(
                lambda t: float(moved(name, idx, t, gradients)[k][idx]),
                lambda t: moved(name, idx, t, lambda: learner_outputs(model, X)),
                eps * 0.1**REFINEMENTS,
            )

        probe = kink_probe(model)
        try:
            rows = _check_arrays(
                arrays, f, analytic, eps, rtol, max_entries, rng, probe, scale, near
            )
        finally:
            for name, p in named:  # the gradients at θ, as the caller's backward left them
                p.grad[...] = analytic[name]
        return GradcheckReport(rows, rtol, eps, note)

    if not callable(target):
        raise TypeError(f"gradcheck: expected a Module or a callable, got {type(target).__name__}")
    if len(args) != 2:
        raise TypeError("gradcheck(f, params, grads): params and analytic grads are required")
    params, grads = args
    names = list(params) if isinstance(params, dict) else [str(i) for i in range(len(params))]
    values = list(params.values()) if isinstance(params, dict) else list(params)
    analytic = grads if isinstance(grads, dict) else dict(zip(names, grads))
    arrays = list(zip(names, values))
    _require_float64(arrays)
    scale = check_function(target, values)
    rows = _check_arrays(arrays, target, analytic, eps, rtol, max_entries, rng, None, scale)
    return GradcheckReport(rows, rtol, eps)
