"""Judging outcomes: each case's answer against the reference, with its diagnoses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ._error_codes import error_codes
from .catalogue import Case, Exercise
from .diagnose import (
    EXTREME_NOTE,
    NOT_ONLY_EXTREME,
    TWO_SAMPLES,
    TWO_SAMPLES_N_MINUS_1,
    TWO_SAMPLES_SUM,
    _scale_factor,
    close,
    compare_output,
    most_specific_first,
    run_bug_models,
)
from .result import CaseResult, CheckResult
from .running import (
    CHANGES,
    HEADROOM_MB,
    Outcome,
    _varied,
    perturbed,
    run_case,
    to_number_array,
)

__all__ = ["judge", "check_namespace", "missing_entries", "settle", "not_run_after"]

FACTORS = ("scale", "n-minus-1", "sign")  # the codes a factor alone names


def _judged_by_the_case(
    case: Case, outcome: Outcome, codes: list[str], notes: list[str]
) -> CaseResult:
    """A behaviour case (XOR learned, a checker's verdict): the case's own judge decides."""
    assert case.judge is not None
    if outcome.bad_outputs:
        return CaseResult(case.name, False, codes, "\n".join(notes))
    try:
        ok, message, more = case.judge(outcome.outputs)
    except KeyError as exc:
        ok, message, more = False, f"the answer gave no {exc}", []
    codes += [c for c in more if c not in codes]
    notes += [message] if message else []
    passed = ok and not outcome.mutated
    return CaseResult(case.name, passed, most_specific_first(codes), "\n".join(notes))


def judge(exercise: Exercise, case: Case, outcome: Outcome) -> CaseResult:
    """The verdict on one case, from what the answer did (``outcome``)."""
    if outcome.status != "ok":
        return CaseResult(case.name, False, error_codes(outcome.error, case), outcome.error)
    codes: list[str] = []
    notes: list[str] = []
    if outcome.mutated:
        codes.append("mutates-input")
        notes.append(
            f"changed the caller's {', '.join(outcome.mutated)} in place; what it returned "
            "is judged as returned"
        )
    for key, why in outcome.bad_outputs.items():
        notes.append(f"{key}: {why}")
        if why.startswith("returned None"):
            codes.append("missing-return")
    if case.judge is not None:
        return _judged_by_the_case(case, outcome, codes, notes)
    expected = {k: to_number_array(v) for k, v in exercise.expected_outputs(case).items()}
    models: dict[str, list[dict[str, Any]]] | None = None
    passed = not outcome.mutated and not outcome.bad_outputs
    failed: list[str] = []
    factor_sizes: list[int] = []  # the sizes of the outputs named `scale`
    factored: set[str] = set()  # mistakes named with a factor on top of them
    plain: set[str] = set()  # factors named on their own
    swapped = _swapped(outcome, expected, case)
    notes += [f"{a} and {b}: each holds the other's right value" for a, b in swapped]
    for key, want in expected.items():
        if key in outcome.bad_outputs:
            continue
        if any(key in pair for pair in swapped):
            passed = False  # named below, as the pair it is; not a mistake's numbers
            continue
        got = outcome.outputs.get(key)
        if got is None:
            notes.append(f"{key}: missing from the answer")
            passed = False
            continue
        verdict = compare_output(key, got, want, case, None)
        if not verdict.passed:
            if models is None:
                models = run_bug_models(exercise.bug_models, case)
            verdict = compare_output(key, got, want, case, models)
            passed = False
            codes += [c for c in verdict.codes if c not in codes]
            notes.append(verdict.detail)
            failed.append(key)
            if "scale" in verdict.codes:
                factor_sizes.append(got.size)
            factored |= verdict.factored
            plain |= set() if verdict.factored else set(verdict.codes) & set(FACTORS)
    codes += ["swapped-outputs"] if swapped else []
    named = {part for model in exercise.bug_models for part in model.code.split("+")}
    named.add("swapped-outputs")
    contradicted: set[str] = set()
    if models and failed:
        codes = _consistent(codes, models, outcome, failed, expected, case)
        codes = _without_orphan_factors(codes, factored, plain)
        contradicted = _contradicted(models, outcome, failed, expected, case)
    if not named & set(codes):  # a named mistake explains what the answer does not read
        more_codes, more_notes = _ignoring(exercise, case, outcome, failed, expected)
        codes += more_codes
        notes += more_notes
    listed = [k for k in outcome.listed if k in expected and expected[k].ndim >= 1]
    passed = passed and not listed
    codes += ["not-an-array"] if listed else []
    notes += [f"{key}: {NOT_AN_ARRAY}" for key in listed]
    _carried_nan(codes, notes, named, case)
    result = CaseResult(case.name, passed, most_specific_first(codes), "\n".join(notes))
    result.compared = True
    result.lone_factor = bool(factor_sizes) and max(factor_sizes) == 1
    result.contradicted = contradicted
    result.single_numbers = all(outcome.outputs[k].size == 1 for k in failed)
    return result


def _carried_nan(codes: list[str], notes: list[str], named: set[str], case: Case) -> None:
    """NaN in a later output carried over from an output a named mistake explains (Adam's
    t - 1 divides by 0 at the first step; the answer's later steps start from NaN) is not
    called an overflow."""
    if "unstable" in codes and named & set(codes) and "extreme" not in case.tags:
        codes.remove("unstable")
        notes.append("the NaN / inf follow from the mistake named above, not from overflow")


def _swapped(
    outcome: Outcome, expected: dict[str, np.ndarray], case: Case
) -> list[tuple[str, str]]:
    """The pairs of outputs that hold each other's right values (m and v returned in each
    other's place, z1 stored under "a1" and a1 under "z1")."""
    keys = [k for k in expected if k in outcome.outputs and k not in outcome.bad_outputs]
    got = outcome.outputs
    return [
        (a, b)
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
        if not close(expected[a], expected[b], case)
        and close(got[a], expected[b], case)
        and close(got[b], expected[a], case)
    ]


def _without_orphan_factors(codes: list[str], factored: set[str], plain: set[str]) -> list[str]:
    """``codes`` without a factor that came only on top of mistakes ``_consistent`` dropped
    (a factor found beside no mistake, ``plain``, stays)."""
    if not factored or factored & set(codes):
        return codes
    return [c for c in codes if c not in FACTORS or c in plain]


def _contradicted(
    models: dict[str, list[dict[str, Any]]],
    outcome: Outcome,
    failed: list[str],
    expected: dict[str, np.ndarray],
    case: Case,
) -> set[str]:
    """The known mistakes this case rules out: some model of it predicts a wrong value on a
    wrong output, and no model of it gives the answer's numbers. A mistake is ruled out as a
    whole: a compound model that misses ("l2-convention+bias-penalized") does not rule out a
    part that another model, alone or in a compound, agrees with."""
    ruled_out: set[str] = set()
    agreeing: set[str] = set()
    for code, variants in models.items():
        if any(
            _agrees(v, outcome, failed, expected, case) and _predicts(v, outcome, failed)
            for v in variants
        ):
            agreeing.update(code.split("+"))
        elif any(_wrong_there(v, outcome, failed, expected, case) for v in variants):
            ruled_out.update(code.split("+"))
    return ruled_out - agreeing


def _predicts(model: dict[str, Any], outcome: Outcome, failed: list[str]) -> bool:
    """The model gives a value, of the answer's shape, for some wrong output (a model of the
    gradient alone says nothing for or against a wrong loss)."""
    return any(
        key in model and np.shape(model[key]) == outcome.outputs[key].shape for key in failed
    )


def _wrong_there(
    model: dict[str, Any],
    outcome: Outcome,
    failed: list[str],
    expected: dict[str, np.ndarray],
    case: Case,
) -> bool:
    """The model predicts a finite wrong value, of the answer's shape, on a wrong output."""
    for key in failed:
        try:
            predicted = to_number_array(model[key]) if key in model else None
        except TypeError:
            continue
        if predicted is None or predicted.shape != outcome.outputs[key].shape:
            continue
        if np.all(np.isfinite(predicted)) and not close(predicted, expected[key], case):
            return True
    return False


def _consistent(
    codes: list[str],
    models: dict[str, list[dict[str, Any]]],
    outcome: Outcome,
    failed: list[str],
    expected: dict[str, np.ndarray],
    case: Case,
) -> list[str]:
    """``codes`` without the known mistakes the case's other outputs contradict: a mistake is
    named when some model of it gives the answer's numbers on EVERY wrong output where it
    predicts a wrong value. (m without its 1 - beta1 is 10 m, which equals m_hat at t = 1:
    one output matched "m_hat returned", the next steps did not.)"""
    kept = []
    for code in codes:
        variants = [v for k, vs in models.items() if code in k.split("+") for v in vs]
        if variants and not any(_agrees(v, outcome, failed, expected, case) for v in variants):
            continue
        kept.append(code)
    non_finite = any(not np.all(np.isfinite(outcome.outputs[k])) for k in failed)
    if kept != codes and non_finite and "unstable" not in kept:
        kept.append("unstable")  # what a dropped mistake stood for there
    return kept


def _agrees(
    model: dict[str, Any],
    outcome: Outcome,
    failed: list[str],
    expected: dict[str, np.ndarray],
    case: Case,
) -> bool:
    """The model gives the answer's numbers (or them times a telling factor) on every wrong
    output where it predicts a wrong value. NaN in the answer where the model is finite is
    excused only after an earlier output the model explains (a NaN carried from one step to
    the next), never before."""
    explained = False
    for key in failed:
        if key not in model:
            continue
        try:
            predicted = to_number_array(model[key])
        except TypeError:
            continue
        got = outcome.outputs[key]
        if predicted.shape != got.shape:
            continue
        if not np.all(np.isfinite(predicted)):
            explained = explained or close(got, predicted, case)
            continue
        if not np.all(np.isfinite(got)):
            if not explained:
                return False  # NaN where the mistake gives numbers, and nothing before it
            continue
        if predicted.shape == expected[key].shape and close(predicted, expected[key], case):
            continue  # the model is right here: the answer's error here is another matter
        if close(got, predicted, case) or _scale_factor(got, predicted, case, True):
            explained = True
            continue
        return False  # neither the mistake's numbers nor them times a telling factor
    return True


def _reference_on(
    exercise: Exercise, case: Case, name: str, change: tuple[float, float]
) -> dict[str, Any] | None:
    """The right outputs with the input ``name`` changed; None when the reference refuses
    the change (labels of 0.25, a momentum of 2.05 that diverges)."""
    inputs = perturbed(case.inputs, name, change)
    if inputs is None:
        return None
    try:
        with np.errstate(all="ignore"):
            return dict(exercise.expected_outputs(replace(case, inputs=inputs)))
    except Exception:
        return None


def _ignoring(
    exercise: Exercise,
    case: Case,
    outcome: Outcome,
    failed: list[str],
    expected: dict[str, np.ndarray],
) -> tuple[list[str], list[str]]:
    """``ignores-input`` for an input that no wrong output reads: every wrong output whose
    right value moves with the input stayed bit for bit the same when it changed (a global
    variable in its place, or another argument used twice)."""
    unread: dict[str, list[str]] = {}  # input -> the wrong outputs, all of which ignore it
    for name in dict.fromkeys(n for key in failed for n in outcome.ignored.get(key, [])):
        moved = [m for m in (_reference_on(exercise, case, name, c) for c in CHANGES) if m]
        if not moved:
            continue
        depends = [  # the wrong outputs whose right value depends on the input (those the
            # answer gives as one value repeated tell nothing either way)
            k
            for k in failed
            if _varied(outcome.outputs[k])
            if not any(close(to_number_array(m[k]), expected[k], case) for m in moved)
        ]
        if depends and all(name in outcome.ignored.get(k, []) for k in depends):
            unread[name] = depends
    notes = [
        f"{', '.join(keys)}: the same when {name} changes, while the right "
        f"{'ones change' if len(keys) > 1 else 'one changes'} with it: "
        + _READ_AT_ALL.get(
            name, f"is the argument {name} read at all (or a global variable used in its place)?"
        )
        for name, keys in unread.items()
    ]
    return (["ignores-input"] if notes else []), notes


# what a class is given other than as a function's argument
_READ_AT_ALL = {
    "weights": "are the network's weights read from self.weights (the check sets them after "
    "building it: kept under another name, or drawn again in forward?)",
    "biases": "are the network's biases read from self.biases (the check sets them after "
    "building it: kept under another name?)",
    "learning_rate": "is the learning_rate given to the constructor used (or a number fixed "
    "in the class in its place)?",
}

NOT_AN_ARRAY = (
    "a Python list where the contract asks for a NumPy array (the numbers are judged as "
    "np.array of it): a list has no shape or dtype, and + joins lists instead of adding them"
)

# what a one-sample case shows when the others show a division by N - 1 (N - 1 = 0 there)
ONE_SAMPLE_N_MINUS_1 = (
    "with one sample N - 1 = 0: the division by N - 1 seen on the other cases divides by zero"
)


def _one_sample_divided_by_zero(result: CheckResult, cases: list[Case]) -> None:
    """A division by N - 1, named on the larger cases, gives inf / NaN (NumPy) or a
    ZeroDivisionError (Python floats) on a case of one sample: name it there too, rather
    than as an overflow."""
    if not any("n-minus-1" in r.diagnoses for r in result.cases):
        return
    for r, c in zip(result.cases, cases):
        if r.passed or c.batch != 1:
            continue
        divided = "ZeroDivisionError" in r.message or "holds NaN or inf" in r.message
        if divided and "n-minus-1" not in r.diagnoses:
            r.diagnoses = most_specific_first(
                ["n-minus-1", *(d for d in r.diagnoses if d != "unstable")]
            )
            r.message = f"{r.message}\n{ONE_SAMPLE_N_MINUS_1}"


def _two_samples_told_apart(result: CheckResult, cases: list[Case]) -> None:
    """On two samples a sum and a division by N - 1 both give a factor 2: the case is named
    by what the other cases show (N/(N - 1) there: `n-minus-1`; a factor N: `scale`)."""
    others = [r for r, c in zip(result.cases, cases) if c.batch != 2 and not r.passed]
    n_minus_1 = any("n-minus-1" in r.diagnoses for r in others)
    summed = any("(= N, N = " in r.message for r in others)
    if n_minus_1 == summed:  # neither shown, or both: the two stay named as they are
        return
    for r in result.cases:
        if TWO_SAMPLES not in r.message:
            continue
        if n_minus_1:
            r.message = r.message.replace(TWO_SAMPLES, TWO_SAMPLES_N_MINUS_1)
            codes = ["n-minus-1" if d == "scale" else d for d in r.diagnoses]
            r.diagnoses = most_specific_first(codes)
        else:
            r.message = r.message.replace(TWO_SAMPLES, TWO_SAMPLES_SUM)


COINCIDENCE = (
    "(one number here is a factor of the right one, but the other cases show no factor: "
    "a coincidence, not a missing 1/N or 1/2)"
)


def _coincidental_factors(result: CheckResult, cases: list[Case]) -> None:
    """`scale` on a case whose factor came from single numbers alone (0.5 = 2 / 4 where a
    mean of |d| stands for a mean of d^2) is taken back when another case's numbers were
    compared, are wrong, and show no factor: a real 1/N or 1/2 shows on every case. Every
    case but one of a single sample: there a sum is the mean, and a factor N cannot show."""
    batches = [c.batch for c in cases]
    no_factor = [
        b
        for r, b in zip(result.cases, batches)
        if r.compared and not r.passed and not r.lone_factor and not set(FACTORS) & set(r.diagnoses)
    ]
    if not no_factor:
        return
    for r in result.cases:
        if not (r.lone_factor and "scale" in r.diagnoses):
            continue
        of_n = "(= N, N = " in r.message or "(= 1/N, N = " in r.message
        if of_n and all(b == 1 for b in no_factor):
            continue  # only one-sample cases show no factor, and there N = 1
        r.diagnoses = [d for d in r.diagnoses if d != "scale"]
        r.message = f"{r.message}\n{COINCIDENCE}"


def _ambiguity_resolved(exercise: Exercise, result: CheckResult) -> None:
    """A known mistake another case rules out is not named where the numbers also fit
    another mistake (|d| and sqrt(d^2) agree when every error has one size), nor where they
    are single numbers (any one number is some mistake's by chance: 0.5 * mean(d^2) is
    |d| on one sample of d = 2)."""
    named = {part for model in exercise.bug_models for part in model.code.split("+")}
    against = set().union(*(r.contradicted for r in result.cases))
    for r in result.cases:
        mistakes = [d for d in r.diagnoses if d in named]
        kept = [d for d in mistakes if d not in against]
        if len(kept) < len(mistakes) and (kept or r.single_numbers):
            r.diagnoses = [d for d in r.diagnoses if d in kept or d not in named]
            r.compared = r.compared and bool(kept)  # no evidence against a factor elsewhere


def settle(exercise: Exercise, result: CheckResult) -> CheckResult:
    """Claims that need every case: "unstable" on a case of extreme inputs says the answer
    loses its digits there, which is only shown when it is right on the ordinary cases. An
    answer wrong on those too (a stable formula with a wrong factor) keeps the FAIL of its
    extreme case, without the claim. A one-sample case that divides by zero where the other
    cases divide by N - 1 is named as that division."""
    cases = list(exercise.cases())
    _one_sample_divided_by_zero(result, cases)
    _two_samples_told_apart(result, cases)
    _ambiguity_resolved(exercise, result)
    _coincidental_factors(result, cases)
    ordinary_failed = any(
        not r.passed for r, c in zip(result.cases, cases) if "extreme" not in c.tags
    )
    if not ordinary_failed:
        return result
    for r, c in zip(result.cases, cases):
        if "extreme" in c.tags and EXTREME_NOTE in r.message:
            r.message = r.message.replace(EXTREME_NOTE, NOT_ONLY_EXTREME)
            if "holds NaN or inf" not in r.message:
                r.diagnoses = [d for d in r.diagnoses if d != "unstable"]
    return result


def missing_entries(exercise: Exercise, namespace: Mapping[str, Any]) -> list[str]:
    return [name for name in exercise.entries if name not in namespace]


def check_namespace(
    exercise: Exercise, namespace: Mapping[str, Any], seconds_per_case: float | None = 10.0
) -> CheckResult:
    """Run and judge every case in this process (the answer is trusted code, e.g. a notebook's)."""
    result = CheckResult(exercise.name, [], doc=exercise.doc)
    missing = missing_entries(exercise, namespace)
    if missing:
        result.problem = f"the answer does not define {', '.join(missing)}"
        return result
    hung: Case | None = None
    for case in exercise.cases():
        if hung is not None:  # one endless loop is enough: the others are not waited for
            result.cases.append(CaseResult(case.name, False, [], not_run_after(hung.name)))
            continue
        outcome = run_case(exercise, namespace, case, seconds_per_case, headroom_mb=HEADROOM_MB)
        result.cases.append(judge(exercise, case, outcome))
        if outcome.status == "timeout":
            hung = case
    return settle(exercise, result)


def not_run_after(hung: str) -> str:
    """The message of a case skipped because the case ``hung`` did not finish in time."""
    return (
        f"not run: the case {hung!r} did not finish in time, so the check stopped there "
        "rather than wait as long again (fix that loop, then check again)"
    )
