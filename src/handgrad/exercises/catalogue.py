"""The exercise catalogue: what an exercise and a case are, and the registry of all exercises."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..chapters import CHAPTERS

__all__ = ["Case", "Exercise", "BugModel", "register", "get", "all_exercises", "Verdict"]

# a custom judgement: (passed, message, diagnosis codes)
Verdict = tuple[bool, str, list[str]]


@dataclass
class Case:
    """One set of inputs for an exercise, and how to judge the answer.

    ``inputs`` are the arguments the probe passes to the learner's code (arrays are copied
    before each call, so a learner that writes into them is caught, not believed).
    ``tags``: "float32" (the answer must keep float32), "extreme" (large logits: a wrong
    answer here is a stability problem), "worked" (a worked example's numbers), "kink" (ReLU
    inputs exactly 0). ``masks`` name, per output, where a ReLU-kink bug would show.
    ``judge`` replaces the comparison with the reference (behaviour cases: XOR learned).
    ``bias_outputs`` names the outputs that are bias gradients (summed over the batch).
    """

    name: str
    inputs: dict[str, Any]
    tags: frozenset[str] = frozenset()
    rtol: float = 1e-6
    atol: float = 1e-9
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    judge: Callable[[dict[str, Any]], Verdict] | None = None
    bias_outputs: tuple[str, ...] = ()
    batch: int | None = None  # N, to name a 1/N scale factor

    def __post_init__(self) -> None:
        if "float32" in self.tags:
            self.rtol, self.atol = max(self.rtol, 2e-4), max(self.atol, 1e-6)


@dataclass(frozen=True)
class BugModel:
    """A known mistake, as the numbers it produces: ``outputs(case)`` -> outputs it would give.

    Used only to *name* a wrong answer; never as a reference. ``code`` may join two codes
    with "+" for two mistakes made together (both are named).
    """

    code: str
    what: str
    outputs: Callable[[Case], Mapping[str, Any]]


@dataclass(frozen=True)
class Exercise:
    """An exercise: contract, starter, cases, the probe that runs an answer, its reference.

    ``probe(namespace, inputs)`` calls the code found in ``namespace`` (the learner's file or
    the reference) on one case's inputs and returns named outputs (arrays or numbers).
    ``reference`` is a namespace with the entries, built on ``handgrad.nn`` /
    ``handgrad.reference``; ``expected`` overrides ``probe(reference, ...)`` when the
    reference cannot take the learner's contract literally (an optimizer's internal state).
    """

    name: str
    chapter: int  # the course chapter the exercise belongs to (handgrad.chapters)
    title: str
    entries: tuple[str, ...]  # names the learner's file must define
    contract: str  # shapes and conventions, as the docstring of the starter states them
    stub: str  # the starter's code (signatures raising NotImplementedError)
    cases: Callable[[], list[Case]]
    probe: Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]
    reference: Callable[[], Mapping[str, Any]]
    expected: Callable[[Case], dict[str, Any]] | None = None
    bug_models: tuple[BugModel, ...] = ()
    doc: str = ""  # anchor in docs/exercises.md with the formula
    timeout: float = 10.0  # seconds for the whole check in the sandbox

    @property
    def chapter_heading(self) -> str:
        """'4 · Backprop by hand: a binary classifier'."""
        return next(c.heading for c in CHAPTERS if c.number == self.chapter)

    def expected_outputs(self, case: Case) -> dict[str, Any]:
        if self.expected is not None:
            return self.expected(case)
        return self.probe(self.reference(), copy_inputs(case.inputs))


def copy_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Deep-enough copies: arrays, and lists / dicts of arrays."""

    def copy(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.copy()
        if isinstance(value, dict):
            return {k: copy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [copy(v) for v in value]
        return value

    return {k: copy(v) for k, v in inputs.items()}


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in _REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is registered twice")
    if exercise.chapter not in {c.number for c in CHAPTERS}:
        raise ValueError(f"exercise {exercise.name!r}: no chapter {exercise.chapter}")
    _REGISTRY[exercise.name] = exercise
    return exercise


# the modules that register exercises; the catalogue lists the exercises by chapter, and
# within a chapter in the order these register them
_DEFINITIONS = (
    "defs_basic",
    "defs_losses",
    "defs_networks",
    "defs_gradcheck",
    "defs_layers",
    "defs_optim",
    "defs_classes",
    "defs_confusion",
    "defs_ridge",
)


def _load() -> None:
    import importlib

    for module in _DEFINITIONS:
        importlib.import_module(f"{__package__}.{module}")


def all_exercises() -> list[Exercise]:
    """Every exercise in the course's order: by chapter, then as registered in the chapter."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda e: e.chapter)


def get(name: str) -> Exercise:
    """The exercise called ``name``; ValueError listing the names when there is none."""
    _load()
    if name not in _REGISTRY:
        known = ", ".join(e.name for e in all_exercises())
        raise ValueError(f"no exercise named {name!r}; choose from: {known}")
    return _REGISTRY[name]
