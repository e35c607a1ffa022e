"""Running one answer on one case: copies of the inputs, a time limit, errors as text.

The same code runs inside the sandbox's child process (a learner's file) and in-process
(``check(name, function)`` from a notebook). Outputs come back as plain NumPy arrays of
numbers, so they can cross a process boundary as ``.npy`` data, never as pickles.
"""

from __future__ import annotations

import io
import os
import signal
import site
import sys
import sysconfig
import threading
import time
import traceback
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .catalogue import Case, Exercise, copy_inputs

__all__ = [
    "Outcome",
    "run_case",
    "to_number_array",
    "CaseTimeout",
    "printable",
    "call_with_time_limit",
    "call_with_memory_limit",
]

T = TypeVar("T")

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _installed_code() -> tuple[str, ...]:
    """The folders whose code is not an answer's, each ending in a separator: this package,
    the standard library, and wherever packages are installed (the interpreter's purelib
    and platlib, every site folder, the user's, and NumPy's own, which a distribution may
    put elsewhere, e.g. Debian's dist-packages). An error raised inside NumPy is then
    placed at the answer's line that called it; a gc callback of an installed package
    (hypothesis has one) is never the frame the time limit's stop is raised in."""
    paths = sysconfig.get_paths()
    folders = {_PACKAGE_DIR, paths["stdlib"], paths["platstdlib"], paths["purelib"]}
    folders |= {paths["platlib"], os.path.dirname(os.path.dirname(np.__file__))}
    folders |= set(getattr(site, "getsitepackages", list)())
    folders.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.realpath(f), "") for f in folders if f) + tuple(
        os.path.join(f, "") for f in folders if f
    )


_NOT_THE_ANSWERS = _installed_code()

# text that reorders or redraws what a terminal shows: bidirectional overrides and isolates
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class CaseTimeout(BaseException):
    """Raised inside the answer when its time is up: a BaseException, so that an answer's
    ``except Exception`` around a loop does not swallow it (KeyboardInterrupt's rank)."""


# once the time is up the alarm repeats, every REPEAT seconds, until the answer lets go: a
# bare ``except:`` inside an endless loop swallows one CaseTimeout, rarely all of them
REPEAT = 0.05


@dataclass
class Outcome:
    """What an answer did on one case."""

    status: str  # "ok", "error" or "timeout"
    error: str = ""
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    bad_outputs: dict[str, str] = field(default_factory=dict)  # output -> why it is unusable
    mutated: list[str] = field(default_factory=list)  # inputs the answer wrote into
    listed: list[str] = field(default_factory=list)  # outputs returned as lists or tuples
    ignored: dict[str, list[str]] = field(default_factory=dict)  # output -> inputs it ignores
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


class _Deadline:
    """What the alarm does once the time is up: raise CaseTimeout where the answer is, and
    again at each line it runs next (a line tracer on the answer's frames), so that a bare
    ``except:`` in an endless loop cannot swallow the stop: the handler's own line raises it
    again, outside the ``try``.

    Safe by construction: the stop is raised only in a frame of the answer that runs below
    ``call_with_time_limit`` (never in the checker's own lines, its clean-up, a garbage
    collector's callback or a finalizer), and only the answer's frames get the tracer, none
    of them kept: the caller's frames are never touched, so nothing needs putting back."""

    def __init__(self, seconds: float) -> None:
        self.message = (
            f"did not finish within {seconds:g} s (an endless loop, or a recursion with no end?)"
        )
        self.armed = True

    @staticmethod
    def _answers(frame: Any) -> bool:
        """A frame of the answer's code (not this package's, not the standard library's,
        not an installed package's)."""
        return not frame.f_code.co_filename.startswith(_NOT_THE_ANSWERS)

    def tracer(self, frame: Any, event: str, arg: Any) -> Any:
        if not (self.armed and self._answers(frame)):
            return None  # no local tracer for any other frame
        if event == "line":
            raise CaseTimeout(self.message)
        return self.tracer

    def on_alarm(self, signum: int, frame: Any) -> None:
        if not self.armed:
            return
        answers = _answer_frames(frame)
        if answers is None:  # not inside the call: the checker's own code, a finalizer
            return
        for here in answers:
            here.f_trace = self.tracer
        sys.settrace(self.tracer)
        if answers and answers[0] is frame:
            raise CaseTimeout(self.message)


def _answer_frames(frame: Any) -> list[Any] | None:
    """The answer's frames from ``frame`` up to the call of ``call_with_time_limit`` (the
    innermost first), or None when ``frame`` does not run inside that call."""
    found: list[Any] = []
    here = frame
    while here is not None:
        if here.f_code is _LIMITED_CALL:
            return found
        if _Deadline._answers(here):
            found.append(here)
        here = here.f_back
    return None


def call_with_time_limit(call: Callable[[], T], seconds: float | None) -> T:
    """``call()``, stopped by CaseTimeout after ``seconds`` (POSIX main thread only; elsewhere
    no limit). Everything is put back in this frame's own ``finally``: the first thing it
    does disarms the alarm, and the alarm raises nothing outside the answer's frames, so no
    step of the clean-up can be skipped."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        return call()
    deadline = _Deadline(seconds)
    previous_trace = sys.gettrace()
    previous = signal.signal(signal.SIGALRM, deadline.on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
        return call()
    finally:
        deadline.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.settrace(previous_trace)


_LIMITED_CALL = call_with_time_limit.__code__


# what an answer checked in-process (a notebook's) may add to the process's address space
HEADROOM_MB = 2048


def _address_space_mb() -> int | None:
    """This process's address space (VmSize) in MB; None where /proc does not say (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def call_with_memory_limit(call: Callable[[], T], headroom_mb: int | None) -> T:
    """``call()`` with the address space capped at what the process uses now plus
    ``headroom_mb`` (RLIMIT_AS, Linux), put back as it was afterwards: an answer allocating
    a huge array gets NumPy's MemoryError at once ("Unable to allocate 7.45 GiB for an
    array with shape ...") instead of the machine swapping or the kernel being killed.
    Elsewhere, or with ``headroom_mb`` None, no limit."""
    used = _address_space_mb() if headroom_mb is not None else None
    try:
        import resource
    except ImportError:  # not POSIX
        return call()
    if used is None or headroom_mb is None:
        return call()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = (used + headroom_mb) * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        return call()  # a tighter limit is already there
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        return call()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def describe_error(exc: BaseException, filename: str | None = None) -> str:
    """One or two lines: the exception, and where in the learner's file it was raised."""
    if isinstance(exc, NotImplementedError):
        return "raises NotImplementedError: not written yet"
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}); an exercise must return, not exit"
    text = printable(f"raised {type(exc).__name__}: {exc}".strip())
    frames = traceback.extract_tb(exc.__traceback__)
    if filename:
        mine = [f for f in frames if f.filename == filename]
    else:  # in-process: the answer's frames (not this package's, NumPy's, the stdlib's)
        mine = [f for f in frames if not f.filename.startswith(_NOT_THE_ANSWERS)]
    if mine:
        line = (mine[-1].line or "").strip()
        text += printable(f" (line {mine[-1].lineno}{': ' + line if line else ''})")
    if isinstance(exc, RecursionError):
        text += "; a function that calls itself with nothing to stop it (or far too deep)"
    return text


def memory_message(exc: MemoryError, memory_mb: int | None, headroom_mb: int | None = None) -> str:
    """Running out of memory, with NumPy's own words (the size asked for) and the limit."""
    asked = printable(str(exc)).strip()
    limit = f" (the check allows {memory_mb} MB)" if memory_mb else ""
    if headroom_mb and not memory_mb:
        limit = f" (the check allows {headroom_mb} MB more than the notebook already uses)"
    return (
        "ran out of memory"
        + (f": {asked}" if asked else "")
        + limit
        + ("; an array far larger than the case's inputs?")
    )


# two changes of an input, (scale, shift): the second flips signs, so that a mask such as
# z >= 0, which the first may leave as it was, changes too
CHANGES = ((2.0, 0.25), (-1.5, 0.5))


def perturbed(inputs: dict[str, Any], key: str, change: tuple[float, float]) -> dict | None:
    """Copies of ``inputs`` with the float number or float arrays under ``key`` changed to
    a v + b (a number in [0, 1) to another in [0, 1)); None when ``key`` holds nothing of
    the kind (labels, sizes, names)."""
    a, b = change

    def changed(value: Any) -> Any:
        if isinstance(value, float) and 0.0 <= value < 1.0:
            # a rate or a coefficient (momentum, beta): kept in [0, 1), where it is valid
            return (value + 1.0) / 2 if a < 0 else (value / 2 if value > 0 else 0.25)
        if isinstance(value, float):
            return a * value + b
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            return (a * value + b).astype(value.dtype)
        if isinstance(value, dict) and value:
            parts = {k: changed(v) for k, v in value.items()}
            return None if any(v is None for v in parts.values()) else parts
        if isinstance(value, list) and value:  # a network's weights, one array per layer
            items = [changed(v) for v in value]
            return None if any(v is None for v in items) else items
        return None

    new = changed(inputs[key])
    return None if new is None else {**copy_inputs(inputs), key: new}


def ignored_inputs(
    exercise: Exercise,
    namespace: Mapping[str, Any],
    case: Case,
    outputs: dict[str, np.ndarray],
    seconds: float | None,
) -> dict[str, list[str]]:
    """For each finite output, the inputs whose two changes (CHANGES) both leave it bit for
    bit the same: the answer does not read them (a global used in their place, a class's
    own learning rate or weights in place of the ones it is given). Ordinary cases only: a
    case with its own judge (XOR learned, a fresh network) trains networks, too long to
    repeat, and outputs saturated by extreme inputs stay the same for a reason."""
    if case.judge is not None or "extreme" in case.tags:
        return {}
    finite = {k: v for k, v in outputs.items() if _varied(v)}
    ignored: dict[str, list[str]] = {}
    quiet = io.StringIO()  # what the answer prints again is not shown twice

    def scan() -> None:
        for key in case.inputs:
            same = set(finite)
            for change in CHANGES:
                inputs = perturbed(case.inputs, key, change)
                if inputs is None or not same:
                    same = set()
                    break
                try:
                    with redirect_stdout(quiet), redirect_stderr(quiet):
                        again = exercise.probe(namespace, inputs)
                    same = {n for n in same if _same(again.get(n), finite[n])}
                except Exception:  # an answer that cannot take the change says nothing
                    same = set()
            for name in same:
                ignored.setdefault(name, []).append(key)

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        call_with_time_limit(scan, seconds)
    return ignored


def _varied(output: np.ndarray) -> bool:
    """Finite and not one value repeated (nor a 0): all zeros, all NaN or all ones stay the
    same whatever the inputs, so their staying the same tells nothing."""
    values = output.astype(np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        return False
    return bool(values[0] != 0) if values.size == 1 else bool(np.ptp(values) > 0)


def _same(value: Any, before: np.ndarray) -> bool:
    try:
        after = to_number_array(value)
    except TypeError:
        return False
    return after.shape == before.shape and np.array_equal(after, before)


def run_case(
    exercise: Exercise,
    namespace: Mapping[str, Any],
    case: Case,
    seconds: float | None = None,
    filename: str | None = None,
    memory_mb: int | None = None,
    headroom_mb: int | None = None,
) -> Outcome:
    """Call the answer in ``namespace`` on copies of ``case.inputs``; its errors become text.

    ``filename``: the answer's file (its line is named in an error); ``memory_mb``: the
    sandbox's memory limit, named when the answer runs out of memory; ``headroom_mb``: the
    memory the answer may add to this process (in-process checks), None for no limit."""
    args = copy_inputs(case.inputs)
    started = time.monotonic()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            raw = call_with_memory_limit(
                lambda: call_with_time_limit(lambda: exercise.probe(namespace, args), seconds),
                headroom_mb,
            )
    except CaseTimeout as exc:
        return Outcome("timeout", str(exc))
    except MemoryError as exc:
        return Outcome("error", memory_message(exc, memory_mb, headroom_mb))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit included: the learner's code must not end us
        return Outcome("error", describe_error(exc, filename))
    outcome = Outcome("ok")
    for key, value in raw.items():
        try:
            outcome.outputs[key] = np.array(to_number_array(value), copy=True)
        except TypeError as exc:
            outcome.bad_outputs[key] = str(exc)
        else:
            if isinstance(value, (list, tuple)):
                outcome.listed.append(key)
    if seconds is not None:
        seconds = max(seconds - (time.monotonic() - started), 0.05)
    try:
        outcome.ignored = call_with_memory_limit(
            lambda: ignored_inputs(exercise, namespace, case, outcome.outputs, seconds),
            headroom_mb,
        )
    except (CaseTimeout, MemoryError):  # the answer did finish on the case itself: judged as it is
        pass
    outcome.mutated = [
        k + _how_changed(case.inputs[k], args[k])
        for k in case.inputs
        if _changed(case.inputs[k], args[k])
    ]
    outcome.warnings = sorted({printable(f"{w.category.__name__}: {w.message}") for w in caught})
    outcome.warnings = outcome.warnings[:5]
    return outcome
