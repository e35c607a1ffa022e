"""The learner's own gradient checker: central differences and the largest relative error.

The checker's verdicts are behaviour cases (a right gradient passes, a wrong one fails); the
bug models are the one-sided differences; a checker that sums the errors up (a mean, a
ratio of norms) or keeps their sign (no np.abs) is named by the verdict cases' judges.
"""

from __future__ import annotations

import numpy as np

from ..nn.gradcheck import numerical_gradient
from ._common import ns, rng
from .catalogue import BugModel, Case, Exercise, register

# --- the learner's own gradient checker ---------------------------------------------------


def _smooth(x: np.ndarray) -> float:
    return float(np.sum(np.sin(x) * x**2) + 0.5 * np.sum(x) ** 2)


def _smooth_grad(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x**2 + 2 * x * np.sin(x) + np.sum(x)


def _reference_numerical(f, x, eps=1e-5):
    x = np.array(x, dtype=np.float64)
    return numerical_gradient(lambda: f(x), x, eps=eps, order=2)


def _reference_check(f, x, analytic, eps=1e-5):
    """The contract's number: max |a - n| / max(|a|, |n|, 1e-8) over the entries."""
    a = np.asarray(analytic, dtype=np.float64)
    n = _reference_numerical(f, x, eps)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))


def _all_at_once(case: Case) -> dict[str, np.ndarray]:
    """Every entry of x moved at once: each entry gets the one number
    (f(x + eps) - f(x - eps)) / (2 eps), the derivative along (1, ..., 1)."""
    if case.inputs["kind"] != "numerical":
        raise ValueError("not a gradient case")
    x, eps = np.array(case.inputs["x"], dtype=np.float64), case.inputs.get("eps", 1e-5)
    return {"grad": np.full_like(x, (_smooth(x + eps) - _smooth(x - eps)) / (2 * eps))}


def _one_sided(sign: float):
    """One-sided differences, sign (f(x + sign eps e_i) - f(x)) / eps: forward (+1) or
    backward (-1), where the contract asks for central ones."""

    def outputs(case: Case) -> dict[str, np.ndarray]:
        if case.inputs["kind"] != "numerical":
            raise ValueError("not a gradient case")
        x, eps = np.array(case.inputs["x"], dtype=np.float64), case.inputs.get("eps", 1e-5)
        grad = np.empty_like(x)
        for i in np.ndindex(x.shape):
            moved = x.copy()
            moved[i] += sign * eps
            grad[i] = sign * (_smooth(moved) - _smooth(x)) / eps
        return {"grad": grad}

    return outputs


def _gc_probe(namespace, inputs):
    x, kind = inputs["x"], inputs["kind"]
    if kind == "numerical":
        return {"grad": namespace["numerical_gradient"](_smooth, x, inputs.get("eps", 1e-5))}
    return {"error": namespace["gradient_check"](_smooth, x, inputs["analytic"], 1e-5)}


def _verdict(good: bool):
    def judge(outputs):
        error = float(np.asarray(outputs["error"]).ravel()[0])
        if good:
            ok = error < 1e-6
            return ok, "" if ok else f"a right gradient got relative error {error:.3g} (> 1e-6)", []
        ok = error > 1e-2
        why = "" if ok else f"a wrong gradient got relative error {error:.3g} (< 1e-2)"
        return ok, why + _sign_of(error), _signed(error)

    return judge


def _signed(error: float) -> list[str]:
    """`signed-error` for a negative error: an entry's error is a size, |a - n|, never < 0."""
    return ["signed-error"] if error < 0 else []


def _sign_of(error: float) -> str:
    return (
        "; an error below 0 is a difference kept with its sign: the error of an entry is its "
        "size, |a - n|"
        if error < 0
        else ""
    )


def _gc_cases() -> list[Case]:
    x = rng(120).normal(size=(3, 4))
    g = _smooth_grad(x)
    one_off = g.copy()
    one_off[1, 2] += 0.5
    verdicts = [
        ("the right gradient", g, True),
        ("a gradient 2x too large", 2 * g, False),
        ("a gradient with the sign flipped", -g, False),
        ("one entry wrong by 0.5", one_off, False),
    ]
    cases = [
        Case("numerical gradient (3, 4)", {"x": x, "kind": "numerical"}, rtol=1e-7),
        # "shaped like x": any shape, not only a matrix (a loop over x[i, j] fails here)
        Case(
            "numerical gradient of a vector (5,)",
            {"x": rng(121).normal(size=5), "kind": "numerical"},
            rtol=1e-7,
        ),
    ]
    for name, analytic, good in verdicts:
        inputs = {"x": x, "kind": "check", "analytic": analytic}
        cases.append(Case(f"verdict: {name}", inputs, judge=_verdict(good)))
    # the eps given is the one used (the other cases pass the default)
    cases.insert(
        2,
        Case(
            "numerical gradient with eps = 1e-3",
            {"x": x, "kind": "numerical", "eps": 1e-3},
            rtol=1e-9,
        ),
    )
    # the LARGEST entry's error, not a mean that one wrong entry in twelve hardly moves
    inputs = {"x": x, "kind": "check", "analytic": one_off}
    wanted = _reference_check(_smooth, x, one_off)
    judge = _largest(wanted, _other_summaries(x, one_off))
    cases.append(Case("the error's size: one entry wrong", inputs, judge=judge))
    return cases


def _other_summaries(x: np.ndarray, analytic: np.ndarray) -> tuple[float, ...]:
    """What a checker summing up the errors otherwise returns: the mean of the entries'
    relative errors, or one ratio of whole-vector norms |a - n| / (|a| + |n|)."""
    a, n = analytic, _reference_numerical(_smooth, x)
    each = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)
    norms = np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))
    return float(np.mean(each)), float(norms)


def _largest(wanted: float, others: tuple[float, ...]):
    """Within a factor 2 below the contract's number: |a - n| / (|a| + |n|), the other common
    definition, is at least half of it; a mean over the entries is far smaller."""

    def judge(outputs):
        error = float(np.asarray(outputs["error"]).ravel()[0])
        ok = wanted / 2 * (1 - 1e-6) <= error <= wanted * (1 + 1e-6)
        if ok:
            return True, "", []
        if error < 0:
            return False, f"relative error {error:.3g}{_sign_of(error)}", _signed(error)
        why = (
            f"relative error {error:.3g} where the entry that is off has {wanted:.3g}: "
            "the check's number is the LARGEST relative error over the entries (np.max), "
            "not their mean, nor one ratio of the whole vectors' norms"
        )
        summed = any(abs(error - o) <= 1e-6 * o for o in others)
        return False, why, ["largest-error"] if summed else []

    return judge


register(
    Exercise(
        name="gradient_check",
        chapter=4,
        title="Your own gradient checker",
        entries=("numerical_gradient", "gradient_check"),
        contract=(
            "numerical_gradient(f, x, eps=1e-5): central differences\n"
            "(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every entry of the float64 array x;\n"
            "f(x) returns a float. Returns an array shaped like x. Leave x as you found it\n"
            "(restore each entry after perturbing it).\n"
            "gradient_check(f, x, analytic_grad, eps=1e-5): the largest relative error\n"
            "|a - n| / max(|a|, |n|, 1e-8) between analytic_grad and numerical_gradient, a float."
        ),
        stub=(
            "def numerical_gradient(f, x, eps=1e-5):\n    raise NotImplementedError\n\n\n"
            "def gradient_check(f, x, analytic_grad, eps=1e-5):\n    raise NotImplementedError\n"
        ),
        cases=_gc_cases,
        probe=_gc_probe,
        reference=ns(numerical_gradient=_reference_numerical, gradient_check=_reference_check),
        bug_models=(
            BugModel("one-sided-difference", "(f(x + eps) - f(x)) / eps", _one_sided(1.0)),
            BugModel("one-sided-difference", "(f(x) - f(x - eps)) / eps", _one_sided(-1.0)),
            BugModel("one-entry-at-a-time", "all of x moved by eps at once", _all_at_once),
        ),
        doc="gradient-checking",
    )
)
