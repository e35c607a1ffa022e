"""The course's exercises: the learner writes each piece, handgrad checks it and names the bug.

    handgrad.exercises.names()                       every exercise, in the course's order
    handgrad.exercises.starter("backprop")           the starter file's text
    handgrad.exercises.start("backprop", "ex/")      write it (never over an existing file)
    handgrad.exercises.check("backprop", backprop)   a function, class, namespace or file path
    handgrad.exercises.explain("scale")              a hint (or an exercise's formulas) at length

``check`` with a path runs the file in a sandboxed child process (wall clock, memory
limit, output cap). With objects from a notebook it runs them in this process, with a
per-case time limit (SIGALRM, on POSIX in the main thread): the code is already running
in the caller's interpreter, so a child process would protect nothing.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .catalogue import Case, Exercise, all_exercises, get
from .checking import check_namespace
from .explanations import explain
from .result import CaseResult, CheckResult
from .sandbox import check_file

__all__ = [
    "Case",
    "CaseResult",
    "CheckResult",
    "Exercise",
    "all_exercises",
    "check",
    "check_file",
    "get",
    "names",
    "start",
    "starter",
    "exercise_for_file",
    "check_path",
    "listing",
    "explain",
]


def names() -> list[str]:
    return [e.name for e in all_exercises()]


def starter(name: str, path: str | None = None) -> str:
    """The text of the starter file for exercise ``name``, to be written at ``path``."""
    from .starters import render

    return render(get(name), path)


def start(name: str, directory: str | os.PathLike = ".") -> Path:
    """Write ``<directory>/<name>.py`` with the starter; FileExistsError if it is there."""
    exercise = get(name)
    from ..io import write_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{exercise.name}.py"
    if target.exists():
        raise FileExistsError(f"{target} already exists; it is left as it is")
    here = None if target == Path(target.name) else str(target)  # the check command's path
    write_text(target, starter(name, here))
    return target


def exercise_for_file(path: str | os.PathLike, name: str | None = None) -> Exercise:
    """The exercise a file answers: ``name`` if given, else the file's stem."""
    if name is not None:
        return get(name)
    stem = Path(path).stem
    try:
        return get(stem)
    except ValueError:
        raise ValueError(
            f"cannot tell which exercise {Path(path).name} answers; pass --name "
            f"(one of: {', '.join(names())})"
        ) from None


def listing() -> str:
    """One line per exercise: name, chapter, title, what the file must define."""
    rows = [(e.name, e.chapter_heading, e.title, ", ".join(e.entries)) for e in all_exercises()]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{'NAME':<{width[0]}}  {'CHAPTER':<{width[1]}}  {'EXERCISE':<{width[2]}}  DEFINES"]
    lines += [f"{a:<{width[0]}}  {b:<{width[1]}}  {c:<{width[2]}}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)


def check_path(path: str | os.PathLike, name: str | None = None) -> CheckResult:
    """Check the file ``path`` in the sandbox; the exercise is ``name`` or the file's stem."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return check_file(exercise_for_file(path, name), path)


def _namespace(exercise: Exercise, answer: Any) -> Mapping[str, Any]:
    if isinstance(answer, Mapping):
        return answer
    if isinstance(answer, types.ModuleType):
        return vars(answer)
    if answer is globals or answer is locals:  # check("mse", globals): the call was forgotten
        raise TypeError(
            f"check({exercise.name!r}, {answer.__name__}): call it, "
            f"check({exercise.name!r}, {answer.__name__}())"
        )
    if callable(answer) and len(exercise.entries) == 1:
        return {exercise.entries[0]: answer}
    raise TypeError(
        f"check({exercise.name!r}, ...) needs a function or class for "
        f"{' + '.join(exercise.entries)}: pass the object itself if there is one, else a dict, "
        "a module, globals() or a file path"
    )


def check(
    name: str,
    answer: Any,
    *,
    timeout: float | None = None,
) -> CheckResult:
    """Check an answer to exercise ``name``; the result prints as text and shows as HTML.

    ``answer``: a function or class (exercises with one entry), a dict / module /
    ``globals()`` holding the entries, or the path of a ``.py`` file (run in a sandbox).
    ``timeout``: seconds (per case in-process, for the whole file in the sandbox).
    """
    exercise = get(name)
    if isinstance(answer, (str, os.PathLike)):
        return check_file(exercise, answer, timeout=timeout)
    return check_namespace(exercise, _namespace(exercise, answer), timeout or exercise.timeout)
