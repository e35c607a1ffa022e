"""Running one answer on one case: copies of the inputs, a time limit, errors as text.

The same code runs inside the sandbox's child process (a learner's file) and in-process
(``check(name, function)`` from a notebook). Outputs come back as plain NumPy arrays of
numbers, so they can cross a process boundary as ``.npy`` data, never as pickles.
"""

from __future__ import annotations

import signal
import threading
import traceback
import unicodedata
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalogue import Case, Exercise, copy_inputs

__all__ = ["Outcome", "run_case", "to_number_array", "CaseTimeout", "printable"]

# text that reorders or redraws what a terminal shows: bidirectional overrides and isolates
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class CaseTimeout(Exception):
    """Raised inside the answer when its time is up."""


@dataclass
class Outcome:
    """What an answer did on one case."""

    status: str  # "ok", "error" or "timeout"
    error: str = ""
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    bad_outputs: dict[str, str] = field(default_factory=dict)  # output -> why it is unusable
    mutated: list[str] = field(default_factory=list)  # inputs the answer wrote into
    listed: list[str] = field(default_factory=list)  # outputs returned as lists or tuples
    warnings: list[str] = field(default_factory=list)


def to_number_array(value: Any) -> np.ndarray:
    """``value`` as an array of numbers (bool, int, float); TypeError describing it otherwise."""
    if value is None:
        raise TypeError("returned None (is a `return` missing?)")
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"returned {type(value).__name__}, not an array of numbers ({exc})"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"returned {type(value).__name__} of dtype {array.dtype}, not numbers")
    return array


def printable(text: str) -> str:
    """``text`` with every control character written out (``\\x1b``), newlines and tabs kept.

    What a learner's code prints or puts in an error message is shown in a terminal or a
    notebook: an escape sequence there could move the cursor, clear the screen or draw a
    line of its own (a fake PASSED), and a carriage return overwrites the line it is on.
    """
    return "".join(
        ch
        if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI)
        else ascii(ch)[1:-1]
        for ch in text
    )


def _changed(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray):
        return not (
            isinstance(after, np.ndarray)
            and after.shape == before.shape
            and np.array_equal(after, before, equal_nan=True)
        )
    if isinstance(before, dict):
        return set(before) != set(after) or any(_changed(before[k], after[k]) for k in before)
    if isinstance(before, list):
        return len(before) != len(after) or any(_changed(b, a) for b, a in zip(before, after))
    return False


def _how_changed(before: Any, after: Any) -> str:
    """ " (...)" when an array changed only by rounding (an entry moved by +eps then -eps
    instead of being put back), so the learner is told why a restored array still differs."""
    if not (isinstance(before, np.ndarray) and isinstance(after, np.ndarray)):
        return ""
    if after.shape != before.shape or before.dtype.kind != "f" or after.dtype != before.dtype:
        return ""
    with np.errstate(all="ignore"):
        ulp = np.spacing(np.abs(before).astype(before.dtype))
        moved = np.abs(after - before)
    if not np.all(np.isfinite(moved)) or not np.all(moved <= 4 * ulp):
        return ""
    return (
        f" (only in its last digits, {int(np.count_nonzero(moved))} entries by at most "
        f"{float(moved.max()):.2g}: x + eps - eps is not always x in floating point, so "
        "keep each old value and put it back)"
    )


@contextmanager
def time_limit(seconds: float | None):
    """Raise CaseTimeout here after ``seconds`` (POSIX main thread only; elsewhere no limit)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CaseTimeout(f"did not finish within {seconds:g} s (an endless loop?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe_error(exc: BaseException, filename: str | None = None) -> str:
    """One or two lines: the exception, and where in the learner's file it was raised."""
    if isinstance(exc, NotImplementedError):
        return "raises NotImplementedError: not written yet"
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}); an exercise must return, not exit"
    text = printable(f"raised {type(exc).__name__}: {exc}".strip())
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if filename and f.filename == filename]
    if mine:
        text += printable(f" (line {mine[-1].lineno}: {(mine[-1].line or '').strip()})")
    return text


def run_case(
    exercise: Exercise,
    namespace: Mapping[str, Any],
    case: Case,
    seconds: float | None = None,
    filename: str | None = None,
) -> Outcome:
    """Call the answer in ``namespace`` on copies of ``case.inputs``; its errors become text."""
    args = copy_inputs(case.inputs)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            with time_limit(seconds):
                raw = exercise.probe(namespace, args)
    except CaseTimeout as exc:
        return Outcome("timeout", str(exc))
    except MemoryError:
        return Outcome("error", "ran out of memory (the limit is there to protect your machine)")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit included: the learner's code must not end us
        return Outcome("error", describe_error(exc, filename))
    outcome = Outcome("ok")
    for key, value in raw.items():
        try:
            outcome.outputs[key] = to_number_array(value)
        except TypeError as exc:
            outcome.bad_outputs[key] = str(exc)
        else:
            if isinstance(value, (list, tuple)):
                outcome.listed.append(key)
    outcome.mutated = [
        k + _how_changed(case.inputs[k], args[k])
        for k in case.inputs
        if _changed(case.inputs[k], args[k])
    ]
    outcome.warnings = sorted({printable(f"{w.category.__name__}: {w.message}") for w in caught})
    outcome.warnings = outcome.warnings[:5]
    return outcome
