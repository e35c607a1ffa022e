"""Starter files: the contract as a docstring, the signatures raising NotImplementedError."""

from __future__ import annotations

import shlex

from .catalogue import Exercise

__all__ = ["render"]


def render(exercise: Exercise, path: str | None = None) -> str:
    """The text of ``<name>.py`` for the learner to fill in (no solution in it).

    ``path`` is where the file is written, as the check command in it should name it
    (default: ``<name>.py`` in the current folder).
    """
    check = shlex.quote(path) if path is not None else f"{exercise.name}.py"
    contract = "\n".join(f"    {line}" if line else "" for line in exercise.contract.splitlines())
    return (
        f'"""handgrad exercise `{exercise.name}`: {exercise.title}\n'
        f"(chapter {exercise.chapter_heading}).\n\n"
        f"Contract:\n{contract}\n\n"
        f"Replace each `raise NotImplementedError` with your code, then check it:\n\n"
        f"    handgrad exercise check {check}\n\n"
        f"The formulas: handgrad exercise explain {exercise.name}\n"
        f'"""\n\n'
        f"import numpy as np\n\n\n"
        f"{exercise.stub}"
    )
