"""Gradient checking by central finite differences.

    numerical dL/dθ_i = (L(θ + h e_i) - L(θ - h e_i)) / (2h)      error O(h^2)
    or, by default, the fourth-order stencil
    [8 (L(θ + h e_i) - L(θ - h e_i)) - (L(θ + 2h e_i) - L(θ - 2h e_i))] / (12h)   error O(h^4)

compared with the analytic gradient through the relative error

    rel_i = |a_i - n_i| / max(|a_i|, |n_i|, floor)

where ``floor`` keeps entries whose true gradient is ~0 from dividing noise by noise.
Two forms:

    gradcheck(f, params, grads)        any callable f() -> scalar that reads the arrays in
                                       ``params`` (dict or list); ``grads`` are the analytic
                                       gradients to verify, shaped like ``params``
    gradcheck(model, loss, X, y)       a Module with a Loss on one batch

For models with ReLU-like units (any module with a ``kink`` attribute, see ``_kink_probe``),
an entry whose ±h perturbation moves some unit's input across the kink is reported as a
kink (the finite difference is meaningless there), not counted as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .init import make_rng
from .layers import Module, Sequential
from .losses import Loss

__all__ = ["gradcheck", "numerical_gradient", "GradcheckReport", "ParamCheck"]


@dataclass
class ParamCheck:
    """The result for one parameter."""

    name: str
    shape: tuple[int, ...]
    checked: int
    max_abs_error: float
    max_rel_error: float
    kinks: int = 0

    def passed(self, tol: float) -> bool:
        return self.max_rel_error <= tol


@dataclass
class GradcheckReport:
    """Per-parameter results; ``passed`` when every checked entry is within ``tol``."""

    rows: list[ParamCheck] = field(default_factory=list)
    tol: float = 1e-7
    eps: float = 1e-6

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.rows), default=0.0)

    @property
    def passed(self) -> bool:
        return all(r.passed(self.tol) for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    def as_dicts(self) -> list[dict]:
        return [
            {
                "name": r.name,
                "shape": list(r.shape),
                "checked": r.checked,
                "max_abs_error": r.max_abs_error,
                "max_rel_error": r.max_rel_error,
                "kinks": r.kinks,
                "passed": r.passed(self.tol),
            }
            for r in self.rows
        ]

    def table(self) -> str:
        head = ("parameter", "shape", "checked", "max abs err", "max rel err", "kinks", "ok")
        body = [
            (
                r.name,
                "x".join(map(str, r.shape)) or "scalar",
                str(r.checked),
                f"{r.max_abs_error:.2e}",
                f"{r.max_rel_error:.2e}",
                str(r.kinks),
                "not checked" if r.checked == 0 else "yes" if r.passed(self.tol) else "NO",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if c == 0 else f"{{:>{w}}}" for c, w in enumerate(widths))
        lines = [fmt.format(*head), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        lines += [fmt.format(*row) for row in body]
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the verdict, the worst error, and how much was actually checked."""
        checked = sum(r.checked for r in self.rows)
        kinks = sum(r.kinks for r in self.rows)
        unchecked = [r.name for r in self.rows if r.checked == 0]
        verdict = "PASSED" if self.passed else "FAILED"
        line = (
            f"{verdict}: max relative error {self.max_rel_error:.2e} over {checked} checked "
            f"entries, {kinks} skipped at kinks (tolerance {self.tol:.0e}, h = {self.eps:.0e})"
        )
        if unchecked:
            line += f"; not checked at all: {', '.join(unchecked)} (every entry sat on a kink)"
        return line

    def __str__(self) -> str:
        return self.table()


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-6, indices=None, order: int = 2
) -> np.ndarray:
    """Central differences of f() with respect to the array ``x``, perturbed in place.

    Returns an array shaped like ``x`` (entries not in ``indices`` are NaN). ``x`` is
    restored exactly after each entry.
    """
    grad = np.full(x.shape, np.nan)
    for idx in _entries(x, indices):
        grad[idx] = _central_difference(f, x, idx, eps, order=order)[0]
    return grad


def _entries(x: np.ndarray, indices):
    if indices is None:
        return list(np.ndindex(x.shape))
    return [tuple(int(i) for i in np.unravel_index(k, x.shape)) for k in indices]


# Central-difference stencils: offsets k (in units of h) and weights w;
# derivative = sum_k w f(x + k h) / h.
# Order 2 is the textbook (f(x+h) - f(x-h)) / 2h; order 4 cancels the h^2 error term too, so a
# larger h (less round-off) gives relative errors near 1e-10 instead of 1e-7.
STENCILS = {
    2: ((1, 0.5), (-1, -0.5)),
    4: ((1, 8 / 12), (-1, -8 / 12), (2, -1 / 12), (-2, 1 / 12)),
}


def _central_difference(f, x: np.ndarray, idx, eps: float, probe=None, order: int = 2):
    """-> (derivative of f along x[idx], whether ``probe()`` changed between evaluations)."""
    original = x[idx]
    total = 0.0
    states = []
    for k, w in STENCILS[order]:
        x[idx] = original + k * eps
        total += w * float(f())
        if probe is not None:
            states.append(probe())
    x[idx] = original
    crossed = any(not np.array_equal(a, b) for s in states[1:] for a, b in zip(states[0], s))
    return total / eps, crossed


def _check_arrays(named, f, analytic, eps, floor, max_entries, rng, probe, order):
    rows = []
    for name, x in named:
        if x.dtype != np.float64:
            raise TypeError(f"gradcheck: {name} is {x.dtype}; finite differences need float64")
        a = np.asarray(analytic[name], dtype=np.float64)
        if a.shape != x.shape:
            raise ValueError(
                f"gradcheck: gradient for {name} has shape {a.shape}, parameter has {x.shape}"
            )
        indices = None
        if max_entries is not None and x.size > max_entries:
            indices = rng.choice(x.size, size=max_entries, replace=False)
        worst_abs = worst_rel = 0.0
        kinks = checked = 0
        for idx in _entries(x, indices):
            n, crossed = _central_difference(f, x, idx, eps, probe, order)
            if crossed:
                kinks += 1
                continue
            err = abs(a[idx] - n)
            worst_abs = max(worst_abs, err)
            worst_rel = max(worst_rel, err / max(abs(a[idx]), abs(n), floor))
            checked += 1
        rows.append(ParamCheck(name, x.shape, checked, worst_abs, worst_rel, kinks))
    return rows


def _kink_probe(model: Module):
    """A function returning, for every ReLU-like unit, which side of its kink each input is on.

    A module says it has a kink with a ``kink`` attribute (the input where its derivative
    jumps, e.g. 0.0) and keeps its last input as ``_x`` or ``x``, as ReLU and LeakyReLU do.
    """
    layers = model.layers if isinstance(model, Sequential) else [model]
    kinked: list = [m for m in layers if hasattr(m, "kink")]
    if not kinked:
        return None
    return lambda: [_last_input(m) > m.kink for m in kinked]


def _last_input(module) -> np.ndarray:
    x = getattr(module, "_x", None)
    return module.x if x is None else x


def gradcheck(
    target,
    *args,
    eps: float = 1e-3,
    order: int = 4,
    tol: float = 1e-7,
    floor: float = 1e-8,
    max_entries: int | None = None,
    seed: int | None = 0,
) -> GradcheckReport:
    """Compare analytic gradients with central finite differences; see the module docstring.

    ``order`` 4 (default) uses the fourth-order central stencil, 2 the textbook one (then
    pick eps ~ 1e-6). ``max_entries`` samples that many entries per parameter (with
    ``seed``) for large ones.
    """
    rng = make_rng(seed)
    if isinstance(target, Module):
        if len(args) != 3 or not isinstance(args[0], Loss):
            raise TypeError("gradcheck(model, loss, X, y): expected a Loss and a batch X, y")
        loss, X, y = args
        named = _named_parameters(target)

        def f() -> float:
            return loss.forward(target.forward(X), y)

        f()
        target.backward(loss.backward())
        analytic = {name: p.grad.copy() for name, p in named}
        arrays = [(name, p.value) for name, p in named]
        rows = _check_arrays(
            arrays, f, analytic, eps, floor, max_entries, rng, _kink_probe(target), order
        )
        return GradcheckReport(rows, tol, eps)

    if not callable(target):
        raise TypeError(f"gradcheck: expected a Module or a callable, got {type(target).__name__}")
    if len(args) != 2:
        raise TypeError("gradcheck(f, params, grads): params and analytic grads are required")
    params, grads = args
    names = list(params) if isinstance(params, dict) else [str(i) for i in range(len(params))]
    values = list(params.values()) if isinstance(params, dict) else list(params)
    analytic = grads if isinstance(grads, dict) else dict(zip(names, grads))
    arrays = list(zip(names, values))
    rows = _check_arrays(arrays, target, analytic, eps, floor, max_entries, rng, None, order)
    return GradcheckReport(rows, tol, eps)


def _named_parameters(model: Module):
    if isinstance(model, Sequential):
        return model.named_parameters()
    return [(p.name, p) for p in model.parameters()]
