"""Results of a check: case by case, as text, as HTML for notebooks, and as JSON."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .diagnose import HINTS, most_specific_first
from .explanations import explain, markdown_html

__all__ = ["CaseResult", "CheckResult", "EXPLAIN"]

# where a hint is explained at length: shipped with the package, so it works in a learner's
# course folder (which has no docs/), in a terminal and in a notebook
EXPLAIN = "handgrad exercise explain"


@dataclass
class CaseResult:
    """One case: passed or not, the diagnosis codes, and a message (expected vs got)."""

    name: str
    passed: bool
    diagnoses: list[str] = field(default_factory=list)
    message: str = ""
    # for settle(): the numbers were compared (not an error), and the case's `scale` came
    # from single numbers only (where two numbers always have some ratio)
    compared: bool = field(default=False, repr=False, compare=False)
    lone_factor: bool = field(default=False, repr=False, compare=False)
    # ... and the known mistakes whose numbers this case's wrong outputs contradict
    contradicted: set[str] = field(default_factory=set, repr=False, compare=False)
    single_numbers: bool = field(default=False, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "diagnoses": list(self.diagnoses),
            "message": self.message,
        }


@dataclass
class CheckResult:
    """The check of one answer to one exercise."""

    exercise: str
    cases: list[CaseResult]
    problem: str = ""  # a failure before any case could run (a syntax error, a missing name)
    output: str = ""  # what the learner's code printed, capped
    doc: str = ""  # the docs section with this exercise's formula

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def diagnoses(self) -> list[str]:
        """Every code found, each once, most specific first (a named mistake before a factor:
        mse over N - 1 shows `n-minus-1` on most cases, `scale` on the two-sample one)."""
        return most_specific_first([d for case in self.cases for d in case.diagnoses])

    def __bool__(self) -> bool:
        return self.passed

    def as_dict(self) -> dict:
        out = {
            "exercise": self.exercise,
            "passed": self.passed,
            "cases": [c.as_dict() for c in self.cases],
        }
        if self.problem:
            out["problem"] = self.problem
        return out

    def _hints(self) -> list[tuple[str, str, str]]:
        """(label, text, section) for each diagnosis, then the exercise's formulas if it failed;
        ``section`` names the explanation (``explain(section)``)."""
        hints = [(code, HINTS[code], code) for code in self.diagnoses]
        if not self.passed and self.doc:
            hints.append(("formulas", "the formulas for this exercise", self.exercise))
        return hints

    def __str__(self) -> str:
        n_ok = sum(c.passed for c in self.cases)
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"{self.exercise}: {verdict} ({n_ok}/{len(self.cases)} cases)"]
        if self.problem:
            lines.append(f"  problem: {self.problem}")
        for case in self.cases:
            mark = "ok  " if case.passed else "FAIL"
            codes = f" [{', '.join(case.diagnoses)}]" if case.diagnoses else ""
            lines.append(f"  {mark} {case.name}{codes}")
            if not case.passed and case.message:
                lines += [f"       {line}" for line in case.message.splitlines()]
        hints = self._hints()
        if hints:
            lines.append("hints:")
            lines += [
                f"  - {label}: {text}" if label != "formulas" else f"  - {text}: {EXPLAIN} {name}"
                for label, text, name in hints
            ]
            example = hints[0][2]
            lines.append(
                f"each hint at length: {EXPLAIN} NAME, e.g. {EXPLAIN} {example} "
                f'(in Python: handgrad.exercises.explain("{example}"))'
            )
        if self.output:
            lines.append("your code printed (first lines):")
            lines += [f"  | {line}" for line in self.output.splitlines()[:10]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    @staticmethod
    def _case_rows_html(c: CaseResult) -> str:
        """A case's row, and under a failing one its message in a row of its own, as wide as
        the table: on a phone no column is pushed past the edge by a long message."""
        e = html.escape
        mark = "&#10003;" if c.passed else "&#10007;"
        codes = ", ".join(f'<code style="white-space:nowrap">{e(d)}</code>' for d in c.diagnoses)
        row = (
            f'<tr><td style="{CELL}">{e(c.name)}</td><td style="{CELL}">{mark}</td>'
            f'<td style="{CELL}">{codes}</td></tr>'
        )
        if c.passed or not c.message:
            return row
        return row + (
            f'<tr><td colspan="3" style="{MESSAGE_CELL}"><pre style="{PRE}">'
            f"{e(c.message)}</pre></td></tr>"
        )

    def _repr_html_(self) -> str:
        """A table that fits its container from 360 to 1400 px: three short columns (case,
        result, diagnosis), each failing case's message wrapping in a row of its own under
        it; each hint folds out into its explanation (shipped with the package)."""
        e = html.escape
        ok = self.passed
        colour = "#1a7f37" if ok else "#b42318"
        n_ok = sum(c.passed for c in self.cases)
        parts = [
            f'<div class="handgrad-check" style="{BOX}">',
            f'<p style="color:{colour};font-weight:bold;margin:0 0 .5em">{e(self.exercise)}: '
            f"{'passed' if ok else 'failed'} ({n_ok}/{len(self.cases)} cases)</p>",
        ]
        if self.problem:
            parts.append(f'<p style="{WRAP}"><b>problem:</b> {e(self.problem)}</p>')
        if self.cases:
            parts.append(
                f'<table style="{TABLE}"><thead><tr><th style="{HEAD}">case</th>'
                f'<th style="{HEAD}">result</th><th style="{HEAD}">diagnosis</th>'
                "</tr></thead><tbody>"
            )
            for c in self.cases:
                parts.append(self._case_rows_html(c))
            parts.append("</tbody></table>")
        hints = self._hints()
        if hints:  # each hint opens on its explanation, shipped with the package
            items = "".join(
                f"<li><details><summary><code>{e(label)}</code>: {e(text)}</summary>"
                f'<div style="{EXPLANATION}">{markdown_html(explain(name).body)}</div>'
                "</details></li>"
                for label, text, name in hints
            )
            parts.append(f'<ul style="{WRAP};padding-left:1.2em">{items}</ul>')
        parts.append("</div>")
        return "".join(parts)


# inline styles (a notebook output has no stylesheet of ours): everything wraps inside the box
BOX = "font-family:sans-serif;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere"
WRAP = "overflow-wrap:anywhere;margin:.5em 0"
TABLE = "border-collapse:collapse;width:100%;table-layout:auto"
CELL = "text-align:left;vertical-align:top;padding:2px 6px;overflow-wrap:anywhere"
HEAD = f"{CELL};white-space:nowrap"
MESSAGE_CELL = f"{CELL};padding-left:1.5em;padding-bottom:.5em;border-bottom:1px solid #ddd"
PRE = "margin:0;white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;font-size:90%"
EXPLANATION = "margin:.3em 0 .6em;overflow-x:auto;max-width:100%"
