"""docs/architecture.md stays true: its layer picture is the layering test's table, and every
module and test file it names exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import handgrad

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(handgrad.__file__).parent
DOC = ROOT / "docs" / "architecture.md"


def layering_ranks() -> dict[str, float]:
    """RANKS from tests/test_layering.py, read without importing it as a test module."""
    namespace: dict = {}
    text = (ROOT / "tests" / "test_layering.py").read_text()
    block = re.search(r"^RANKS = \{.*?^\}", text, re.S | re.M)
    assert block, "tests/test_layering.py has no RANKS table"
    exec(block.group(0), namespace)  # a dict literal of str -> number
    return namespace["RANKS"]


def picture_ranks(text: str) -> dict[str, int]:
    """The first code block's 'rank N  part/' lines (and the parts listed under them).

    Names sit in the column from character 8 to 29; a line may list several, comma-separated.
    """
    block = text.split("```")[1]
    ranks: dict[str, int] = {}
    rank = None
    for line in block.splitlines():
        m = re.match(r"rank (\d+) ", line)
        if m:
            rank = int(m.group(1))
        elif rank is None or not re.match(r"^ {8}\S", line):
            continue
        for piece in line[8:29].split(","):  # the name column
            part = piece.strip().rstrip("/").removesuffix(".py").removeprefix("handgrad/")
            if part:
                ranks[part] = rank
    return ranks


def test_the_layer_picture_is_the_layering_table():
    picture = picture_ranks(DOC.read_text())
    assert picture == layering_ranks()


# paths such as `train/loop.py`, `nn/losses.py`, `tests/nn/test_losses.py`, `cli/`
PATH = re.compile(r"(?<![\w/.])((?:tests|benchmarks|docs)/[\w/]+\.\w+|[a-z_]+/[\w/]*\.py)")


def named_paths(text: str) -> list[str]:
    return sorted(set(PATH.findall(text)))


@pytest.mark.parametrize("name", named_paths(DOC.read_text()))
def test_every_file_the_map_names_exists(name):
    candidates = [ROOT / name, SRC / name, SRC.parent / name, ROOT / "docs" / name]
    assert any(p.exists() for p in candidates), f"docs/architecture.md names {name}, not found"


def test_the_checker_finds_paths():
    assert named_paths("see `train/loop.py` and tests/nn/test_losses.py, not e.g.") == [
        "tests/nn/test_losses.py",
        "train/loop.py",
    ]
    assert picture_ranks(
        "```\nrank 3  estimators/          x\n        report/, plots.py    y\n```"
    ) == {
        "estimators": 3,
        "report": 3,
        "plots": 3,
    }


# `file.py:name` (or `file.py:Class.method`) in the map: a function or class that exists
NAMED = re.compile(r"(?<![\w/.])((?:[a-z_]+/)*[a-z_]+\.py):([A-Za-z_][\w.]*\w)")


def named_objects(text: str) -> list[tuple[str, str]]:
    return sorted(set(NAMED.findall(text)))


def module_of(path: str) -> str:
    """'cli/tabular.py' -> 'handgrad.cli.tabular'; 'cli/__init__.py' -> 'handgrad.cli'."""
    parts = ["handgrad", *path.removesuffix(".py").split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize(("path", "name"), named_objects(DOC.read_text()))
def test_every_function_the_map_names_exists(path, name):
    obj = importlib.import_module(module_of(path))
    for part in name.split("."):
        assert hasattr(obj, part), f"docs/architecture.md names {path}:{name}, not found"
        obj = getattr(obj, part)


def fit_path(text: str) -> str:
    """The code block that follows `fit` through train/loop.py, step by step."""
    blocks = text.split("```")[1::2]
    found = [b for b in blocks if b.lstrip().startswith("fit(")]
    assert len(found) == 1, "docs/architecture.md has no code block of fit's path"
    return found[0]


def fit_path_names(block: str) -> list[tuple[str, str]]:
    """('loop', '_prepare') for each step named at a line's start; (owner, name) for
    step.X, guard.X, steps.X, batching.X."""
    steps = [("loop", n) for n in re.findall(r"^ +(_[a-z_]+)\b", block, re.M)]
    dotted = re.findall(r"\b(step|guard|steps|batching)\.(?!py\b)([a-z_]+)", block)
    return sorted(set(steps + dotted))


def _owners(owner: str) -> list:
    from handgrad.train import batching, guard, loop, steps

    return {
        "loop": [loop],
        "step": [steps.Step],
        "guard": [guard, guard.DivergenceGuard],
        "steps": [steps],
        "batching": [batching],
    }[owner]


@pytest.mark.parametrize(("owner", "name"), fit_path_names(fit_path(DOC.read_text())))
def test_every_step_of_fits_path_exists(owner, name):
    assert any(hasattr(o, name) for o in _owners(owner)), f"fit's path names {owner}.{name}"


def test_the_name_checkers_find_names():
    text = "`cli/tabular.py:cmd_train`, tabular/predictor.py:Predictor.load and io.py:write_json."
    assert named_objects(text) == [
        ("cli/tabular.py", "cmd_train"),
        ("io.py", "write_json"),
        ("tabular/predictor.py", "Predictor.load"),
    ]
    assert module_of("cli/__init__.py") == "handgrad.cli"
    block = "fit(...)\n  _prepare  x (guard.end_of_epoch_problem)\n  then step.batch -> loss\n"
    assert fit_path_names(block) == [
        ("guard", "end_of_epoch_problem"),
        ("loop", "_prepare"),
        ("step", "batch"),
    ]
    assert not any(hasattr(o, "_no_such_step") for o in _owners("loop"))
