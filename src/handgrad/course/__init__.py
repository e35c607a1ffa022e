"""The course: one Jupyter notebook per chapter, shipped inside the package.

    handgrad course --out course          copy the notebooks where you edit them
    jupyter lab course                     open them (``make course`` does both)

In a notebook:

    from handgrad import course
    result = course.measure("sine")        the chapter's experiment (quick), as the report runs it
    result.figures[0]                      a figure, shown inline
    course.reference_if_asked("mse", globals())

The notebooks are tested like code: ``tests/course`` executes each one top to bottom with
``HANDGRAD_COURSE_SOLUTIONS=1``, under which ``reference_if_asked`` puts the exercise's
reference answer in place of the learner's unfinished one. Without that variable it does
nothing, so a learner's own code is what runs and what ``handgrad.exercises.check`` checks.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from ..chapters import CHAPTERS, Chapter
from ..nn.serialization import _umask

SOLUTIONS_ENV = "HANDGRAD_COURSE_SOLUTIONS"
HERE = Path(__file__).resolve().parent

__all__ = [
    "SOLUTIONS_ENV",
    "copy_course",
    "measure",
    "notebook_name",
    "notebooks",
    "reference_if_asked",
]


def notebook_name(chapter: Chapter) -> str:
    """'03-sine.ipynb' for chapter 3 (the file name sorts in chapter order)."""
    return f"{chapter.number:02d}-{chapter.key}.ipynb"


def notebooks() -> list[Path]:
    """The notebooks that ship with this installation, in chapter order."""
    paths = [HERE / notebook_name(c) for c in CHAPTERS]
    return [p for p in paths if p.is_file()]


def copy_course(out_dir: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """Copy every notebook into ``out_dir``; a file already there is never written to.

    Returns (copied, kept): the new files, and those left alone because the learner may have
    edited them (rename one to get a fresh copy beside it). Each copy appears whole or not
    at all: it is written beside its target and linked in only if that name is still free,
    so an interrupted copy leaves no half notebook, and no existing file or symlink there is
    overwritten or written through.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for source in notebooks():
        target = out / source.name
        if _copy_if_free(source, target):
            copied.append(target)
        else:
            kept.append(target)
    return copied, kept


def _copy_if_free(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` unless a file (or a symlink, even a broken one) is there."""
    if os.path.lexists(target):
        return False
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a notebook gets the usual mode
        with os.fdopen(handle, "wb") as copy:
            copy.write(source.read_bytes())
        try:
            os.link(temporary, target)  # fails if the name was taken meanwhile: nothing replaced
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create the name exclusively
            try:
                with open(target, "xb") as copy:
                    copy.write(source.read_bytes())
            except FileExistsError:
                return False
        return True
    finally:
        os.unlink(temporary)


def reference_if_asked(name: str, namespace: MutableMapping[str, Any]) -> None:
    """With ``HANDGRAD_COURSE_SOLUTIONS=1``, put exercise ``name``'s reference into ``namespace``.

    How the course's tests fill the exercise cells; without the variable it changes nothing.
    It returns None, so the exercise cell it ends shows no output (a ``False`` under the
    learner's code would read like a verdict).
    """
    if os.environ.get(SOLUTIONS_ENV) != "1":
        return
    from ..exercises import get

    exercise = get(name)
    reference = exercise.reference()
    namespace.update({entry: reference[entry] for entry in exercise.entries})


def measure(
    name: str,
    *,
    seed: int = 0,
    quick: bool = True,
    out_dir: str | os.PathLike = "",
    **options: Any,
):
    """Run chapter ``name``'s experiment as ``handgrad run`` does; return its ExperimentResult.

    The same code writes the report's section, so the numbers a notebook shows are the
    report's. ``quick`` (the default here) keeps a notebook cell short; the figures go to
    ``out_dir``, or when it is empty to a fresh temporary folder that is removed when the
    Python process (the notebook's kernel) exits, so rerunning the course leaves nothing
    behind; ``options`` go to the experiment's ``run`` (e.g. ``keras=False`` for chapter 10).
    """
    from ..experiments import run_experiment

    if out_dir:
        folder = Path(out_dir)
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"handgrad-{name}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return run_experiment(name, seed=seed, out_dir=folder, quick=quick, **options)
