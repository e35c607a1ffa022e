"""gradcheck's report: one row per parameter, the verdict, and the sentences a learner reads.

ParamCheck        one parameter's row: entries checked, skipped at kinks, failed; the
                  worst entry (its index, both values, its tolerance)
GradcheckReport   the rows, ``passed``, ``summary()``, ``explanation()``, ``table()``,
                  and JSON-ready ``as_dicts()`` / ``to_dict()`` for a page
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GradcheckReport", "ParamCheck"]

# A JSON-ready row or report: strings, numbers, booleans, lists and None.
JSONDict = dict[str, Any]

REL_FLOOR = 1e-8  # only for the informative relative-error column


@dataclass
class ParamCheck:
    """The result for one parameter (one row of the table).

    ``checked`` entries were compared, ``kinks`` were skipped (they sit on a kink of the
    loss, see ``_gradcheck_kinks``), ``failed`` of the checked ones disagreed.
    ``worst_ratio`` is the largest |a - n| / allowed over the checked entries (<= 1
    agrees); the ``worst_*`` fields describe that entry. ``max_abs_error`` and
    ``max_rel_error`` (|a - n| / max(|a|, |n|, 1e-8)) are shown for reading, not used for
    the verdict.
    """

    name: str
    shape: tuple[int, ...]
    checked: int = 0
    kinks: int = 0
    failed: int = 0
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst_ratio: float = 0.0
    worst_index: tuple[int, ...] | None = None
    worst_analytic: float = 0.0
    worst_numerical: float = 0.0
    worst_allowed: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def record(self, idx: tuple[int, ...], a: float, n: float, allowed: float) -> None:
        err = float(abs(a - n))
        ratio = err / allowed if allowed > 0 else (0.0 if err == 0 else float("inf"))
        self.checked += 1
        self.failed += int(ratio > 1.0)
        self.max_abs_error = max(self.max_abs_error, err)
        self.max_rel_error = max(self.max_rel_error, err / float(max(abs(a), abs(n), REL_FLOOR)))
        if self.worst_index is None or ratio > self.worst_ratio:
            self.worst_ratio, self.worst_index = float(ratio), tuple(int(i) for i in idx)
            self.worst_analytic, self.worst_numerical = float(a), float(n)
            self.worst_allowed = float(allowed)

    def as_dict(self) -> JSONDict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "checked": self.checked,
            "kinks": self.kinks,
            "failed": self.failed,
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "worst_ratio": self.worst_ratio,
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "worst_analytic": self.worst_analytic,
            "worst_numerical": self.worst_numerical,
            "worst_allowed": self.worst_allowed,
            "passed": self.passed,
        }


@dataclass
class GradcheckReport:
    """Per-parameter rows; ``passed`` when no checked entry disagrees.

    ``note`` says what was checked when it is not the caller's own arrays (a float32 model
    is checked on a float64 copy).
    """

    rows: list[ParamCheck] = field(default_factory=list)
    rtol: float = 1e-6
    eps: float = 1e-3
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.rows), default=0.0)

    @property
    def worst_ratio(self) -> float:
        return max((r.worst_ratio for r in self.rows), default=0.0)

    @property
    def checked(self) -> int:
        return sum(r.checked for r in self.rows)

    @property
    def kinks(self) -> int:
        return sum(r.kinks for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    def as_dicts(self) -> list[JSONDict]:
        """One dict per parameter (JSON-ready): the table's row and its verdict."""
        return [r.as_dict() for r in self.rows]

    def to_dict(self) -> JSONDict:
        """The whole report, JSON-ready: verdict, sentence, note, rows."""
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "explanation": self.explanation(),
            "note": self.note,
            "rtol": self.rtol,
            "eps": self.eps,
            "checked": self.checked,
            "kinks": self.kinks,
            "rows": self.as_dicts(),
        }

    def explanation(self) -> str:
        """One sentence saying what failed and where to look; "" when the check passed."""
        failing = [r for r in self.rows if not r.passed]
        if not failing:
            return ""
        r = max(failing, key=lambda row: row.worst_ratio)
        where = ", ".join(map(str, r.worst_index or ())) or "the value"
        others = [row.name for row in failing if row is not r]
        also = f" ({', '.join(others)} also disagree)" if others else ""
        return (
            f"The analytic gradient of {r.name} disagrees with finite differences in "
            f"{r.failed} of {r.checked} checked entries{also}: at [{where}] backward gives "
            f"{r.worst_analytic:.6g} but the loss changes at {r.worst_numerical:.6g} per unit, "
            f"{_times(r.worst_ratio)} more than finite differences can be off here, so the "
            f"backward of the layer holding {r.name}, or of a layer after it, is wrong."
        )

    def table(self) -> str:
        head = ("parameter", "shape", "checked", "kinks", "max |a-n|", "max rel err",
                "err/allowed", "ok")  # fmt: skip
        body = [
            (
                r.name,
                "x".join(map(str, r.shape)) or "scalar",
                str(r.checked),
                str(r.kinks),
                f"{r.max_abs_error:.1e}",
                f"{r.max_rel_error:.1e}",
                f"{r.worst_ratio:.2g}" if r.checked else "-",
                "not checked" if r.checked == 0 else "yes" if r.passed else f"NO ({r.failed})",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if c == 0 else f"{{:>{w}}}" for c, w in enumerate(widths))
        lines = [fmt.format(*head), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        lines += [fmt.format(*row) for row in body]
        lines.append(self.summary())
        if not self.passed:
            lines.append(self.explanation())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the verdict, how much was checked, the worst entry, the settings."""
        unchecked = [r.name for r in self.rows if r.checked == 0]
        if self.passed:
            verdict = (
                f"PASSED: all {self.checked} checked entries agree with finite differences "
                f"(worst at {self.worst_ratio:.2g} of the allowed error)"
            )
        else:
            failed = sum(r.failed for r in self.rows)
            verdict = (
                f"FAILED: {failed} of {self.checked} checked entries disagree with finite "
                f"differences (worst {_times(self.worst_ratio)} the allowed error)"
            )
        line = (
            f"{verdict}; {self.kinks} skipped at kinks; max relative error "
            f"{self.max_rel_error:.1e} (h = {self.eps:.0e}, smaller where needed; "
            f"rtol = {self.rtol:.0e})"
        )
        if unchecked:
            line += f"; not checked at all: {', '.join(unchecked)} (every entry sat on a kink)"
        if self.note:
            line += f"; {self.note}"
        return line

    def __str__(self) -> str:
        return self.table()


def _times(ratio: float) -> str:
    return "infinitely" if not np.isfinite(ratio) else f"{ratio:.3g} times"
