"""The tour's progress on stderr: a line per experiment, steps inside long ones."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["TourProgress", "chapter_heading"]


class TourProgress:
    """Progress of a tour on ``stream``: a line per experiment, steps inside long ones.

    On a terminal each experiment's line is rewritten in place (with a bar for its steps);
    otherwise (CI, ``| tee``) every event is its own plain line, flushed at once.
    """

    BAR = 20

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.enabled = total, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._prefix = ""

    def _line_prefix(self, k: int, name: str) -> str:
        return f"[{k:>{len(str(self.total))}}/{self.total}] {name}"

    def start(self, k: int, name: str) -> None:
        self._prefix = self._line_prefix(k, name)
        self._write(f"{self._prefix} ..." + ("" if self.live else "\n"))

    def started(self, k: int, name: str) -> None:
        """A chapter started elsewhere (the tour's second worker): one plain line."""
        self._write(f"{self._line_prefix(k, name)} ...\n")

    def finished(
        self, k: int, name: str, seconds: float, error: str | None, skipped: Sequence[str]
    ) -> None:
        """A chapter ended elsewhere (the tour's second worker): one plain line."""
        status = self._status(error, skipped)
        self._write(f"{self._line_prefix(k, name)}: {status}, {seconds:.1f} s\n")

    def step(self, done: int, total: int, label: str) -> None:
        """Inside an experiment: ``done`` of ``total`` parts finished, ``label`` runs next."""
        if self.live:
            filled = round(self.BAR * done / max(total, 1))
            bar = "#" * filled + "." * (self.BAR - filled)
            self._write(f"\r\x1b[K{self._prefix} [{bar}] {done}/{total} {label}")
        else:
            pad = " " * (len(str(self.total)) * 2 + 3)
            self._write(f"{pad} {done}/{total} {label}\n")

    @staticmethod
    def _status(error: str | None, skipped: Sequence[str]) -> str:
        if error:
            return f"FAILED ({error})"
        if skipped:
            return "ok; skipped " + "; ".join(skipped)
        return "ok"

    def done(self, seconds: float, error: str | None = None, skipped: Sequence[str] = ()) -> None:
        clear = "\r\x1b[K" if self.live else ""
        self._write(f"{clear}{self._prefix}: {self._status(error, skipped)}, {seconds:.1f} s\n")

    def _write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text)
            self.stream.flush()


def chapter_heading(name: str) -> str:
    """The chapter's number and title for progress lines ('3 · Nonlinearity: fitting a sine')."""
    from ...chapters import chapter

    try:
        return chapter(name).heading
    except ValueError:  # an experiment that is not a chapter of the course
        return name
