"""What every experiment returns, and how it is written to disk.

An experiment module is one chapter of the course. It defines ``NAME`` (the command-line name,
the chapter's key in ``handgrad.chapters``), ``TITLE`` (the chapter's heading), ``STAGE`` (a
one-line summary of what the chapter measures) and ``run(seed: int = 0, out_dir: Path = ...,
quick: bool = False) -> ExperimentResult``. ``run`` is deterministic for a random seed, writes
its figures (PNG) into ``out_dir`` and returns the numbers it measured plus a Markdown section
that answers the chapter's questions from those numbers (never from prose written in advance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..chapters import chapter
from ..io import write_json, write_text
from ..nn.layers import Linear, Parameter


@dataclass
class Figure:
    """A PNG written by an experiment, with the caption the report shows under it."""

    path: Path
    caption: str

    def _repr_png_(self) -> bytes:
        """The PNG itself, so a notebook shows ``result.figures[0]`` inline."""
        return Path(self.path).read_bytes()


@dataclass
class ExperimentResult:
    name: str
    title: str
    stage: str
    metrics: dict  # JSON-ready numbers (floats, ints, lists, nested dicts)
    markdown: str  # the section body: answers computed from ``metrics``
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    # parts that did not run here, each with why and the command that enables it
    skipped: list[str] = field(default_factory=list)
    quick: bool = False
    seed: int = 0

    def write(self, out_dir: Path) -> Path:
        """Write metrics.json and section.md into ``out_dir`` (atomically); return the folder."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "name": self.name,
            "title": self.title,
            "stage": self.stage,
            "seed": self.seed,
            "quick": self.quick,
            "seconds": self.seconds,
            "skipped": self.skipped,
            "metrics": self.metrics,
            "figures": [{"path": f.path.name, "caption": f.caption} for f in self.figures],
        }
        write_json(out_dir / "metrics.json", payload)
        write_text(
            out_dir / "section.md",
            f"## {self.title}\n\n*{self.stage}*\n\n{self.markdown.strip()}\n",
        )
        return out_dir


def output_folder(out_dir: Path | str) -> Path:
    """``out_dir`` as a Path, created (with its parents) if it does not exist yet."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def refuse_options(name: str, options: dict) -> None:
    """A clear TypeError when an experiment's ``run`` was given options it does not take."""
    if options:
        raise TypeError(f"{name}: unexpected option(s) {', '.join(sorted(options))}")


def tagline(key: str) -> str:
    """The chapter's one-line summary as a sentence: 'Fit y = wx + b by gradient descent; ...'."""
    summary = chapter(key).summary
    return summary[:1].upper() + summary[1:]


def fmt(x, digits: int = 3) -> str:
    """A measured number for prose and tables: ``digits`` significant digits, exponent form
    for very small or large magnitudes, an em dash for a missing value."""
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "−inf"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table from a header row and data rows."""

    def cell(c) -> str:
        return str(c).replace("|", "\\|")  # a literal | (as in |W1|) would split the cell

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the noun in the right number: 1 tumour, 2 tumours, 0 tumours."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def lead(question: str, look: str) -> str:
    """The opening of a section: the question it answers, then what to look at."""
    return f"**The question.** {question}\n\n**What to look at.** {look}"


def linear(module: object) -> Linear:
    """``module`` as a ``Linear`` layer; a clear error if a network's layout is not as expected."""
    if not isinstance(module, Linear):
        raise TypeError(f"expected a Linear layer, got {type(module).__name__}")
    return module


def bias_of(module: object) -> Parameter:
    """The bias of a ``Linear`` layer (the experiments build every layer with one)."""
    b = linear(module).bias
    if b is None:
        raise TypeError("expected a Linear layer with a bias")
    return b
