"""docs/architecture.md stays true: its layer picture is the layering test's table, and every
module and test file it names exists."""

from __future__ import annotations

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
