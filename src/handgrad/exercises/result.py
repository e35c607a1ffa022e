"""Results of a check: case by case, as text, as HTML for notebooks, and as JSON."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .diagnose import HINTS

__all__ = ["CaseResult", "CheckResult", "DOCS"]

DOCS = "docs/exercises.md"


@dataclass
class CaseResult:
    """One case: passed or not, the diagnosis codes, and a message (expected vs got)."""

    name: str
    passed: bool
    diagnoses: list[str] = field(default_factory=list)
    message: str = ""

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
        """Every code found, each once, in the order first seen."""
        seen: list[str] = []
        for case in self.cases:
            seen += [d for d in case.diagnoses if d not in seen]
        return seen

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
        """(label, text, link) for each diagnosis, then the exercise's formulas if it failed."""
        hints = [(code, HINTS[code], f"{DOCS}#{code}") for code in self.diagnoses]
        if not self.passed:
            where = f"{DOCS}#{self.doc}" if self.doc else DOCS
            hints.append(("formulas", "the formulas for this exercise", where))
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
                f"  - {label}: {text} (see {link})"
                if label != "formulas"
                else f"  - {text}: {link}"
                for label, text, link in hints
            ]
        if self.output:
            lines.append("your code printed (first lines):")
            lines += [f"  | {line}" for line in self.output.splitlines()[:10]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """A table that fits its container from 360 to 1400 px: long messages wrap inside
        their cell, and the table scrolls inside its own box rather than widening the page."""
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
                f'<div style="overflow-x:auto;max-width:100%"><table style="{TABLE}">'
                f'<thead><tr><th style="{CELL}">case</th><th style="{CELL}">result</th>'
                f'<th style="{CELL}">diagnosis</th><th style="{CELL}">expected vs got</th>'
                "</tr></thead><tbody>"
            )
            for c in self.cases:
                mark = "&#10003;" if c.passed else "&#10007;"
                codes = ", ".join(
                    f'<a href="{e(DOCS)}#{e(d)}" style="white-space:nowrap"><code>{e(d)}</code></a>'
                    for d in c.diagnoses
                )
                message = e(c.message) if not c.passed else ""
                parts.append(
                    f'<tr><td style="{CELL}">{e(c.name)}</td><td style="{CELL}">{mark}</td>'
                    f'<td style="{CELL}">{codes}</td><td style="{MESSAGE_CELL}">'
                    f'<pre style="{PRE}">{message}</pre></td></tr>'
                )
            parts.append("</tbody></table></div>")
        hints = self._hints()
        if hints:
            items = "".join(
                f'<li><a href="{e(link)}">{e(label)}</a>: {e(text)}</li>'
                for label, text, link in hints
            )
            parts.append(f'<ul style="{WRAP};padding-left:1.2em">{items}</ul>')
        parts.append("</div>")
        return "".join(parts)


# inline styles (a notebook output has no stylesheet of ours): everything wraps inside the box
BOX = "font-family:sans-serif;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere"
WRAP = "overflow-wrap:anywhere;margin:.5em 0"
TABLE = "border-collapse:collapse;width:100%;table-layout:auto"
CELL = "text-align:left;vertical-align:top;padding:2px 6px;overflow-wrap:break-word"
MESSAGE_CELL = f"{CELL};min-width:16em"
PRE = "margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:90%"
