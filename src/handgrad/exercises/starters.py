"""Starter files: the contract as a docstring, the signatures raising NotImplementedError."""

from __future__ import annotations

from .catalogue import Exercise

__all__ = ["render"]


def render(exercise: Exercise) -> str:
    """The text of ``<name>.py`` for the learner to fill in (no solution in it)."""
    contract = "\n".join(f"    {line}" if line else "" for line in exercise.contract.splitlines())
    return (
        f'"""handgrad exercise `{exercise.name}`: {exercise.title}\n'
        f"(chapter {exercise.chapter_heading}).\n\n"
        f"Contract:\n{contract}\n\n"
        f"Replace each `raise NotImplementedError` with your code, then check it:\n\n"
        f"    handgrad exercise check {exercise.name}.py\n\n"
        f"The formulas: docs/exercises.md#{exercise.doc}\n"
        f'"""\n\n'
        f"import numpy as np\n\n\n"
        f"{exercise.stub}"
    )
