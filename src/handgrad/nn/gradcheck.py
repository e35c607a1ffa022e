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
times smaller (REFINEMENTS times at most).
See docs/gradcheck.md.

    gradcheck(f, params, grads)        any callable f() -> scalar that reads the float64
                                       arrays in ``params`` (dict or list); ``grads`` are the
                                       analytic gradients to verify, shaped like ``params``
    gradcheck(model, loss, X, y)       a Module with a Loss on one batch; a float32 model is
                                       checked on a float64 copy (the model is untouched)

For models with ReLU-like units (any module with a ``kink`` attribute, see ``_gradcheck_kinks``),
an entry whose perturbation moves some unit's input across the kink is counted as a kink
(the finite difference measures the jump there, not the derivative) and not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._gradcheck_copy import float64_problem
from ._gradcheck_kinks import Probe, kink_probe
from ._gradcheck_noise import loss_noise
from .constraints import Options, Real, check
from .init import make_rng
from .layers import Module, Parameter, Sequential
from .losses import Loss

Index = tuple[int, ...]
# A JSON-ready row or report: strings, numbers, booleans, lists and None.
JSONDict = dict[str, Any]

__all__ = ["gradcheck", "numerical_gradient", "GradcheckReport", "ParamCheck"]

ULP = float(np.finfo(np.float64).eps)
ROUNDING_SAFETY = 64.0  # units in the last place a loss evaluation may carry
NOISE_SAFETY = 10.0  # standard deviations of the measured loss noise, through the stencil
REFINEMENTS = 4  # the step goes down to eps / 10^4 where needed
REL_FLOOR = 1e-8  # only for the informative relative-error column


@dataclass
class ParamCheck:
    """The result for one parameter (one row of the table).

    ``checked`` entries were compared, ``kinks`` were skipped (their step crossed a
    ReLU-like kink), ``failed`` of the checked ones disagreed. ``worst_ratio`` is the
    largest |a - n| / allowed over the checked entries (<= 1 agrees); the ``worst_*``
    fields describe that entry. ``max_abs_error`` and ``max_rel_error`` (|a - n| /
    max(|a|, |n|, 1e-8)) are shown for reading, not used for the verdict.
    """

    name: str
    shape: tuple[int, ...]
    checked: int = 0
    kinks: int = 0
    failed: int = 0
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst_ratio: float = 0.0
    worst_index: tuple[int, ...] | None = None
    worst_analytic: float = 0.0
    worst_numerical: float = 0.0
    worst_allowed: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def record(self, idx: tuple[int, ...], a: float, n: float, allowed: float) -> None:
        err = float(abs(a - n))
        ratio = err / allowed if allowed > 0 else (0.0 if err == 0 else float("inf"))
        self.checked += 1
        self.failed += int(ratio > 1.0)
        self.max_abs_error = max(self.max_abs_error, err)
        self.max_rel_error = max(self.max_rel_error, err / float(max(abs(a), abs(n), REL_FLOOR)))
        if self.worst_index is None or ratio > self.worst_ratio:
            self.worst_ratio, self.worst_index = float(ratio), tuple(int(i) for i in idx)
            self.worst_analytic, self.worst_numerical = float(a), float(n)
            self.worst_allowed = float(allowed)

    def as_dict(self) -> JSONDict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "checked": self.checked,
            "kinks": self.kinks,
            "failed": self.failed,
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "worst_ratio": self.worst_ratio,
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "worst_analytic": self.worst_analytic,
            "worst_numerical": self.worst_numerical,
            "worst_allowed": self.worst_allowed,
            "passed": self.passed,
        }


@dataclass
class GradcheckReport:
    """Per-parameter rows; ``passed`` when no checked entry disagrees.

    ``note`` says what was checked when it is not the caller's own arrays (a float32 model
    is checked on a float64 copy).
    """

    rows: list[ParamCheck] = field(default_factory=list)
    rtol: float = 1e-6
    eps: float = 1e-3
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.rows), default=0.0)

    @property
    def worst_ratio(self) -> float:
        return max((r.worst_ratio for r in self.rows), default=0.0)

    @property
    def checked(self) -> int:
        return sum(r.checked for r in self.rows)

    @property
    def kinks(self) -> int:
        return sum(r.kinks for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    def as_dicts(self) -> list[JSONDict]:
        """One dict per parameter (JSON-ready): the table's row and its verdict."""
        return [r.as_dict() for r in self.rows]

    def to_dict(self) -> JSONDict:
        """The whole report, JSON-ready: verdict, sentence, note, rows."""
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "explanation": self.explanation(),
            "note": self.note,
            "rtol": self.rtol,
            "eps": self.eps,
            "checked": self.checked,
            "kinks": self.kinks,
            "rows": self.as_dicts(),
        }

    def explanation(self) -> str:
        """One sentence saying what failed and where to look; "" when the check passed."""
        failing = [r for r in self.rows if not r.passed]
        if not failing:
            return ""
        r = max(failing, key=lambda row: row.worst_ratio)
        where = ", ".join(map(str, r.worst_index or ())) or "the value"
        others = [row.name for row in failing if row is not r]
        also = f" ({', '.join(others)} also disagree)" if others else ""
        return (
            f"The analytic gradient of {r.name} disagrees with finite differences in "
            f"{r.failed} of {r.checked} checked entries{also}: at [{where}] backward gives "
            f"{r.worst_analytic:.6g} but the loss changes at {r.worst_numerical:.6g} per unit, "
            f"{_times(r.worst_ratio)} more than finite differences can be off here, so the "
            f"backward of the layer holding {r.name}, or of a layer after it, is wrong."
        )

    def table(self) -> str:
        head = ("parameter", "shape", "checked", "kinks", "max |a-n|", "max rel err",
                "err/allowed", "ok")  # fmt: skip
        body = [
            (
                r.name,
                "x".join(map(str, r.shape)) or "scalar",
                str(r.checked),
                str(r.kinks),
                f"{r.max_abs_error:.1e}",
                f"{r.max_rel_error:.1e}",
                f"{r.worst_ratio:.2g}" if r.checked else "-",
                "not checked" if r.checked == 0 else "yes" if r.passed else f"NO ({r.failed})",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if c == 0 else f"{{:>{w}}}" for c, w in enumerate(widths))
        lines = [fmt.format(*head), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        lines += [fmt.format(*row) for row in body]
        lines.append(self.summary())
        if not self.passed:
            lines.append(self.explanation())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the verdict, how much was checked, the worst entry, the settings."""
        unchecked = [r.name for r in self.rows if r.checked == 0]
        if self.passed:
            verdict = (
                f"PASSED: all {self.checked} checked entries agree with finite differences "
                f"(worst at {self.worst_ratio:.2g} of the allowed error)"
            )
        else:
            failed = sum(r.failed for r in self.rows)
            verdict = (
                f"FAILED: {failed} of {self.checked} checked entries disagree with finite "
                f"differences (worst {_times(self.worst_ratio)} the allowed error)"
            )
        line = (
            f"{verdict}; {self.kinks} skipped at kinks; max relative error "
            f"{self.max_rel_error:.1e} (h = {self.eps:.0e}, smaller where needed; "
            f"rtol = {self.rtol:.0e})"
        )
        if unchecked:
            line += f"; not checked at all: {', '.join(unchecked)} (every entry sat on a kink)"
        if self.note:
            line += f"; {self.note}"
        return line

    def __str__(self) -> str:
        return self.table()


def _times(ratio: float) -> str:
    return "infinitely" if not np.isfinite(ratio) else f"{ratio:.3g} times"


# --- finite differences ----------------------------------------------------------------------

# Central-difference stencils: offsets k (in units of h) and weights w;
# derivative = sum_k w f(x + k h) / h.
STENCILS = {
    2: ((1, 0.5), (-1, -0.5)),
    4: ((1, 8 / 12), (-1, -8 / 12), (2, -1 / 12), (-2, 1 / 12)),
}
OFFSETS = (1, -1, 2, -2, 3, -3, 0.5, -0.5)  # gradcheck's evaluations, in units of the step h


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
        values = _evaluate(f, x, idx, eps, [k for k, _ in STENCILS[order]], None)[0]
        grad[idx] = sum(w * v for (_, w), v in zip(STENCILS[order], values)) / eps
    return grad


def _entries(x: np.ndarray, indices: Iterable[int] | None) -> list[Index]:
    if indices is None:
        return list(np.ndindex(x.shape))
    return [tuple(int(i) for i in np.unravel_index(k, x.shape)) for k in indices]


def _evaluate(
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


STENCIL_WEIGHTS = (45, 45, 9, 9, 1, 1, 0, 0)  # |w_k| of the sixth-order stencil, times 60
STENCIL_NORM = float(np.sqrt(sum(w * w for w in STENCIL_WEIGHTS)))  # sqrt(sum w_k^2), ~64.9


def _judge_entry(
    values: list[float], h: float, rtol: float, noise: float = 0.0
) -> tuple[float, float, float]:
    """(n, allowed, truncation) from f at x + k h for k = 1, -1, 2, -2, 3, -3, 1/2, -1/2.

    n is the sixth-order estimate from the steps h, 2h, 3h; the fourth-order one differs from
    it by about the fourth-order truncation error, which bounds n's own (two orders smaller)
    where the Taylor series converges at step 3h. Where it does not (a feature of the loss
    narrower than the steps: a near-tie of two huge logits), the two can agree by chance, so
    a second sixth-order estimate from the steps h/2, h, 2h must agree with n as well: the
    truncation term is the sum of both disagreements. The rounding
    part is the larger of ROUNDING_SAFETY ulp of each loss value and NOISE_SAFETY times the
    measured noise ``noise`` (the standard deviation of a loss value), through the stencil.
    """
    d1, d2, d3 = values[0] - values[1], values[2] - values[3], values[4] - values[5]
    d_half = values[6] - values[7]
    n4 = (8 * d1 - d2) / (12 * h)
    n6 = (45 * d1 - 9 * d2 + d3) / (60 * h)
    n6_small = (256 * d_half - 40 * d1 + d2) / (180 * h)  # Richardson on h/2, h, 2h
    truncation = abs(n4 - n6) + abs(n6_small - n6)
    ulps = ROUNDING_SAFETY * ULP * sum(w * abs(v) for w, v in zip(STENCIL_WEIGHTS, values))
    rounding = max(ulps, NOISE_SAFETY * noise * STENCIL_NORM) / (60 * h)
    return n6, rtol * abs(n6) + truncation + rounding, truncation


def _difference(
    f: Callable[[], float],
    x: np.ndarray,
    idx: Index,
    eps: float,
    rtol: float,
    probe: Probe | None,
    noise: Callable[[float], float] = lambda h: 0.0,
) -> tuple[float, float] | None:
    """(n, allowed) for entry ``idx``, or None when every step tried crosses a kink.

    The step starts at ``eps`` and shrinks tenfold (REFINEMENTS times at most) while it
    crosses a kink or its truncation error dominates: a smaller step trades truncation for
    rounding, and trained ReLU networks often hold an input within 1e-6 of a kink.
    """
    best: tuple[float, float] | None = None
    steps = eps * 0.1 ** np.arange(REFINEMENTS + 1)
    for h, smaller in zip(steps, [*steps[1:], None]):
        values, crossed = _evaluate(f, x, idx, h, OFFSETS, probe)
        if crossed:
            continue
        n, allowed, truncation = _judge_entry(values, h, rtol, noise(h))
        if best is None or allowed < best[1]:
            best = (n, allowed)
        # a smaller step helps while truncation dominates, or while the noise within reach
        # falls faster than the step (the steps reached a noisier regime of the loss)
        if truncation <= 0.5 * allowed and (smaller is None or noise(h) <= 10 * noise(smaller)):
            break
    return best


def _noise_by_step(
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


def _check_arrays(
    named: Sequence[tuple[str, np.ndarray]],
    f: Callable[[], float],
    analytic: Mapping[str, ArrayLike],
    eps: float,
    rtol: float,
    max_entries: int | None,
    rng: np.random.Generator,
    probe: Probe | None,
) -> list[ParamCheck]:
    for name, x in named:
        if x.dtype != np.float64:
            raise TypeError(
                f"gradcheck: {name} is {x.dtype}; finite differences need float64 arrays "
                "(make float64 copies, build f on them, and check those)"
            )
    noise = _noise_by_step(f, [x for _, x in named], rng, probe)
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
            judged = _difference(f, x, idx, eps, rtol, probe, noise)
            if judged is None:
                row.kinks += 1
            else:
                row.record(idx, float(a[idx]), *judged)
        rows.append(row)
    return rows


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
        named = _named_parameters(model)

        def f() -> float:
            return loss.forward(model.forward(X), y)

        f()
        model.backward(loss.backward())
        analytic = {name: np.array(p.grad, dtype=np.float64) for name, p in named}
        arrays = [(name, p.value) for name, p in named]
        rows = _check_arrays(arrays, f, analytic, eps, rtol, max_entries, rng, kink_probe(model))
        return GradcheckReport(rows, rtol, eps, note)

    if not callable(target):
        raise TypeError(f"gradcheck: expected a Module or a callable, got {type(target).__name__}")
    if len(args) != 2:
        raise TypeError("gradcheck(f, params, grads): params and analytic grads are required")
    params, grads = args
    names = list(params) if isinstance(params, dict) else [str(i) for i in range(len(params))]
    values = list(params.values()) if isinstance(params, dict) else list(params)
    analytic = grads if isinstance(grads, dict) else dict(zip(names, grads))
    rows = _check_arrays(
        list(zip(names, values)), target, analytic, eps, rtol, max_entries, rng, None
    )
    return GradcheckReport(rows, rtol, eps)


def _named_parameters(model: Module, prefix: str = "") -> list[tuple[str, Parameter]]:
    """("0.weight", p), ... as ``Sequential.named_parameters`` names them; a Sequential nested
    in another adds its index ("0.2.weight"), and parameters without a name, or sharing one
    inside their module, are named by position ("3.0", "3.1"): each name is unique."""
    if isinstance(model, Sequential):
        return [
            named
            for i, layer in enumerate(model.layers)
            for named in _named_parameters(layer, f"{prefix}{i}.")
        ]
    params = model.parameters()
    names = [p.name for p in params]
    if "" in names or len(set(names)) < len(names):
        names = [str(k) for k in range(len(params))]
    return [(prefix + name, p) for name, p in zip(names, params)]
