"""Diagnosis from the numbers: compare an answer with the reference and name the kind of bug.

Each test looks at the arrays only (the answer's code is never read):

    shape / dtype          the array is not the one the contract asks for
    transpose              the answer's transpose is the right array
    sign                   the answer is the right array negated
    scale                  the answer is c times the right array for one constant c != 1
    bias-shape             a bias gradient with the right numbers in the wrong shape
    bias-not-summed        a bias gradient left per sample: summing its rows gives the answer
    relu-kink              wrong only where the ReLU input is <= 0
    unstable               NaN / inf, or wrong only at extreme inputs (logits of +-800)
    <bug models>           an exercise's known mistakes (activation-derivative, order,
                           adam-bias-correction, momentum-convention, ...), recognised by
                           reproducing the numbers the mistake gives
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._showing import _first_wrong, _fmt
from .catalogue import BugModel, Case
from .hints import HINTS, SPECIFICITY

__all__ = ["Comparison", "compare_output", "close", "HINTS", "most_specific_first"]

# the claim made about a wrong answer on a case of extreme inputs; ``checking.settle`` takes it
# back when the answer is wrong on ordinary inputs too (then it is not only an instability)
EXTREME_NOTE = "wrong on extreme inputs, where a naive formula loses its digits"
NOT_ONLY_EXTREME = "wrong here as on the ordinary cases, so not only where a formula overflows"


def most_specific_first(codes: list[str]) -> list[str]:
    """``codes`` once each, ordered by SPECIFICITY (unknown codes last, in their order)."""
    unique = list(dict.fromkeys(codes))
    rank = {c: i for i, c in enumerate(SPECIFICITY)}
    return sorted(unique, key=lambda c: rank.get(c, len(rank)))


@dataclass
class Comparison:
    """The verdict on one output."""

    passed: bool
    codes: list[str] = field(default_factory=list)
    detail: str = ""
    factored: set[str] = field(default_factory=set)  # mistakes named with a factor on top


def close(got: np.ndarray, want: np.ndarray, case: Case) -> bool:
    if got.shape != want.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(
            np.allclose(
                got.astype(np.float64),
                want.astype(np.float64),
                case.rtol,
                case.atol,
                equal_nan=True,  # a mistake's model may give NaN where the mistake does
            )
        )


def _telling(c: float, case: Case) -> bool:
    """c is a factor a mistake typically makes: 2, 1/2, -1, N, 1/N or N/(N - 1)."""
    telling = [2.0, 0.5, -1.0] + ([case.batch, 1.0 / case.batch] if case.batch else [])
    return any(_near(c, t, case) for t in telling) or _is_n_over_n_minus_1(c, case)


def _near(c: float, t: float, case: Case) -> bool:
    """c is t to the case's precision: 1e-6 relative, or the float32 cases' rtol (an answer in
    float32 beside a mistake's model, or a step taken as the difference of two float32
    positions, carries errors of 1e-6 and more into the ratio)."""
    return abs(c - t) <= max(1e-6, case.rtol) * abs(t)


def _is_n_over_n_minus_1(c: float, case: Case) -> bool:
    """c = N/(N - 1): a mean divided by N - 1 instead of N (told apart from N and 2 for N > 2)."""
    n = case.batch
    return bool(n and n > 2 and _near(c, n / (n - 1), case))


def _scale_factor(
    got: np.ndarray, want: np.ndarray, case: Case, telling_only: bool = False
) -> float | None:
    """c with got ~= c * want (c != 1), or None; only a telling c if ``telling_only``."""
    g, w = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    denominator = float(w @ w)
    if not np.all(np.isfinite(g)) or denominator == 0.0:
        return None
    c = float(g @ w) / denominator
    if c == 0 or abs(c - 1) < 1e-3:
        return None
    # two numbers always differ by "a factor", and so do two arrays with one number that
    # is not 0 (a ReLU's gradient where one z > 0): there only a telling factor counts
    one_number = np.count_nonzero(np.abs(w) > case.atol) <= 1
    if (one_number or telling_only) and not _telling(c, case):
        return None
    if one_number:
        return c
    # a telling c must fit as well as any: the least-squares c of [1, 0.5, 1] against
    # [0, 1, 0] is 0.5, and the first array is not half the second
    if np.count_nonzero(np.abs(g) > case.atol) <= 1:
        return None  # an answer within atol of 0 "fits" any small factor
    tol = 10 * case.rtol * np.sqrt(denominator) * abs(c) + case.atol * np.sqrt(g.size)
    return c if float(np.linalg.norm(g - c * w)) <= tol else None


# a factor 2 on two samples: two mistakes give it (``checking.settle`` says which one the
# other cases show)
TWO_SAMPLES = (
    "a factor 2 (N = 2 samples here: a sum where the mean belongs gives 2, and so does a "
    "division by N - 1 = 1 instead of by N)"
)
TWO_SAMPLES_SUM = (
    "a factor 2 (N = 2 samples here: a sum where the mean belongs, as the other cases show)"
)
TWO_SAMPLES_N_MINUS_1 = (
    "a factor 2 (N = 2 samples here: divided by N - 1 = 1 instead of by N, as the other cases show)"
)


def _describe_factor(c: float, case: Case) -> str:
    """'a factor c', saying when c is the batch size N or 1/N (a mean where a sum belongs)."""
    n = case.batch
    if _is_n_over_n_minus_1(c, case):
        return f"a factor {c:.6g} (= N/(N - 1), N = {n}: divided by N - 1 instead of N)"
    if n == 2 and _near(c, 2.0, case):  # N = 2 is also N/(N - 1): a sum and a division by N - 1
        return TWO_SAMPLES
    if n and n > 1:
        for value, words in ((n, "N"), (1.0 / n, "1/N")):
            if _near(c, value, case):
                return f"a factor {c:.6g} (= {words}, N = {n})"
    return f"a factor {c:.6g}"


def _value_codes(got: np.ndarray, want: np.ndarray, case: Case, name: str) -> tuple[list, str]:
    """Codes for an answer with the right shape but wrong values."""
    codes: list[str] = []
    note = ""
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        return ["unstable"], "the answer holds NaN or inf where every true value is finite"
    if got.ndim == 2 and got.shape[0] == got.shape[1]:
        if close(got.T, want, case):
            return ["transpose"], "the answer's transpose is right"
        c = _scale_factor(got.T, want, case)
        if c is not None and _scale_factor(got, want, case) is None:
            return ["transpose", "scale"], (
                f"the answer's transpose is {_describe_factor(c, case)} times the right one"
            )
    if not np.any(got) and np.any(np.abs(want) > case.atol) and want.dtype.kind == "f":
        return ["zeros"], "the answer is all zeros where the right one is not"
    c = _scale_factor(got, want, case)
    if c is not None and _near(c, -1.0, case):
        return ["sign"], "the answer is exactly the negated right one"
    if c is not None:
        size = "n-minus-1" if _is_n_over_n_minus_1(c, case) else "scale"
        codes = [size] + (["sign"] if c < 0 else [])
        return codes, f"the answer is {_describe_factor(c, case)} times the right one"
    if "extreme" in case.tags:
        return ["unstable"], EXTREME_NOTE
    mask = case.masks.get(name)
    if mask is not None and mask.shape == got.shape:
        wrong = ~np.isclose(got, want, case.rtol, case.atol)
        if wrong.any() and not (wrong & ~mask).any():
            return ["relu-kink"], "wrong only where the ReLU input is <= 0"
    return codes, note


def _shape_codes(got: np.ndarray, want: np.ndarray, case: Case, name: str) -> tuple[list, str]:
    """Codes for an answer of the wrong shape."""
    where = f"shape {got.shape} where {want.shape} is asked"
    is_bias = name in case.bias_outputs
    n = want.shape[0] if want.ndim == 2 and want.shape[1] == 1 else None
    if (
        n is not None and n == case.batch and n > 1 and got.shape == (n, n)
    ):  # (N, 1) against (N,): (N, N)
        return ["keepdims"], f"{where}: a column (N, 1) and a vector (N,) broadcast into (N, N)"
    if got.ndim == 2 and want.ndim == 2 and got.shape == want.shape[::-1]:
        if close(got.T, want, case):
            return ["transpose"], f"{where}; its transpose is right"
        more, note = _value_codes(got.T, want, case, name)
        if more:  # transposed, and wrong in a way named on the transpose as well
            return ["transpose", *more], f"{where}; transposed, {note}"
    if got.size == want.size:
        reshaped = got.reshape(want.shape)
        code = "bias-shape" if is_bias else "shape"
        if close(reshaped, want, case):
            return [code], f"{where}; the numbers themselves are right"
        more, note = _value_codes(reshaped, want, case, name)
        return [code, *more], f"{where}; {note}" if note else where
    if is_bias and got.ndim == 2 and got.shape[0] == case.batch and got.size > want.size:
        summed = got.sum(axis=0)
        if summed.size == want.size:
            summed = summed.reshape(want.shape)
            if close(summed, want, case):
                return ["bias-not-summed"], f"{where}; summing its rows gives the right answer"
            c = _scale_factor(summed, want, case)
            if c is not None:
                return ["bias-not-summed", "scale"], (
                    f"{where}; its rows summed are {_describe_factor(c, case)} times the answer"
                )
    return ["shape"], where


def compare_output(
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    case: Case,
    bug_models: dict[str, list[dict[str, Any]]] | None = None,
) -> Comparison:
    """Judge one output; ``bug_models`` maps a code to the outputs that mistake would give."""
    want = np.asarray(want)
    if got.shape == want.shape and close(got, want, case):
        if want.dtype == np.float32 and got.dtype != np.float32:
            return Comparison(False, ["dtype"], f"{name}: dtype {got.dtype} where float32 is asked")
        kind = _kind_mismatch(got, want)
        if kind:
            return Comparison(False, ["dtype"], f"{name}: {kind}; the numbers themselves are right")
        return Comparison(True)
    exact: list[set[str]] = []  # the mistakes whose numbers this output shows exactly
    scaled: list[tuple[set[str], str, float]] = []  # ... times a telling factor
    for code, variants in (bug_models or {}).items():
        parts = set(code.split("+"))  # a model of two mistakes at once names both
        for outputs in variants:
            model = outputs.get(name)
            if model is None or np.shape(model) != got.shape:
                continue
            model = np.asarray(model)
            if not np.any(got) and np.any(model):
                continue  # exact zeros are `zeros`, not a mistake whose numbers are tiny
            if close(got, model, case):
                exact.append(parts)
            elif not close(model, want, case) and np.all(np.isfinite(model)):
                c = _scale_factor(got, model, case, telling_only=True)  # mistake and a factor
                if c is not None:
                    scaled.append((parts, code, c))
    # the fewest mistakes that explain the numbers: a pair is named only where no single
    # one of its mistakes explains them (at large gradients eps in or out looks the same)
    found = [p for p in exact if not any(q < p for q in exact)]
    codes: list[str] = [c for p in found for c in sorted(p)]
    notes: list[str] = []
    if got.shape != want.shape:
        more, note = _shape_codes(got, want, case, name)
    else:
        more, note = _value_codes(got, want, case, name)
    # a mistake times a factor is two mistakes: named only when no single mistake (a known
    # one, or a telling factor alone) gives the numbers; on one number any two counts have a
    # ratio. (1 - beta1 * t for 1 - beta1**t times m is the right step times -0.475: a known
    # mistake times 2 says more than that factor.) Fewest mistakes first, as for exact ones.
    one_factor = bool({"scale", "n-minus-1", "sign"} & set(more)) and _telling_factor(
        got, want, case
    )
    scaled = [t for t in scaled if not any(u[0] < t[0] for u in scaled)]
    factored: set[str] = set()
    for parts, code, c in scaled if not (exact or one_factor) else []:
        codes += [*sorted(parts), "sign" if _near(c, -1.0, case) else "scale"]
        factored |= parts
        notes.append(f"{code.replace('+', ' and ')} and {_describe_factor(c, case)} on top of it")
    if codes:  # a named mistake explains the numbers better than a factor does (an exact
        # negation stays named: a velocity of another convention, flipped by a sign slip)
        exact_sign = more == ["sign"]
        more = [c for c in more if c not in ("scale", "n-minus-1", "sign", "unstable", "zeros")]
        more += ["sign"] if exact_sign else []
        note = "; ".join([*notes, note] if note else notes)
    if got.dtype.kind in "biu" and want.dtype.kind == "f":
        more.append("dtype")
        note = f"{note}; " if note else ""
        note += f"integers ({got.dtype}) where floats are asked: astype(int), // or an int array"
    codes = most_specific_first(codes + more)  # each code once
    example = f"expected {_fmt(want)}, got {_fmt(got)}" + _first_wrong(got, want, case)
    detail = f"{name}: {note + '; ' if note else ''}{example}"
    return Comparison(False, codes, detail, factored)


def _telling_factor(got: np.ndarray, want: np.ndarray, case: Case) -> bool:
    """The answer is the right one times a factor a mistake typically makes (2, 1/N, -1)."""
    if got.shape != want.shape:
        return True
    c = _scale_factor(got, want, case)
    return c is None or _telling(c, case)


def _kind_mismatch(got: np.ndarray, want: np.ndarray) -> str:
    """Why the right numbers are of the wrong kind: integers or booleans where the contract
    asks for floats (a one-hot of ints), or floats where it asks for an int (a count)."""
    if want.dtype.kind == "f" and got.dtype.kind in "biu":
        what = "booleans" if got.dtype.kind == "b" else "integers"
        return f"{what} ({got.dtype}) where floats are asked"
    if want.dtype.kind in "iu" and got.dtype.kind == "f":
        return f"a float ({got.dtype}) where an integer is asked"
    return ""


def run_bug_models(models: tuple[BugModel, ...], case: Case) -> dict[str, list[dict[str, Any]]]:
    """The outputs each known mistake would give on this case (models that fail are skipped)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        try:
            with np.errstate(all="ignore"):
                outputs = dict(model.outputs(case))
        except Exception:  # a mistake that cannot even run on this case explains nothing
            continue
        out.setdefault(model.code, []).append(outputs)
    return out
