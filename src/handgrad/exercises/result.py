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

    def _hints(self) -> list[str]:
        where = f"{DOCS}#{self.doc}" if self.doc else DOCS
        lines = [f"{code}: {HINTS[code]} (see {DOCS}#{code})" for code in self.diagnoses]
        if not self.passed:
            lines.append(f"the formulas for this exercise: {where}")
        return lines

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
            lines += [f"  - {h}" for h in hints]
        if self.output:
            lines.append("your code printed (first lines):")
            lines += [f"  | {line}" for line in self.output.splitlines()[:10]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        ok = self.passed
        colour = "#1a7f37" if ok else "#b42318"
        n_ok = sum(c.passed for c in self.cases)
        parts = [
            '<div class="handgrad-check" style="font-family:sans-serif">',
            f'<p style="color:{colour};font-weight:bold">{e(self.exercise)}: '
            f"{'passed' if ok else 'failed'} ({n_ok}/{len(self.cases)} cases)</p>",
        ]
        if self.problem:
            parts.append(f"<p><b>problem:</b> {e(self.problem)}</p>")
        if self.cases:
            parts.append(
                '<table><thead><tr><th style="text-align:left">case</th><th>result</th>'
                '<th style="text-align:left">diagnosis</th>'
                '<th style="text-align:left">expected vs got</th></tr></thead><tbody>'
            )
            for c in self.cases:
                mark = "&#10003;" if c.passed else "&#10007;"
                codes = ", ".join(f"<code>{e(d)}</code>" for d in c.diagnoses)
                parts.append(
                    f"<tr><td>{e(c.name)}</td><td>{mark}</td><td>{codes}</td>"
                    f"<td><pre style='margin:0'>{e(c.message) if not c.passed else ''}</pre>"
                    "</td></tr>"
                )
            parts.append("</tbody></table>")
        hints = self._hints()
        if hints:
            parts.append("<ul>" + "".join(f"<li>{e(h)}</li>" for h in hints) + "</ul>")
        parts.append("</div>")
        return "".join(parts)
