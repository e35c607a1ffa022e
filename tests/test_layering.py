"""The house's import rules: dependencies point one way, down (docs/architecture.md).

Each part of ``handgrad`` has a rank; a module may import handgrad modules of a lower rank
and modules of its own part, nothing else. A wrong arrow (the engine importing the training
loop, an experiment importing the command line) fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import handgrad

SRC = Path(handgrad.__file__).parent

# part -> rank. A part is the first name under handgrad/ (a module or a package).
RANKS = {
    "nn": 0,  # the engine: NumPy and the standard library only
    "chapters": 0,  # the course's chapter names (data only)
    "io": 1,  # atomic writes, JSON
    "install": 1,  # how to install an optional extra, said the way handgrad was installed
    "metrics": 1,  # scores, probabilities from logits
    "splits": 1,  # the one row splitter: held-out rows, scikit-learn's rounding
    "data": 2,  # datasets, splits, scaling, readers
    "train": 2,  # fit as named steps, its steps (fast and reference), guard, checkpoints, callbacks
    "__init__": 3,  # `import handgrad`: the everyday names (engine + train)
    "reference": 3,  # the seeds' exercise functions, on the engine's math
    "estimators": 3,  # scikit-learn API on train + nn
    "plots": 3,
    "report": 3,
    "tabular": 4,  # your own table: reading, encoding, training, predicting, the run folder
    "sweep": 5,  # many trainings on Dask (the experiments may run their loops through it)
    "experiments": 6,  # the course's chapters, measured
    "course": 7,  # the notebooks and their helpers (on experiments and exercises)
    "exercises": 6,  # the learner's code, checked
    "playground": 6,  # the local web page
    "cli": 8,  # argument parsing only
}

# Arrows allowed against the ranks, each with its reason.
EXCEPTIONS = {
    ("__init__", "estimators"),  # `hg.MLPClassifier`: a lazy re-export inside __getattr__
}


def part_of(module: str) -> str:
    """'handgrad.nn.layers' -> 'nn'; 'handgrad' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    names = list(rel.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def handgrad_imports(path: Path, text: str | None = None) -> list[tuple[str, int]]:
    """Every handgrad module the file imports (absolute or relative), with line numbers."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "handgrad"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "handgrad":
                continue
            if (
                target == "handgrad" or node.module is None
            ):  # `from handgrad import x` / `from .. import x`
                found += [
                    (f"{target}.{a.name}" if _is_module(target, a.name) else target, node.lineno)
                    for a in node.names
                ]
            else:
                found.append((target, node.lineno))
    return found


def _is_module(package: str, name: str) -> bool:
    folder = SRC.parent.joinpath(*package.split("."))
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


SOURCES = sorted(SRC.rglob("*.py"))


def test_every_part_has_a_rank():
    parts = {
        part_of(module_name(p)) if module_name(p) != "handgrad" else "__init__" for p in SOURCES
    }
    parts.discard("__main__")
    assert parts - set(RANKS) == set(), "give the new part a rank in RANKS and docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    me = module_name(path)
    my_part = "__init__" if me == "handgrad" else part_of(me)
    if my_part == "__main__":
        my_part = "cli"
    bad = []
    for target, line in handgrad_imports(path):
        other = part_of(target)
        if other == my_part or (my_part, other) in EXCEPTIONS:
            continue
        if RANKS.get(other, 99) >= RANKS[my_part]:
            bad.append(f"{path.relative_to(SRC)}:{line} ({my_part}) imports {target} ({other})")
    assert bad == []


def test_the_checker_sees_relative_and_absolute_imports():
    """An engine file importing the training loop and the CLI must be seen as doing so."""
    probe = SRC / "nn" / "probe.py"  # never written: the text is given
    text = "from ..train import fit\nimport handgrad.cli\nfrom . import functional\n"
    found = [(part_of(t), line) for t, line in handgrad_imports(probe, text)]
    assert found == [("train", 1), ("cli", 2), ("nn", 3)]
